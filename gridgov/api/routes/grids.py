"""Grids as GeoJSON, with the worker holding each in the published plan."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter

from gridgov.api.deps import ScopeDep, StoreDep
from gridgov.api.errors import not_visible
from gridgov.api.routes.geo import GeoJSONResponse, feature_collection
from gridgov.plans.versions import plan_assignment, published_plan

router = APIRouter(prefix="/grids", tags=["grids"])
_COLUMNS = ["code", "ward_code", "name", "kind", "households", "population", "worker_id", "worker_name"]


def _with_workers(store, grids):
    plan = published_plan(store)
    held = plan_assignment(store, int(plan["plan_id"])) if plan else {}
    # Lists, not the column: pandas turns None into NaN in a column, and NaN is neither a
    # worker id nor falsy (an uncovered grid made this route fail).
    holders = [held.get(g) for g in grids["code"]]
    ids = sorted({w for w in holders if w})
    workers = store.load("workers", where={"worker_id": ids}) if ids else None
    names = {} if workers is None else dict(zip(workers["worker_id"], workers["name"]))
    grids = grids.copy()
    grids["worker_id"] = pd.Series(holders, index=grids.index, dtype=object)
    grids["worker_name"] = pd.Series([names.get(w) for w in holders], index=grids.index, dtype=object)
    return grids


@router.get("", response_class=GeoJSONResponse)
def grids(store: StoreDep, scope: ScopeDep, ward: str | None = None) -> GeoJSONResponse:
    """网格 GeoJSON（可按街道筛选；街道用户只见本街道）/ grids, optionally of one ward."""
    codes = scope.ward_filter(ward, store=store)
    rows = store.load("grids", where=None if codes is None else {"ward_code": codes})
    return GeoJSONResponse(feature_collection(_with_workers(store, rows), _COLUMNS))


@router.get("/{code}", response_class=GeoJSONResponse)
def grid(code: str, store: StoreDep, scope: ScopeDep) -> GeoJSONResponse:
    """一个网格 / one grid as a Feature (404 if outside the caller's wards)."""
    rows = store.load("grids", where={"code": code})
    if rows.empty or not scope.allows(rows.iloc[0]["ward_code"]):
        raise not_visible(f"网格 {code} ", f"grid {code}")
    return GeoJSONResponse(feature_collection(_with_workers(store, rows), _COLUMNS)["features"][0])
