"""Hotspots on a hand-drawn lattice: counts by type and window, points outside grids, a planted Gi* cluster."""

from __future__ import annotations

from datetime import date

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pytest
from shapely.geometry import Point, box

from gridgov.geo.adjacency import adjacency_matrix
from gridgov.geo.hotspots import (
    classify,
    count_incidents,
    filter_incidents,
    gi_star,
    grid_gi_star,
    heat_points,
    kernel_density,
    star_weights,
)

X0, Y0 = 500_000.0, 3_900_000.0  # metres in EPSG:4547, near Jiaozuo
N = 8  # an 8 × 8 lattice of 500 m grids
CELL = 500.0
PLANTED = [y * N + x for y in (3, 4, 5) for x in (3, 4, 5)]  # a 3 × 3 block in the middle


def _lattice() -> gpd.GeoDataFrame:
    cells = [box(X0 + x * CELL, Y0 + y * CELL, X0 + (x + 1) * CELL, Y0 + (y + 1) * CELL) for y in range(N) for x in range(N)]
    codes = [f"G{i:02d}" for i in range(N * N)]
    return gpd.GeoDataFrame({"code": codes}, geometry=cells, crs="EPSG:4547").to_crs("EPSG:4490")


def _points_in(cell: int, k: int, rng: np.random.Generator) -> list[Point]:
    x, y = cell % N, cell // N
    # Keep 10 m off the edges so no generated point sits on a boundary.
    u = rng.uniform(10, CELL - 10, size=(k, 2))
    return [Point(X0 + x * CELL + a, Y0 + y * CELL + b) for a, b in u]


