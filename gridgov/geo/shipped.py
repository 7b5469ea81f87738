"""Access to the Jiaozuo reference data shipped in geodata/ (see geodata/README.md for provenance)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gridgov.geo.crs import STORAGE_CRS

# County-level codes by name; the source polygons carry names only.
COUNTY_CODES: dict[str, str] = {
    "解放区": "410802", "中站区": "410803", "马村区": "410804", "山阳区": "410811",
    "修武县": "410821", "博爱县": "410822", "武陟县": "410823", "温县": "410825",
    "沁阳市": "410882", "孟州市": "410883",
}
# 焦作城乡一体化示范区: a statistical unit managing six township units that lie in 山阳区.
DEMO_ZONE_CODE = "410871"
DEMO_ZONE_NAME = "焦作城乡一体化示范区"
COUNTY_NAMES: dict[str, str] = {**{v: k for k, v in COUNTY_CODES.items()}, DEMO_ZONE_CODE: DEMO_ZONE_NAME}


def geodata_path(name: str) -> Path:
    """Path of a shipped file; works from a checkout and from an installed wheel."""
    return Path(str(resources.files("gridgov.geodata").joinpath(name)))


@lru_cache(maxsize=1)
def load_districts() -> gpd.GeoDataFrame:
    """The 10 real county-level polygons with their codes, in EPSG:4490."""
    gdf = gpd.read_file(geodata_path("jiaozuo_districts.geojson"))
    gdf = gdf.rename(columns={"district": "name"})
    gdf["code"] = gdf["name"].map(COUNTY_CODES)
    return gdf[["code", "name", "geometry"]].set_crs(STORAGE_CRS, allow_override=True)


@lru_cache(maxsize=1)
def load_city() -> gpd.GeoDataFrame:
    """The city outline, in EPSG:4490."""
    return gpd.read_file(geodata_path("jiaozuo_city.geojson")).set_crs(STORAGE_CRS, allow_override=True)


@lru_cache(maxsize=1)
def load_townships() -> pd.DataFrame:
    """The 112 township-level units: code (9 digits), name, county_code."""
    df = pd.read_csv(geodata_path("jiaozuo_townships.csv"), dtype=str)
    return df.rename(columns={"areaCode": "county_code"})[["code", "name", "county_code"]]


@lru_cache(maxsize=1)
def load_villages() -> pd.DataFrame:
    """The 2,024 villages / residents' committees: code (12 digits), name, ward_code."""
    df = pd.read_csv(geodata_path("jiaozuo_villages.csv"), dtype=str)
    return df.rename(columns={"streetCode": "ward_code"})[["code", "name", "ward_code"]]


def city_extent(margin_deg: float = 0.05) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of the city, widened by ``margin_deg``."""
    minx, miny, maxx, maxy = load_city().total_bounds
    return (minx - margin_deg, miny - margin_deg, maxx + margin_deg, maxy + margin_deg)
