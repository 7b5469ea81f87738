"""What a map shows, read once from the store: grids with their plan's workers, outlines, homes, studios."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from gridgov.errors import NotFoundError
from gridgov.geo.adjacency import adjacency_edges
from gridgov.plans.versions import get_plan, published_plan
from gridgov.store import SqlStore


@dataclass(frozen=True)
class Studio:
    """One studio of a studio plan, as far as its summary tells (fields may be missing)."""

    site_id: str
    name: str
    lon: float
    lat: float
    types: tuple[str, ...]
    staff: tuple[str, ...]  # worker ids
    catchment: tuple[str, ...]  # grid codes it serves
    existing: bool


@dataclass
class Scene:
    """Store rows for one map, geometry in EPSG:4490; ``edges`` index pairs into ``grids``."""

    grids: gpd.GeoDataFrame  # + worker_id, reason
    wards: gpd.GeoDataFrame
    counties: gpd.GeoDataFrame
    workers: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    plan: dict[str, Any] | None
    edges: np.ndarray
    studios: list[Studio] = field(default_factory=list)
    ward: dict[str, Any] | None = None


def _none_if_na(value: Any) -> Any:
    return None if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)) else value


def resolve_plan(store: SqlStore, plan_id: int | None) -> dict[str, Any] | None:
    """The grid plan ``plan_id``, or the published grid plan (None when there is none)."""
    return get_plan(store, plan_id, kind="grid") if plan_id is not None else published_plan(store, kind="grid")


def _ward_row(store: SqlStore, ward: str) -> dict[str, Any]:
    wards = store.load("wards", where={"code": ward})
    if wards.empty:
        raise NotFoundError(f"没有代码为 {ward} 的街道/乡镇", f"no ward with code {ward}")
    return wards.iloc[0].to_dict()


def with_assignment(grids: gpd.GeoDataFrame, store: SqlStore, plan: dict[str, Any] | None) -> gpd.GeoDataFrame:
    """``grids`` plus the plan's ``worker_id`` and ``reason`` per grid (None without a plan)."""
    grids = grids.copy()
    if plan is None:
        grids["worker_id"], grids["reason"], grids["in_plan"] = None, None, False
        return grids
    rows = store.load("assignments", where={"plan_id": int(plan["plan_id"])})
    worker = dict(zip(rows["grid_code"], rows["worker_id"]))
    reason = dict(zip(rows["grid_code"], rows["reason"]))
    grids["worker_id"] = [_none_if_na(worker.get(c)) for c in grids["code"]]
    grids["reason"] = [_none_if_na(reason.get(c)) for c in grids["code"]]
    grids["in_plan"] = grids["code"].isin(worker.keys())
    return grids


def _shown_workers(store: SqlStore, grids: gpd.GeoDataFrame, ward: str | None) -> gpd.GeoDataFrame:
    """Workers holding a shown grid, plus active workers living in the shown area."""
    workers = store.load("workers")
    holding = set(grids["worker_id"].dropna())
    at_home = workers["status"].fillna("active").eq("active")
    if ward is not None:
        at_home &= workers["home_ward"].eq(ward)
    keep = workers["worker_id"].isin(holding) | at_home
    return workers[keep & workers.geometry.notna()]


def _incidents(store: SqlStore, ward_geom: Any | None) -> gpd.GeoDataFrame:
    incidents = store.load("incidents")
    incidents = incidents[incidents.geometry.notna()]
    if ward_geom is not None:
        incidents = incidents[incidents.within(ward_geom)]
    return incidents


def _with_removed(store: SqlStore, grids: gpd.GeoDataFrame, plan: dict[str, Any] | None,
                  ward: str | None) -> gpd.GeoDataFrame:
    """``grids`` plus those the plan holds that were removed since (an older plan's map shows what
    it assigned; their shapes as the ledger recorded them)."""
    if plan is None:
        return grids
    from gridgov.plans.versions import plan_assignment, removed_grids

    gone = set(plan_assignment(store, int(plan["plan_id"]))) - set(grids["code"])
    removed = removed_grids(store, gone)
    if ward is not None:
        removed = removed[removed["ward_code"] == ward] if "ward_code" in removed else removed.iloc[0:0]
    removed = removed[removed.geometry.notna()]
    if removed.empty:
        return grids
    return pd.concat([grids, removed[[c for c in grids.columns if c in removed.columns]]], ignore_index=True)