def _incidents() -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Background 邻里 all year (0–3 per grid) and a planted 劳动争议 cluster in March–May 2025."""
    rng = np.random.default_rng(7)
    rows: list[dict] = []
    background = rng.integers(0, 4, N * N)
    labour = rng.integers(0, 2, N * N)  # a little labour noise everywhere, in the window
    labour[PLANTED] += 12
    for cell in range(N * N):
        for k, p in enumerate(_points_in(cell, int(background[cell]), rng)):
            rows.append({"type": "邻里", "date": date(2025, 1 + (cell + k) % 12, 10), "geometry": p})
        for p in _points_in(cell, int(labour[cell]), rng):
            rows.append({"type": "劳动争议", "date": date(2025, 3 + int(rng.integers(0, 3)), 15), "geometry": p})
    # Out of the window (a year earlier): must not count in 2025.
    for p in _points_in(0, 5, rng):
        rows.append({"type": "劳动争议", "date": date(2024, 4, 1), "geometry": p})
    # Three points beyond the lattice and one with no location.
    for dx in (-200.0, N * CELL + 300, N * CELL + 900):
        rows.append({"type": "劳动争议", "date": date(2025, 4, 2), "geometry": Point(X0 + dx, Y0 + 100)})
    rows.append({"type": "邻里", "date": date(2025, 4, 2), "geometry": None})
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4547").to_crs("EPSG:4490")
    frame["incident_id"] = [f"I{i:04d}" for i in range(len(frame))]
    return frame, background, labour


def test_counts_by_type_and_window_and_points_outside():
    grids = _lattice()
    incidents, background, labour = _incidents()
    counts = count_incidents(incidents, grids, types=["劳动争议", "邻里"], start=date(2025, 1, 1), end=date(2025, 12, 31))
    assert counts.grid_codes == tuple(grids["code"])
    assert counts.of(["劳动争议"]).tolist() == labour.tolist()
    assert counts.of(["邻里"]).tolist() == background.tolist()
    assert counts.outside == 3 and counts.outside_by_type == {"劳动争议": 3}
    assert counts.unlocated == 1

    spring = count_incidents(incidents, grids, types=["劳动争议"], months=["2025-03", "2025-04", "2025-05"])
    assert spring.total.sum() == labour.sum()
    old = count_incidents(incidents, grids, types=["劳动争议"], end=date(2024, 12, 31))
    assert old.total.tolist() == [5] + [0] * (N * N - 1)
    assert old.outside == 0


def test_point_on_a_shared_edge_is_counted_once():
    grids = _lattice()
    edge = gpd.GeoDataFrame(
        {"type": ["邻里"], "date": [date(2025, 6, 1)]},
        geometry=[Point(X0 + CELL, Y0 + 250)], crs="EPSG:4547",
    ).to_crs("EPSG:4490")
    counts = count_incidents(edge, grids, types=["邻里"])
    assert counts.total.sum() == 1 and counts.outside == 0


def test_filter_by_type_and_dates():
    incidents, _, _ = _incidents()
    some = filter_incidents(incidents, types=["邻里"], start=date(2025, 2, 1), end=date(2025, 2, 28))
    assert set(some["type"]) == {"邻里"}
    assert all(date(2025, 2, 1) <= d <= date(2025, 2, 28) for d in some["date"])


def test_planted_cluster_is_the_99_percent_hot_spot():
    grids = _lattice()
    incidents, _, _ = _incidents()
    counts = count_incidents(incidents, grids, types=["劳动争议"], start=date(2025, 3, 1), end=date(2025, 5, 31))
    gi = grid_gi_star(grids, counts.total.astype(float))
    assert sorted(gi.hot(99).tolist()) == PLANTED
    assert gi.cold(90).size == 0 or not set(gi.cold(90)) & set(PLANTED)
    assert np.all(gi.p[PLANTED] < 0.01)


def test_gi_star_equals_esda():
    grids = _lattice()
    incidents, _, _ = _incidents()
    values = count_incidents(incidents, grids, types=["劳动争议", "邻里"]).total.astype(float)
    adjacency = adjacency_matrix(grids.geometry)
    ours = gi_star(values, star_weights(adjacency))
    w = libpysal.weights.WSP(adjacency.astype(float).tocsr()).to_W(silence_warnings=True)
    theirs = esda.G_Local(values, w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(ours.z, theirs.Zs, rtol=1e-9, atol=1e-9)
    # esda's p_norm is one-sided; ours is the two-sided normal p-value.
    np.testing.assert_allclose(ours.p, 2 * theirs.p_norm, rtol=1e-9, atol=1e-12)


def test_no_variation_gives_zero_z():
    grids = _lattice()
    gi = grid_gi_star(grids, np.full(N * N, 3.0))
    assert np.all(gi.z == 0) and np.all(gi.level == 0)


def test_classify_thresholds():
    z = np.array([3.0, 2.0, 1.7, 1.0, -1.7, -2.0, -3.0])
    assert classify(z).tolist() == [99, 95, 90, 0, -90, -95, -99]


def test_kernel_density_integrates_to_the_count_and_peaks_on_the_cluster():
    rng = np.random.default_rng(3)
    pts = rng.normal(0.0, 100.0, size=(200, 2)) + [X0 + 2000, Y0 + 2000]
    grid = kernel_density(pts, bandwidth_m=300.0, cell_m=50.0)
    mass = grid.values.sum() * (grid.cell_m / 1000) ** 2  # per km² × km² per cell
    assert mass == pytest.approx(200, rel=0.01)
    iy, ix = np.unravel_index(np.argmax(grid.values), grid.values.shape)
    assert abs(grid.x[ix] - (X0 + 2000)) < 150 and abs(grid.y[iy] - (Y0 + 2000)) < 150


def test_heat_points_are_lat_lon_weights_peaking_in_the_cluster():
    grids = _lattice()
    incidents, _, _ = _incidents()
    heat = heat_points(incidents, types=["劳动争议"], start=date(2025, 3, 1), end=date(2025, 5, 31))
    assert heat and all(0 < w <= 1 for _, _, w in heat)
    lat, lon, _ = max(heat, key=lambda t: t[2])
    cluster = grids.iloc[PLANTED].union_all()
    assert cluster.buffer(0.002).contains(Point(lon, lat))  # ~200 m in degrees
    assert 30 < lat < 40 and 110 < lon < 116  # lat first, in degrees, near Jiaozuo
    assert heat_points(incidents, types=["劳动争议"], start=date(2030, 1, 1)) == []
