"""WGS84/CGCS2000 → GCJ-02, the offset datum of AMap tiles, for display only (never stored)."""

from __future__ import annotations

from typing import TypeVar

import geopandas as gpd
import numpy as np
import shapely

# Krasovsky 1940 ellipsoid, as the published GCJ-02 algorithm uses it.
_A = 6378245.0
_EE = 0.00669342162296594323

G = TypeVar("G", gpd.GeoDataFrame, gpd.GeoSeries)


def _delta_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _delta_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The published algorithm's rough rectangle: outside it GCJ-02 equals WGS84."""
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def wgs84_to_gcj02(lon: np.ndarray | float, lat: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 (lon, lat) of WGS84 (lon, lat); arrays or scalars, vectorised."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x, y = lon - 105.0, lat - 35.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (_delta_lat(x, y) * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (_delta_lon(x, y) * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def _shift_coords(coords: np.ndarray) -> np.ndarray:
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def shift_geometries(geoms: np.ndarray) -> np.ndarray:
    """Every vertex of an array of lon/lat shapely geometries moved to GCJ-02."""
    return shapely.transform(geoms, _shift_coords)


def to_gcj02(data: G) -> G:
    """A copy of lon/lat ``data`` (EPSG:4490/4326) with every geometry shifted to GCJ-02."""
    shifted = shift_geometries(data.geometry.to_numpy() if isinstance(data, gpd.GeoDataFrame) else data.to_numpy())
    if isinstance(data, gpd.GeoDataFrame):
        return data.set_geometry(gpd.GeoSeries(shifted, index=data.index, crs=data.crs))
    return gpd.GeoSeries(shifted, index=data.index, crs=data.crs)