def load_scene(store: SqlStore, *, plan_id: int | None = None, ward: str | None = None) -> Scene:
    """Everything the coverage map draws for the city, or for one ward."""
    plan = resolve_plan(store, plan_id)
    ward_row = _ward_row(store, ward) if ward is not None else None
    grids = _with_removed(store, store.load("grids", where={"ward_code": ward} if ward else None), plan, ward)
    grids = with_assignment(grids, store, plan).reset_index(drop=True)
    wards = store.load("wards", where={"code": ward} if ward else None)
    county_where = {"code": ward_row["county_code"]} if ward_row else None
    return Scene(
        grids=grids, wards=wards, counties=store.load("counties", where=county_where),
        workers=_shown_workers(store, grids, ward),
        incidents=_incidents(store, ward_row["geometry"] if ward_row else None),
        plan=plan, edges=adjacency_edges(grids.geometry) if len(grids) else np.empty((0, 2), np.int64),
        studios=load_studios(store, ward_grids=grids if ward else None),
        ward=ward_row,
    )


def _catchments(summary: dict[str, Any]) -> dict[str, set[str]]:
    """site id -> grid codes it serves, from the summary's ``served`` {group: {grid: site}}."""
    out: dict[str, set[str]] = {}
    served = summary.get("served") or {}
    for mapping in served.values() if isinstance(served, dict) else ():
        for grid, site in (mapping or {}).items():
            out.setdefault(str(site), set()).add(str(grid))
    return out


def _studio(entry: dict[str, Any], catchment: dict[str, set[str]], sites: dict[str, Any]) -> Studio | None:
    site_id = str(entry.get("site_id", ""))
    lon, lat = entry.get("lon"), entry.get("lat")
    if (lon is None or lat is None) and site_id in sites:
        lon, lat = sites[site_id].x, sites[site_id].y
    if lon is None or lat is None:
        return None  # nowhere to draw it
    staff = tuple(str(s["worker_id"] if isinstance(s, dict) else s) for s in entry.get("staff") or ())
    return Studio(
        site_id=site_id, name=str(entry.get("name") or site_id), lon=float(lon), lat=float(lat),
        types=tuple(entry.get("types") or ()), staff=staff,
        catchment=tuple(sorted(catchment.get(site_id, ()))), existing=bool(entry.get("existing", False)),
    )


def load_studios(store: SqlStore, *, ward_grids: gpd.GeoDataFrame | None = None) -> list[Studio]:
    """Studios of the published studio plan (none when there is no such plan).

    Reads the plan summary written by gridgov.plans.studios: ``studios`` (site_id, name, lon,
    lat, types, staff, existing) and ``served`` ({types: {grid: site_id}}). Missing keys are
    tolerated. With ``ward_grids`` only studios serving one of those grids or standing on one are kept.
    """
    plan = published_plan(store, kind="studio")
    summary = (plan or {}).get("summary") or {}
    entries = summary.get("studios") or []
    if not entries:
        return []
    sites = store.load("sites")
    site_points = dict(zip(sites["site_id"], sites.geometry)) if len(sites) else {}
    catchment = _catchments(summary)
    studios = [s for e in entries if isinstance(e, dict) and (s := _studio(e, catchment, site_points))]
    if ward_grids is not None:
        codes, area = set(ward_grids["code"]), ward_grids.geometry.union_all()
        studios = [s for s in studios if set(s.catchment) & codes or area.covers(Point(s.lon, s.lat))]
    return studios


def worker_grids(grids: pd.DataFrame) -> dict[str, list[str]]:
    """worker id -> the codes of the shown grids they hold."""
    out: dict[str, list[str]] = {}
    for code, worker in zip(grids["code"], grids["worker_id"]):
        if worker is not None:
            out.setdefault(worker, []).append(code)
    return out

