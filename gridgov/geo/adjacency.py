"""Grid adjacency from shared boundaries: neighbours share an edge, not just a corner."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse

from gridgov.geo.crs import to_metric


def adjacency_edges(
    polygons: gpd.GeoSeries, *, min_shared_m: float = 5.0, snap_m: float = 1.0
) -> np.ndarray:
    """(k, 2) index pairs i < j of polygons sharing at least ``min_shared_m`` of boundary.

    ``snap_m`` tolerates the small gaps and slivers of digitised data: boundaries within that
    distance count as shared. A corner touch shares (almost) no length, so it is not an edge.
    """
    geoms = to_metric(polygons).to_numpy()
    if len(geoms) < 2:
        return np.empty((0, 2), dtype=np.int64)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=snap_m)
    keep = left < right
    left, right = left[keep], right[keep]
    boundaries = shapely.boundary(geoms)
    zone = shapely.buffer(boundaries[right], snap_m, quad_segs=2)
    shared = shapely.length(shapely.intersection(boundaries[left], zone))
    # The buffered zone also catches a strip of length ~2*snap_m at a corner touch.
    hit = shared >= max(min_shared_m, 4.0 * snap_m)
    return np.column_stack([left[hit], right[hit]]).astype(np.int64)


def adjacency_matrix(polygons: gpd.GeoSeries, **kwargs: float) -> sparse.csr_matrix:
    """Symmetric boolean CSR adjacency of ``polygons`` (see ``adjacency_edges``)."""
    n = len(polygons)
    edges = adjacency_edges(polygons, **kwargs)
    data = np.ones(2 * len(edges), dtype=bool)
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, n))
