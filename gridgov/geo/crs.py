"""The two coordinate systems: CGCS2000 lon/lat for storage, Gauss-Kruger 114E metres for metric work."""

from __future__ import annotations

from typing import TypeVar

import geopandas as gpd

# Stored geometry is CGCS2000 geographic; CGCS2000 and WGS84 differ by well under a metre,
# far below what grids and homes need, so WGS84 input is relabelled rather than transformed.
STORAGE_CRS = "EPSG:4490"
# CGCS2000 / 3-degree Gauss-Kruger CM 114E: Jiaozuo (112.6E-113.7E) lies in this zone.
METRIC_CRS = "EPSG:4547"

_WGS84_ALIASES = {"EPSG:4326", "OGC:CRS84", "EPSG:4490"}

G = TypeVar("G", gpd.GeoDataFrame, gpd.GeoSeries)


def is_lonlat_wgs84_or_cgcs2000(crs: object) -> bool:
    """True when ``crs`` is CGCS2000 or WGS84 geographic (the two the city's data comes in)."""
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    if not c.is_geographic:
        return False
    auth = c.to_authority(min_confidence=70)
    return auth is not None and f"{auth[0]}:{auth[1]}" in _WGS84_ALIASES


def to_storage(data: G) -> G:
    """Return ``data`` in EPSG:4490 (WGS84 is relabelled; anything else is transformed)."""
    if data.crs is None:
        raise ValueError("data has no CRS; set one before calling to_storage")
    if is_lonlat_wgs84_or_cgcs2000(data.crs):
        return data.set_crs(STORAGE_CRS, allow_override=True)
    return data.to_crs(STORAGE_CRS)


def to_metric(data: G) -> G:
    """Return ``data`` projected to metres (EPSG:4547); the one door to distances and areas."""
    return to_storage(data).to_crs(METRIC_CRS)
