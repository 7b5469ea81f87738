"""Valid polygons: make_valid keeping only the polygonal parts, as MultiPolygons."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry


def repaired_polygon(geom: BaseGeometry) -> BaseGeometry:
    """``geom`` made valid, its lines and points (slivers collapsed by make_valid) dropped; an
    empty Polygon when nothing polygonal is left."""
    parts = [p for p in shapely.get_parts(shapely.make_valid(geom))
             if isinstance(p, (Polygon, MultiPolygon)) and not p.is_empty]
    if not parts:
        return Polygon()
    merged = shapely.union_all(parts)
    return MultiPolygon([merged]) if isinstance(merged, Polygon) else merged


def valid_polygons(geoms: np.ndarray) -> np.ndarray:
    """The invalid ones of ``geoms`` repaired (see ``repaired_polygon``), the valid ones as they are.
    Reprojecting a valid polygon can make it invalid (two vertices a few millimetres apart cross
    after rounding), and a store must accept back what it exported."""
    out = np.asarray(geoms, dtype=object).copy()
    for i in np.flatnonzero(~shapely.is_valid(out)):
        out[i] = repaired_polygon(out[i])
    return out
