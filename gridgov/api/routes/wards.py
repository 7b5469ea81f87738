"""Wards: list, outlines as GeoJSON, one ward, its published assignments."""

from __future__ import annotations

from fastapi import APIRouter

from gridgov.api.deps import ScopeDep, StoreDep
from gridgov.api.models import AssignmentOut, PublishedOut, WardOut, clean
from gridgov.api.routes.geo import GeoJSONResponse, feature_collection
from gridgov.plans.versions import plan_assignment, published_plan

router = APIRouter(prefix="/wards", tags=["wards"])


@router.get("", response_model=list[WardOut])
def wards(store: StoreDep, scope: ScopeDep) -> list[WardOut]:
    """可见的街道（街道用户只见本街道）/ the wards the caller may see."""
    codes = scope.ward_filter(None)
    rows = store.load("wards", where=None if codes is None else {"code": codes})
    return [WardOut(code=r["code"], name=r["name"], county_code=clean(r["county_code"]))
            for r in rows.to_dict("records")]


@router.get("/geojson", response_class=GeoJSONResponse)
def wards_geojson(store: StoreDep, scope: ScopeDep) -> GeoJSONResponse:
    """街道边界 GeoJSON / ward outlines as a FeatureCollection."""
    codes = scope.ward_filter(None)
    rows = store.load("wards", where=None if codes is None else {"code": codes})
    return GeoJSONResponse(feature_collection(rows, ["code", "name", "county_code"]))


@router.get("/{code}", response_model=WardOut)
def ward(code: str, store: StoreDep, scope: ScopeDep) -> WardOut:
    """一个街道 / one ward (404 if outside the caller's wards)."""
    scope.require_ward(store, code)
    r = store.load("wards", where={"code": code}).iloc[0]
    return WardOut(code=r["code"], name=r["name"], county_code=clean(r["county_code"]))


@router.get("/{code}/plan", response_model=PublishedOut)
def ward_plan(code: str, store: StoreDep, scope: ScopeDep) -> PublishedOut:
    """本街道名单所依据的已发布方案 / the published plan a ward's list comes from (for the printout)."""
    scope.require_ward(store, code)
    plan = published_plan(store)
    if plan is None:
        return PublishedOut()
    return PublishedOut(plan_id=int(plan["plan_id"]), published_at=clean(plan.get("published_at")))


@router.get("/{code}/assignments", response_model=list[AssignmentOut])
def ward_assignments(code: str, store: StoreDep, scope: ScopeDep) -> list[AssignmentOut]:
    """本街道已发布方案的包格分配 / the published plan's assignments in one ward."""
    scope.require_ward(store, code)
    plan = published_plan(store)
    grids = store.load("grids", where={"ward_code": code})
    held = plan_assignment(store, int(plan["plan_id"])) if plan else {}
    ids = sorted({w for w in held.values() if w})
    names = dict(zip(*store.load("workers", where={"worker_id": ids})[["worker_id", "name"]].to_numpy().T)) if ids else {}
    return [
        AssignmentOut(grid_code=g, grid_name=clean(n), ward_code=code, worker_id=held.get(g),
                      worker_name=names.get(held.get(g)))
        for g, n in zip(grids["code"], grids["name"])
    ]
