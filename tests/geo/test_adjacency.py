"""Adjacency by shared edges on hand-drawn grids: rook neighbours yes, corner touches no."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import Polygon, box

from gridgov.geo.adjacency import adjacency_edges, adjacency_matrix
from gridgov.geo.measure import pairs_within_m, polsby_popper

X0, Y0 = 500_000.0, 3_900_000.0  # metres in EPSG:4547, near Jiaozuo


def _cells(boxes: list[tuple[float, float, float, float]]) -> gpd.GeoSeries:
    geoms = [box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes]
    return gpd.GeoSeries(geoms, crs="EPSG:4547").to_crs("EPSG:4490")


def _lattice(n: int, size: float = 500.0) -> gpd.GeoSeries:
    return _cells([(x * size, y * size, (x + 1) * size, (y + 1) * size) for y in range(n) for x in range(n)])


def test_three_by_three_has_twelve_rook_edges():
    edges = {tuple(e) for e in adjacency_edges(_lattice(3)).tolist()}
    expected = {(0, 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8), (0, 3), (3, 6), (1, 4), (4, 7), (2, 5), (5, 8)}
    assert edges == expected  # no diagonals: 0-4, 2-4 … touch only at a corner


def test_small_gap_is_bridged_but_a_real_gap_is_not():
    near = _cells([(0, 0, 500, 500), (500.4, 0, 1000, 500)])  # 0.4 m digitising gap
    far = _cells([(0, 0, 500, 500), (530, 0, 1000, 500)])  # a 30 m road between them
    assert adjacency_edges(near).tolist() == [[0, 1]]
    assert adjacency_edges(far).tolist() == []


def test_short_shared_edge_below_threshold_is_not_adjacency():
    touching = _cells([(0, 0, 500, 500), (500, 497, 1000, 1000)])  # share 3 m of edge
    assert adjacency_edges(touching, min_shared_m=5.0).tolist() == []
    assert adjacency_edges(touching, min_shared_m=2.0, snap_m=0.1).tolist() == [[0, 1]]


def test_matrix_is_symmetric():
    m = adjacency_matrix(_lattice(3))
    assert (m != m.T).nnz == 0
    assert m.sum() == 24
    assert m[4].sum() == 4  # the centre cell has four neighbours


def test_polsby_popper_of_square_and_strip():
    assert np.isclose(polsby_popper(box(0, 0, 1, 1)), np.pi / 4)
    assert polsby_popper(box(0, 0, 100, 1)) < 0.04
    assert polsby_popper(Polygon()) == 0.0


def test_pairs_within_radius():
    origins = np.array([[0.0, 0.0], [1000.0, 0.0]])
    targets = np.array([[0.0, 100.0], [0.0, 2000.0], [900.0, 0.0]])
    rows, cols = pairs_within_m(origins, targets, 500.0)
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(0, 0), (1, 2)]
