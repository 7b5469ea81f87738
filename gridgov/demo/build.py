"""The seeded Jiaozuo demo: every layer generated in metres, returned as EPSG:4490 GeoDataFrames."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgov import schema
from gridgov.demo.grids import build_grids, is_community
from gridgov.demo.incidents import build_incidents
from gridgov.demo.population import build_surface
from gridgov.demo.roster import build_roster
from gridgov.demo.sites import build_sites
from gridgov.demo.wards import build_territory, split_demo_zone
from gridgov.geo.crs import METRIC_CRS, STORAGE_CRS, to_metric
from gridgov.geo.shipped import COUNTY_NAMES, load_districts, load_townships, load_villages
from gridgov.geo.validity import valid_polygons

Progress = Callable[[str], None]

# Independent random streams per stage: changing how workers are drawn leaves the map alone.
_STREAMS = ("surface", "wards", "grids", "workers", "incidents", "sites")


@dataclass(frozen=True)
class DemoData:
    """The six demo layers, each with exactly its schema columns plus ``geometry``, in EPSG:4490."""

    counties: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    workers: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Layer name → frame, in the order they depend on each other."""
        return {name: getattr(self, name) for name in ("counties", "wards", "grids", "workers", "incidents", "sites")}


def check_scale(scale: float) -> None:
    """Refuse a demo size outside (0, 10] (a UserError: checked before any store is opened)."""
    if not 0 < scale <= 10:
        from gridgov.errors import UserError

        raise UserError(f"--scale 应大于 0、不超过 10（1.0 = 全市），收到 {scale:g}",
                        f"--scale must be more than 0 and at most 10 (1.0 = the whole city), got {scale:g}")


def generate_demo(*, seed: int = 2026, scale: float = 1.0, progress: Progress | None = None) -> DemoData:
    """Generate the demo; the same ``seed`` and ``scale`` always give the same data.

    ``scale`` shrinks grids, workers, incidents and sites (e.g. 0.1 → ~10%); the 11 counties and
    112 wards are the same at every scale.
    """
    check_scale(scale)
    say = progress or (lambda _msg: None)
    rng = {name: np.random.default_rng([seed, i]) for i, name in enumerate(_STREAMS)}
    districts = to_metric(load_districts())
    townships = load_townships().sort_values("code", ignore_index=True)
    villages = load_villages().sort_values("code", ignore_index=True)
    c_codes, c_geoms = split_demo_zone(districts["code"].to_numpy(), districts["geometry"].to_numpy())
    say("人口分布 / population surface")
    surface = build_surface(c_geoms, _rural_villages(c_codes, villages), rng=rng["surface"])
    say("街道/乡镇 / wards")
    territory = build_territory(c_codes, c_geoms, townships, surface, rng=rng["wards"])
    say("网格 / grids")
    grids = build_grids(territory, villages, surface, scale=scale, rng=rng["grids"])
    say("劳模 / workers")
    ward_names = dict(zip(territory.ward_codes, [_local_name(n) for n in territory.ward_names]))
    workers, homes = build_roster(grids, ward_names, scale=scale, rng=rng["workers"])
    say("矛盾纠纷 / incidents")
    incidents, incident_xy = build_incidents(territory, grids, scale=scale, rng=rng["incidents"])
    say("工作室站点 / studio sites")
    sites, site_xy = build_sites(territory, grids, workers, scale=scale, rng=rng["sites"])
    return DemoData(
        counties=_frame(schema.COUNTIES, pd.DataFrame({
            "code": territory.county_codes, "name": [COUNTY_NAMES[c] for c in territory.county_codes],
        }), territory.county_geoms),
        wards=_frame(schema.WARDS, pd.DataFrame({
            "code": territory.ward_codes, "name": territory.ward_names, "county_code": territory.ward_county,
        }), territory.ward_geoms),
        grids=_frame(schema.GRIDS, grids.frame, grids.geoms),
        workers=_frame(schema.WORKERS, workers, shapely.points(homes)),
        incidents=_frame(schema.INCIDENTS, incidents, shapely.points(incident_xy)),
        sites=_frame(schema.SITES, sites, shapely.points(site_xy)),
    )


def _rural_villages(c_codes: np.ndarray, villages: pd.DataFrame) -> np.ndarray:
    """Villagers' committees per county: they texture the countryside of the population surface."""
    rural = ~villages["name"].map(is_community)
    county = villages["ward_code"].str[:6]
    return np.array([int((rural & (county == c)).sum()) for c in c_codes])


def _local_name(ward_name: str) -> str:
    """'博爱县柏山镇' → '柏山镇': 博爱县's township names repeat the county."""
    for county in COUNTY_NAMES.values():
        if ward_name.startswith(county) and len(ward_name) > len(county):
            return ward_name[len(county):]
    return ward_name


def _frame(layer: schema.Layer, attrs: pd.DataFrame, geoms: np.ndarray) -> gpd.GeoDataFrame:
    """The layer's columns in schema order, the metric geometry reprojected to storage."""
    metric = gpd.GeoSeries(geoms, crs=METRIC_CRS)
    data = attrs[layer.column_names].reset_index(drop=True)
    stored = metric.to_crs(STORAGE_CRS).to_numpy()
    if layer.geometry == "MULTIPOLYGON":
        stored = valid_polygons(stored)
    return gpd.GeoDataFrame(data, geometry=stored, crs=STORAGE_CRS)
