"""Metric measures: distances between homes and grids, areas, and territory compactness."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree

from gridgov.geo.crs import to_metric


def anchor_points_m(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """(n, 2) metric x/y of each geometry's representative point (always inside a polygon)."""
    geoms = to_metric(frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame)
    pts = shapely.point_on_surface(geoms.to_numpy())
    return shapely.get_coordinates(pts)


def distance_matrix_m(origins: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(n_origins, n_targets) straight-line metres between metric x/y arrays."""
    diff = origins[:, None, :] - targets[None, :, :]
    return np.sqrt((diff**2).sum(axis=2))


def pairs_within_m(origins: np.ndarray, targets: np.ndarray, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (origin, target) of the pairs closer than ``radius_m`` (KD-tree, no dense matrix)."""
    hits = cKDTree(targets).query_ball_point(origins, r=radius_m)
    rows = np.repeat(np.arange(len(origins)), [len(h) for h in hits])
    cols = np.fromiter((j for h in hits for j in h), dtype=np.int64, count=int(rows.size))
    return rows, cols


def polsby_popper(geom: shapely.Geometry) -> float:
    """4πA/P²: 1 for a disc, near 0 for a snake; measured on a metric geometry."""
    perimeter = geom.length
    return 0.0 if perimeter == 0 else 4.0 * math.pi * geom.area / perimeter**2


def uncovered_m2(area: gpd.GeoSeries, parts: gpd.GeoSeries, *, min_width_m: float = 10.0) -> tuple[float, float]:
    """(square metres of ``area`` that no geometry of ``parts`` covers, the area's own square
    metres); gaps narrower than ``min_width_m`` do not count: boundaries drawn from two sources
    (a ward's and its grids') leave slivers along every shared edge."""
    whole = shapely.union_all(to_metric(area).to_numpy())
    covered = shapely.union_all(to_metric(parts).to_numpy()) if len(parts) else shapely.Polygon()
    gap = shapely.difference(whole, covered)
    # An opening (shrink, then grow back) removes what is narrower than min_width_m.
    wide = shapely.buffer(shapely.buffer(gap, -min_width_m / 2, join_style="mitre"), min_width_m / 2, join_style="mitre")
    return float(shapely.area(shapely.intersection(wide, gap))), float(shapely.area(whole))
