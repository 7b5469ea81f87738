"""Plans (planners): history, start a solve job, read one, its assignments, diff two, publish."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gridgov.api.deps import PlannerUser, ScopeDep, StoreDep
from gridgov.api.jobs import enqueue_solve
from gridgov.api.models import (
    AssignmentOut,
    DiffOut,
    JobOut,
    MoveOut,
    PlanOut,
    RowId,
    SolveIn,
    brief_summary,
    clean,
    pick,
)
from gridgov.plans.versions import diff_plans, get_plan, publish_plan
from gridgov.store import SqlStore

router = APIRouter(prefix="/plans", tags=["plans"])
_PLAN_FIELDS = list(PlanOut.model_fields)
_JOB_FIELDS = list(JobOut.model_fields)


def plan_out(row: dict[str, Any], *, brief: bool = False) -> PlanOut:
    out = pick(row, _PLAN_FIELDS)
    if brief:
        out["summary"] = brief_summary(out.get("summary"))
    return PlanOut(**out)


def job_out(store: SqlStore, job_id: int) -> JobOut:
    row = store.load("jobs", where={"job_id": job_id}).iloc[0].to_dict()
    return JobOut(**pick(row, _JOB_FIELDS))


@router.get("", response_model=list[PlanOut])
def plans(store: StoreDep, _user: PlannerUser, kind: str = "grid") -> list[PlanOut]:
    """方案历史（新的在前；片区与网格明细见单个方案）/ plan history, newest first (per-territory
    and per-grid detail: GET /api/plans/{plan_id})."""
    rows = store.load("plans", where={"kind": kind}, order_by="plan_id DESC")
    return [plan_out(r, brief=True) for r in rows.to_dict("records")]


@router.post("/solve", response_model=JobOut, status_code=202)
def solve(body: SolveIn, request: Request, store: StoreDep, user: PlannerUser) -> JobOut:
    """启动后台求解，返回任务（轮询 /api/jobs/{id}）/ start a background solve; poll the job."""
    options = {"rule": body.rule, "time_limit": body.time_limit, "ward_rules": body.ward_rules,
               "contiguity": body.contiguity, "balance": body.balance}
    job_id = enqueue_solve(store, actor=user.username, wards=body.wards, changed=body.changed,
                           options=options, reason="manual")
    runner = getattr(request.app.state, "runner", None)
    if runner is not None:
        runner.wake()
    return job_out(store, job_id)


@router.get("/{plan_id}", response_model=PlanOut)
def plan(plan_id: RowId, store: StoreDep, _user: PlannerUser) -> PlanOut:
    """一个方案 / one plan."""
    return plan_out(get_plan(store, plan_id))


@router.get("/{plan_id}/assignments", response_model=list[AssignmentOut])
def assignments(plan_id: RowId, store: StoreDep, scope: ScopeDep, _user: PlannerUser,
                ward: str | None = None) -> list[AssignmentOut]:
    """方案的包格分配（可按街道）/ a plan's assignments, optionally of one ward."""
    get_plan(store, plan_id, kind="grid")
    codes = scope.ward_filter(ward, store=store)
    grids = store.load("grids", where=None if codes is None else {"ward_code": codes})
    rows = store.load("assignments", where={"plan_id": plan_id}).set_index("grid_code")
    workers = store.load("workers")
    names = dict(zip(workers["worker_id"], workers["name"]))
    out = []
    for g in grids.to_dict("records"):
        a = rows.loc[g["code"]].to_dict() if g["code"] in rows.index else {}
        w = clean(a.get("worker_id"))
        out.append(AssignmentOut(grid_code=g["code"], grid_name=clean(g.get("name")), ward_code=g["ward_code"],
                                 worker_id=w, worker_name=names.get(w), reason=clean(a.get("reason"))))
    return out


@router.get("/{a}/diff/{b}", response_model=DiffOut)
def diff(a: RowId, b: RowId, store: StoreDep, _user: PlannerUser) -> DiffOut:
    """两个方案的差异（a → b）/ grids whose worker differs from plan a to plan b."""
    moves = [MoveOut(grid_code=m.grid_code, ward_code=m.ward_code, before=m.before, after=m.after)
             for m in diff_plans(store, a, b)]
    return DiffOut(a=a, b=b, moves=moves)


@router.post("/{plan_id}/publish", response_model=PlanOut)
def publish(plan_id: RowId, store: StoreDep, user: PlannerUser, force: bool = False) -> PlanOut:
    """发布方案（旧方案转为历史）；基于旧方案求解的方案需 force=true（回退）/ publish a plan; the
    previous one is superseded. A plan solved from an older published plan needs force=true (409 otherwise)."""
    return plan_out(publish_plan(store, plan_id, actor=user.username, force=force))
