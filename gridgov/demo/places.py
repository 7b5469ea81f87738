"""Named places of the demo city (centres, county seats, industrial parks, road corridors) in metres."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import shapely

from gridgov.geo.crs import STORAGE_CRS, to_metric

# Urban kernels of the population surface: (lon, lat, sigma km, people). The old city centre is
# at about 113.24E 35.22N; 示范区's new town lies south-east of it; county seats are approximate.
URBAN_KERNELS: tuple[tuple[float, float, float, float], ...] = (
    (113.232, 35.228, 2.2, 200_000),  # 解放区 / 山阳区 old centre
    (113.212, 35.248, 1.8, 90_000),   # 解放区 north
    (113.262, 35.218, 2.2, 120_000),  # 山阳区 east
    (113.200, 35.205, 2.0, 50_000),   # 解放区 / 山阳区 south-west
    (113.160, 35.250, 2.2, 70_000),   # 中站区
    (113.330, 35.262, 2.2, 60_000),   # 马村区
    (113.268, 35.178, 2.5, 90_000),   # 示范区 new town
    (113.447, 35.226, 1.8, 80_000),   # 修武县 城关镇
    (113.064, 35.172, 1.8, 100_000),  # 博爱县
    (113.402, 35.098, 2.2, 150_000),  # 武陟县
    (113.080, 34.942, 2.0, 120_000),  # 温县
    (112.946, 35.088, 2.2, 150_000),  # 沁阳市
    (112.790, 34.908, 2.2, 120_000),  # 孟州市
)

# Commercial centres (where 消费/合同/医疗 disputes cluster): the old centre and the county seats.
COMMERCE: tuple[tuple[float, float], ...] = (
    (113.232, 35.228), (113.214, 35.245), (113.262, 35.216), (113.268, 35.178),
    (113.447, 35.226), (113.064, 35.172), (113.402, 35.098), (113.080, 34.942),
    (112.946, 35.088), (112.790, 34.908),
)

# Industrial parks: (name, lon, lat). 劳动争议 and 环境污染 cluster around them.
PARKS: tuple[tuple[str, float, float], ...] = (
    ("焦作西部工业集聚区", 113.135, 35.240),
    ("马村区工业园", 113.352, 35.250),
    ("焦作高新技术产业开发区", 113.300, 35.170),
    ("修武县产业集聚区", 113.420, 35.210),
    ("博爱县产业集聚区", 113.090, 35.158),
    ("武陟县产业集聚区", 113.365, 35.110),
    ("温县产业集聚区", 113.105, 34.955),
    ("沁阳市产业集聚区", 112.980, 35.070),
    ("孟州市产业集聚区", 112.815, 34.895),
)

# Main road corridors (polylines of lon/lat) where 道路交通事故 cluster.
ROADS: tuple[tuple[tuple[float, float], ...], ...] = (
    ((113.232, 35.228), (113.330, 35.150), (113.402, 35.098), (113.450, 34.990), (113.480, 34.930)),
    ((113.232, 35.228), (113.150, 35.200), (113.064, 35.172), (112.946, 35.088), (112.860, 34.990),
     (112.790, 34.908)),
    ((113.120, 35.245), (113.232, 35.228), (113.330, 35.262), (113.447, 35.226), (113.520, 35.200)),
    ((112.946, 35.088), (113.080, 34.942), (113.250, 35.010), (113.402, 35.098)),
)

# The ridge of the Taihang foothills: north of it the land is mountainous and sparsely settled.
RIDGE: tuple[tuple[float, float], ...] = (
    (112.70, 35.16), (112.95, 35.19), (113.10, 35.255), (113.20, 35.29), (113.35, 35.30),
    (113.48, 35.29), (113.60, 35.28),
)

# 示范区's six township units lie in the south of 山阳区 (its real territory is south-east of the
# old city): the zone is the part of 山阳区 south of this line, which leaves both in one piece.
DEMO_ZONE_CUT: tuple[tuple[float, float], tuple[float, float]] = ((113.05, 35.21), (113.40, 35.18))

def lonlat_to_metric(lonlat: np.ndarray) -> np.ndarray:
    """(n, 2) lon/lat → (n, 2) metres in the metric CRS."""
    pts = gpd.GeoSeries(shapely.points(np.asarray(lonlat, dtype=float)), crs=STORAGE_CRS)
    return shapely.get_coordinates(to_metric(pts).to_numpy())


@dataclass(frozen=True)
class Places:
    """Every named place of the demo, projected once."""

    kernels_xy: np.ndarray     # (k, 2) metres
    kernels_sigma: np.ndarray  # (k,) metres
    kernels_mass: np.ndarray   # (k,) people
    commerce_xy: np.ndarray
    parks_xy: np.ndarray
    park_names: tuple[str, ...]
    roads: tuple[shapely.LineString, ...]
    ridge: shapely.LineString


@lru_cache(maxsize=1)
def places() -> Places:
    """The projected places (cached: they never change)."""
    kernels = np.array(URBAN_KERNELS)
    return Places(
        kernels_xy=lonlat_to_metric(kernels[:, :2]),
        kernels_sigma=kernels[:, 2] * 1000.0,
        kernels_mass=kernels[:, 3],
        commerce_xy=lonlat_to_metric(np.array(COMMERCE)),
        parks_xy=lonlat_to_metric(np.array([p[1:] for p in PARKS])),
        park_names=tuple(p[0] for p in PARKS),
        roads=tuple(shapely.LineString(lonlat_to_metric(np.array(r))) for r in ROADS),
        ridge=shapely.LineString(lonlat_to_metric(np.array(RIDGE))),
    )
