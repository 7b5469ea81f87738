"""Workers: list and read (scoped), add and update, roster changes that queue a re-solve (planners)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter
from shapely.geometry import Point

from gridgov.api.deps import (
    PlannerUser,
    Scope,
    ScopeDep,
    StoreDep,
    TokenDep,
    authenticate,
    held_by_worker,
    workers_of_wards,
)
from gridgov.api.jobs import enqueue_solve
from gridgov.api.models import (
    CapacityIn,
    RosterResult,
    UnavailableIn,
    WorkerCreate,
    WorkerOut,
    WorkerUpdate,
    clean,
    pick,
)
from gridgov.plans.roster import (
    add_worker,
    mark_available,
    mark_unavailable,
    remove_worker,
    restore_worker,
    retire_worker,
    set_capacity,
    update_worker,
)
from gridgov.plans.versions import published_plan
from gridgov.store import SqlStore

router = APIRouter(prefix="/workers", tags=["workers"])
_FIELDS = ["worker_id", "name", "phone", "employer", "sector", "home_ward", "status",
           "unavailable_from", "unavailable_to", "capacity"]


def _held(store: SqlStore) -> dict[str, list[str]]:
    """worker id -> grids held in the published plan (the assignment is cached per plan id)."""
    plan = published_plan(store)
    return {} if plan is None else held_by_worker(store, plan)


def _held_within(store: SqlStore, wards: list[str] | None) -> dict[str, list[str]]:
    """Grids held per worker, only those in ``wards`` (None: all). A worker living in a street
    office's ward may serve another ward; that ward's grid codes are not the office's to see."""
    held = _held(store)
    if wards is None:
        return held
    mine = {r["code"] for r in store.rows("grids", where={"ward_code": list(wards)}, columns=["code"])}
    return {w: [g for g in grids if g in mine] for w, grids in held.items()}


def _out(row: dict[str, Any], held: dict[str, list[str]], names: dict[str, str | None]) -> WorkerOut:
    geom = row.get("geometry")
    has_point = geom is not None and not geom.is_empty
    grids = sorted(held.get(row["worker_id"], []))
    return WorkerOut(
        **pick(row, _FIELDS), honours=clean(row.get("honours")) or [],
        lon=geom.x if has_point else None, lat=geom.y if has_point else None,
        grids=grids, grid_names=[names.get(g) for g in grids],
    )


def _grid_names(store: SqlStore, held: dict[str, list[str]]) -> dict[str, str | None]:
    codes = sorted({g for grids in held.values() for g in grids})
    if not codes:
        return {}
    return {r["code"]: clean(r.get("name")) for r in store.rows("grids", where={"code": codes}, columns=["code", "name"])}


def _requeue(request: Request, store: SqlStore, actor: str, changed: dict) -> int | None:
    """A roster change queues (or joins) a re-solve of the wards it touched."""
    if not changed:
        return None
    job_id = enqueue_solve(store, actor=actor, changed=True, reason="roster")
    runner = getattr(request.app.state, "runner", None)
    if runner is not None:
        runner.wake()
    return job_id


_LIST = TypeAdapter(list[WorkerOut])
# What a worker list is read from: a write to any of these makes a cached list stale.
_LIST_LAYERS = ("workers", "grids", "plans", "assignments")


@router.get("", response_model=list[WorkerOut])
async def workers(request: Request, token: TokenDep, ward: str | None = None) -> Response:
    """劳模名单（含联系电话；街道用户只见本街道）/ workers with contacts, scoped to the caller's wards."""
    # The hot path of street offices, in one worker-thread hop instead of one per dependency
    # (store, revisions, user, scope, route): under load those hops queued behind each other.
    body = await run_in_threadpool(_cached_list, request.app.state, token, ward)
    return Response(body, media_type="application/json")


def _cached_list(state: Any, token: str | None, ward: str | None) -> bytes:
    """Sign-in, scope and the serialized list, kept until a layer it was read from changes."""
    with state.pool.store() as store:
        revisions = store.revisions()
        user = authenticate(token, state=state, store=store, cache=state.cache, revisions=revisions)
        codes = Scope(user).ward_filter(ward, store=store)
        key = ("workers", None if codes is None else tuple(codes))
        return state.cache.get_or_read(store, key, _LIST_LAYERS,
                                       lambda: _LIST.dump_json(_worker_list(store, codes)), revisions=revisions)


def _worker_list(store: SqlStore, codes: list[str] | None) -> list[WorkerOut]:
    # Only the office's own workers are read, not the whole roster.
    rows = store.rows("workers") if codes is None else store.rows(
        "workers", where={"worker_id": sorted(workers_of_wards(store, codes))})
    held = _held_within(store, codes)
    names = _grid_names(store, held)
    return [_out(r, held, names) for r in rows]


@router.get("/{worker_id}", response_model=WorkerOut)
def worker(worker_id: str, store: StoreDep, scope: ScopeDep) -> WorkerOut:
    """一位劳模 / one worker (404 if outside the caller's wards)."""
    scope.require_worker(store, worker_id)
    row = store.load("workers", where={"worker_id": worker_id}).iloc[0].to_dict()
    held = _held_within(store, scope.user.wards)
    return _out(row, held, _grid_names(store, {worker_id: held.get(worker_id, [])}))


