"""Plan versions: store a draft, list, diff two plans, publish one (on the ledger), find stale wards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from gridgov.errors import NotFoundError, UserError
from gridgov.plans.ledger import record
from gridgov.store import SqlStore, now_utc


@dataclass(frozen=True)
class GridMove:
    grid_code: str
    ward_code: str
    before: str | None
    after: str | None


def published_plan(store: SqlStore, *, kind: str = "grid") -> dict[str, Any] | None:
    """The published plan of ``kind`` as a dict, or None when none is published yet."""
    plans = store.rows("plans", where={"kind": kind, "status": "published"})
    return plans[-1] if plans else None


def published_assignment(store: SqlStore, *, kind: str = "grid") -> tuple[dict[str, Any] | None, dict[str, str | None]]:
    """The published plan of ``kind`` and its assignment, read as one consistent snapshot.

    Readers running while a plan is published see the old plan with its grids or the new one
    with its grids, never a mix: both reads share one read transaction.
    """
    with store.snapshot():
        plan = published_plan(store, kind=kind)
        return plan, (plan_assignment(store, int(plan["plan_id"])) if plan is not None else {})


def plan_or_published(store: SqlStore, plan_id: int | None) -> int:
    """``plan_id`` when that plan exists, else (None) the published grid plan's id."""
    if plan_id is not None:
        return int(get_plan(store, plan_id)["plan_id"])
    plan = published_plan(store)
    if plan is None:
        raise NotFoundError("尚无已发布的方案", "no plan is published yet")
    return int(plan["plan_id"])


def get_plan(store: SqlStore, plan_id: int) -> dict[str, Any]:
    plans = store.load("plans", where={"plan_id": int(plan_id)})
    if plans.empty:
        raise NotFoundError(f"没有编号为 {plan_id} 的方案", f"no plan with id {plan_id}")
    return plans.iloc[0].to_dict()


def plan_assignment(store: SqlStore, plan_id: int) -> dict[str, str | None]:
    """grid code -> worker id (None: uncovered) of a plan."""
    rows = store.load("assignments", where={"plan_id": int(plan_id)})
    return {g: (None if pd.isna(w) else w) for g, w in zip(rows["grid_code"], rows["worker_id"])}


def save_plan(
    store: SqlStore,
    *,
    kind: str,
    rule: str,
    params: dict[str, Any],
    scope: list[str] | None,
    assignment: dict[str, str | None],
    reasons: dict[str, str],
    solver_status: str,
    objective: float | None,
    bound: float | None,
    summary: dict[str, Any],
    actor: str,
) -> int:
    """Store a draft plan and all its assignments in one transaction; returns the plan id."""
    with store.transaction():
        plan_id = store.insert("plans", {
            "kind": kind, "rule": rule, "params": params, "scope": scope, "status": "draft",
            "created_by": actor, "created_at": now_utc(), "solver_status": solver_status,
            "objective": objective, "bound": bound, "summary": summary,
        })
        store.save("assignments", [
            {"plan_id": plan_id, "grid_code": g, "worker_id": w, "reason": reasons.get(g)}
            for g, w in assignment.items()
        ])
    return plan_id


def diff_plans(store: SqlStore, a: int, b: int) -> list[GridMove]:
    """Grids whose worker differs between plan ``a`` and plan ``b`` (a → b)."""
    before, after = plan_assignment(store, a), plan_assignment(store, b)
    grids = store.rows("grids", columns=["code", "ward_code"]) if before or after else []
    ward_of = {g["code"]: g["ward_code"] for g in grids}
    return [
        GridMove(g, ward_of.get(g, ""), before.get(g), after.get(g))
        for g in sorted(set(before) | set(after))
        if before.get(g) != after.get(g)
    ]


def publish_plan(store: SqlStore, plan_id: int, *, actor: str) -> dict[str, Any]:
    """Make ``plan_id`` the published plan of its kind; the previous one is superseded."""
    with store.transaction():
        plan = get_plan(store, plan_id)
        if plan["status"] == "published":
            raise UserError(f"方案 {plan_id} 已经是发布状态", f"plan {plan_id} is already published")
        previous = published_plan(store, kind=plan["kind"])
        if previous is not None:
            store.update("plans", {"plan_id": int(previous["plan_id"])}, {"status": "superseded"})
        store.update("plans", {"plan_id": int(plan_id)},
                     {"status": "published", "published_by": actor, "published_at": now_utc()})
        moves = len(diff_plans(store, int(previous["plan_id"]), plan_id)) if previous else None
        record(
            store, actor=actor, action="plan.publish", subject=f"plan {plan_id}",
            before={"published": None if previous is None else int(previous["plan_id"])},
            after={"published": int(plan_id), "grids_changed": moves},
        )
    return get_plan(store, plan_id)


def stale_wards(store: SqlStore) -> list[str]:
    """Wards touched by roster changes since the published grid plan: re-solve these (--changed).

    A changed worker's wards are those of the grids they hold in the published plan, plus the
    ward they live in (a new or returning worker adds people there).
    """
    plan = published_plan(store)
    if plan is None:
        return sorted(store.load("wards")["code"])
    since = plan["published_at"] or plan["created_at"]
    ledger = store.load("ledger")
    changes = ledger[ledger["action"].str.startswith("worker.") & (ledger["at"] >= since)]
    if changes.empty:
        return []
    changed = set(changes["subject"])
    grids = store.load("grids", columns=["code", "ward_code"])
    ward_of = dict(zip(grids["code"], grids["ward_code"]))
    wards = {ward_of[g] for g, w in plan_assignment(store, int(plan["plan_id"])).items() if w in changed}
    homes = store.load("workers", where={"worker_id": sorted(changed)})["home_ward"].dropna()
    return sorted(wards | set(homes))