@router.post("", response_model=RosterResult, status_code=201)
def create(body: WorkerCreate, request: Request, store: StoreDep, user: PlannerUser) -> RosterResult:
    """新增劳模（随后自动重新求解受影响街道）/ add a worker; a re-solve is queued."""
    row = body.model_dump(exclude={"lon", "lat"})
    row["honours"] = [h.model_dump(exclude_none=True) for h in body.honours]
    row["geometry"] = Point(body.lon, body.lat)
    add_worker(store, row, actor=user.username)
    changed = {"added": True}
    return RosterResult(worker_id=body.worker_id, changed=changed,
                        job_id=_requeue(request, store, user.username, changed))


@router.patch("/{worker_id}", response_model=RosterResult)
def change(worker_id: str, body: WorkerUpdate, request: Request, store: StoreDep, user: PlannerUser) -> RosterResult:
    """修改劳模信息；住址或街道变化时重新求解 / update details; a new home queues a re-solve."""
    values = body.model_dump(exclude_unset=True)
    if "honours" in values and values["honours"] is not None:
        values["honours"] = [h.model_dump(exclude_none=True) for h in body.honours or []]
    diff = update_worker(store, worker_id, values, actor=user.username)
    moved = {k: v for k, v in diff.items() if k in ("home_ward", "geometry")}
    return RosterResult(worker_id=worker_id, changed=_names(diff), job_id=_requeue(request, store, user.username, moved))


def _names(diff: dict) -> dict[str, Any]:
    # Field names only: the old and new values can be personal data the caller already has.
    return {k: True for k in diff}


@router.post("/{worker_id}/retire", response_model=RosterResult)
def retire(worker_id: str, request: Request, store: StoreDep, user: PlannerUser) -> RosterResult:
    """劳模退出 / the worker leaves the roster; a re-solve is queued."""
    diff = retire_worker(store, worker_id, actor=user.username)
    return RosterResult(worker_id=worker_id, changed=_names(diff), job_id=_requeue(request, store, user.username, diff))


@router.post("/{worker_id}/unavailable", response_model=RosterResult)
def unavailable(worker_id: str, body: UnavailableIn, request: Request, store: StoreDep,
                user: PlannerUser, replace: bool = False) -> RosterResult:
    """劳模暂不可用（起止日期）；替换尚未结束的登记需 replace=true / away from start to end (an
    absence on record not over yet whose days this drops is replaced only with replace=true, 409
    otherwise; a retired worker: 409); a re-solve is queued."""
    diff = mark_unavailable(store, worker_id, start=body.start, end=body.end, actor=user.username, replace=replace)
    return RosterResult(worker_id=worker_id, changed=_names(diff), job_id=_requeue(request, store, user.username, diff))


@router.post("/{worker_id}/available", response_model=RosterResult)
def available(worker_id: str, request: Request, store: StoreDep, user: PlannerUser,
              reinstate: bool = False) -> RosterResult:
    """劳模恢复可用；已退出的劳模需 reinstate=true / back on the roster (a retired worker only with
    reinstate=true, 409 otherwise); a re-solve is queued."""
    diff = mark_available(store, worker_id, actor=user.username, reinstate=reinstate)
    return RosterResult(worker_id=worker_id, changed=_names(diff), job_id=_requeue(request, store, user.username, diff))


@router.post("/{worker_id}/capacity", response_model=RosterResult)
def capacity(worker_id: str, body: CapacityIn, request: Request, store: StoreDep, user: PlannerUser) -> RosterResult:
    """调整承担能力 / change how many standard grids the worker takes; a re-solve is queued."""
    diff = set_capacity(store, worker_id, body.capacity, actor=user.username)
    return RosterResult(worker_id=worker_id, changed=_names(diff), job_id=_requeue(request, store, user.username, diff))


@router.post("/{worker_id}/remove", response_model=RosterResult)
def remove(worker_id: str, store: StoreDep, user: PlannerUser) -> RosterResult:
    """删除误录的劳模（台账保留全部信息，可恢复）；已发布或历史方案中的劳模不能删除（409，请用退出）/
    delete a worker imported by mistake (the ledger keeps the record; restorable). A worker a
    published or past plan names cannot be deleted (409: retire them instead). No re-solve: no
    published plan names them."""
    drafts = remove_worker(store, worker_id, actor=user.username)
    return RosterResult(worker_id=worker_id, changed={"removed": True}, job_id=None, drafts_unpublishable=drafts)


@router.post("/{worker_id}/restore", response_model=RosterResult)
def restore(worker_id: str, request: Request, store: StoreDep, user: PlannerUser) -> RosterResult:
    """恢复误删的劳模（按台账记录）/ put back a deleted worker as the ledger recorded them; a re-solve is queued."""
    restore_worker(store, worker_id, actor=user.username)
    changed = {"restored": True}
    return RosterResult(worker_id=worker_id, changed=changed, job_id=_requeue(request, store, user.username, changed))
