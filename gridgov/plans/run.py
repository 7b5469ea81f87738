"""Solve a grid plan for the city, some wards, or the wards a roster change touched; store a draft."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridgov.errors import NotFoundError, UserError
from gridgov.plans.allocation import (
    AllocationOptions,
    WardOutcome,
    WardProgress,
    apportion_workers,
    available_pool,
    build_ward_problem,
    solve_wards,
    territory_measures,
)
from gridgov.plans.versions import (
    NOTHING_PUBLISHED,
    confirm_published,
    inherited_holders,
    ledger_seen,
    plan_reasons,
    published_assignment,
    save_plan,
    stale_wards,
)
from gridgov.store import SqlStore


@dataclass(frozen=True)
class PlanOutcome:
    plan_id: int | None  # None when nothing needed solving or the published plan was confirmed
    scope: tuple[str, ...]
    wards: tuple[WardOutcome, ...]
    summary: dict[str, Any]
    # A roster re-solve (``changed``) that gave the published plan back unchanged stores no
    # draft: the published plan's id, now recorded as reflecting the newer roster.
    confirmed: int | None = None


def _scope(store: SqlStore, all_wards: list[str], wards: Iterable[str] | None, changed: bool) -> list[str]:
    if changed:
        return stale_wards(store)
    if not wards:
        return all_wards
    return check_wards(all_wards, wards)


def _check_solvable(store: SqlStore, options: AllocationOptions) -> None:
    """Refuse a solve that can only store an empty plan: no grids, or nobody to place."""
    if not store.count("grids"):
        raise UserError("数据库中没有网格，请先导入网格（gridgov import grids）",
                        "the store has no grids: import them first (gridgov import grids)")
    if available_pool(store.load("workers"), options).empty:
        raise UserError("没有可安排的劳模（在岗、未暂停、有居住街道和住址坐标）：请先导入劳模（gridgov import workers）",
                        "no worker can be placed (active, not away, with a home ward and point): "
                        "import workers first (gridgov import workers)")


def check_wards(all_wards: Iterable[str], wards: Iterable[str]) -> list[str]:
    """``wards`` sorted and unique; NotFoundError naming every one not in ``all_wards``."""
    unknown = sorted(set(wards) - set(all_wards))
    if unknown:
        raise NotFoundError(f"未知街道代码：{', '.join(unknown)}", f"unknown ward codes: {', '.join(unknown)}")
    return sorted(set(wards))


def _pools(
    store: SqlStore, scope: list[str], options: AllocationOptions, current: dict[str, str | None]
) -> dict[str, Any]:
    wards = store.load("wards")
    grids = store.load("grids")
    workers = available_pool(store.load("workers"), options)
    ward_of = dict(zip(grids["code"], grids["ward_code"]))
    # Grids removed since hold no one; a grid renumbered or split since keeps its holder as the
    # solver's starting point (moving it to someone else counts as a move, as it would had the
    # code stayed).
    current = {**{g: w for g, w in current.items() if g in ward_of}, **inherited_holders(store, current, grids)}
    # Workers holding grids outside the scope keep them: they are not free for the scope. Those
    # holding grids in it stay with that ward; the rest of the roster is apportioned to the
    # scope's wards by what each still needs (apportioning the whole city and then dropping the
    # workers held elsewhere left re-solved wards short while free workers sat in other wards'
    # pools: coverage drifted down week after week).
    busy = {w for g, w in current.items() if w and ward_of.get(g) not in scope}
    holds = {w: ward_of[g] for g, w in current.items() if w and ward_of.get(g) in scope}
    free = workers[~workers["worker_id"].isin(busy - set(holds))]
    in_scope = wards[wards["code"].isin(scope)]
    apportioned = apportion_workers(in_scope, grids, free, options, committed=holds)
    by_id = workers.set_index("worker_id", drop=False)
    pools = {code: by_id.loc[apportioned.get(code, [])] for code in scope}
    return {"grids": grids, "pools": pools, "start": current}


def solve_plan(
    store: SqlStore,
    *,
    options: AllocationOptions | None = None,
    wards: Iterable[str] | None = None,
    changed: bool = False,
    locked: Iterable[tuple[str, str]] = (),
    executor: Executor | None = None,
    progress: WardProgress | None = None,
    actor: str = "cli",
    use_current: bool = True,
    lock_wait: float = 0.0,
) -> PlanOutcome:
    """Solve the scope and store a complete city draft plan (unsolved wards keep the published plan).

    With ``use_current`` (the default) the published plan is the solver's ``current``: it moves
    as few grids as it can. Without it the scope is solved from scratch.

    The scope's wards are locked in the database for the whole solve, so two solves of one ward
    never run at once, in any process: the second raises ``LockedError`` (after ``lock_wait``
    seconds of trying).
    """
    # Built per call, not at import: its defaults are settings (GRIDGOV_MAX_ASSIGN_KM …).
    options = options if options is not None else AllocationOptions()
    all_wards = list(store.load("wards")["code"])
    if not all_wards:
        raise UserError("数据库中没有街道，请先导入或运行 gridgov demo", "the store has no wards: import some or run gridgov demo")
    if options.ward_rules:
        check_wards(all_wards, options.ward_rules)  # a mistyped --ward-rule code must not pass silently
    scope = _scope(store, all_wards, wards, changed)
    if not scope:
        return PlanOutcome(None, (), (), {"message": "没有需要重新求解的街道 / nothing changed"})
    _check_solvable(store, options)
    with store.ward_locks(scope, owner=actor, wait=lock_wait):
        return _solve_locked(store, scope, all_wards, options=options, locked=locked, executor=executor,
                             progress=progress, actor=actor, use_current=use_current, changed=changed)


def _solve_locked(
    store: SqlStore,
    scope: list[str],
    all_wards: list[str],
    *,
    options: AllocationOptions,
    locked: Iterable[tuple[str, str]],
    executor: Executor | None,
    progress: WardProgress | None,
    actor: str,
    use_current: bool,
    changed: bool,
) -> PlanOutcome:
    """solve_plan once its wards are held: read the published plan, solve, store the draft.

    A roster re-solve whose plan is the published one, grid for grid and reason for reason,
    stores no draft (each would be one more identical version to publish or ignore, and an
    unpublished one leaves its wards found again by the next ``--changed``): the published
    plan is recorded as reflecting the roster read here instead.
    """
    # Before the roster is read: every change the read may miss has a larger ledger id.
    seen = store.ledger_high_water()
    # One snapshot: the published plan and its assignments as one committed state.
    published, current = published_assignment(store)
    data = _pools(store, scope, options, current)
    grids = data["grids"]
    by_ward = {code: grids[grids["ward_code"] == code] for code in scope}
    pins = list(locked)
    start = data["start"]
    problems = [
        build_ward_problem(code, by_ward[code], data["pools"][code], options,
                           current=(start or None) if use_current else None, locked=pins)
        for code in scope if len(by_ward[code])
    ]
    edges = {p.ward_code: p.edges for p in problems}  # built once per ward, for the solve and the measures
    outcomes = [
        territory_measures(o, by_ward[o.ward_code], edges=edges[o.ward_code])
        for o in solve_wards(problems, executor=executor, progress=progress)
    ]
    outcomes.sort(key=lambda o: o.ward_code)
    # Wards outside the scope keep the published plan: its grids, and why some are uncovered.
    # Grids removed since (a ward's grids replaced) leave the plan.
    ward_of = dict(zip(grids["code"], grids["ward_code"]))
    assignment = {g: w for g, w in current.items() if g in ward_of}
    kept = plan_reasons(store, int(published["plan_id"])) if published is not None else {}
    reasons = {g: r for g, r in kept.items() if g in ward_of and ward_of[g] not in scope}
    for o in outcomes:
        assignment.update(o.assignment)
        reasons.update(o.reasons)
    summary = plan_summary(outcomes, assignment, base=current if published is not None else None)
    seen_by_ward = ledger_seen(store, published, scope, seen, all_wards)
    if changed and published is not None and assignment == current and reasons == kept:
        base = int(published["plan_id"])
        if confirm_published(store, base, ledger_seen=seen_by_ward, wards=scope, actor=actor):
            summary["message"] = (f"重新求解结果与已发布方案 {base} 相同，未另存草稿 / "
                                  f"the re-solve gave published plan {base} back unchanged: no draft stored")
            return PlanOutcome(None, tuple(scope), tuple(outcomes), summary, confirmed=base)
    plan_id = save_plan(
        store, kind="grid", rule=options.rule, params=options.to_params(),
        scope=None if scope == sorted(all_wards) else scope, assignment=assignment, reasons=reasons,
        solver_status=_worst_status(outcomes), objective=sum(o.cost for o in outcomes),
        bound=_bound(outcomes), summary=summary, actor=actor,
        based_on=int(published["plan_id"]) if published is not None else NOTHING_PUBLISHED,
        ledger_seen=seen_by_ward,
    )
    return PlanOutcome(plan_id, tuple(scope), tuple(outcomes), summary)


def _worst_status(outcomes: list[WardOutcome]) -> str:
    order = ["infeasible", "unknown", "feasible", "optimal"]
    return min((o.status for o in outcomes), key=order.index, default="optimal")


def _bound(outcomes: list[WardOutcome]) -> float | None:
    bounds = [o.bound for o in outcomes]
    return None if any(b is None for b in bounds) else float(sum(bounds))


def plan_summary(outcomes: list[WardOutcome], assignment: dict[str, str | None], *,
                 base: dict[str, str | None] | None = None) -> dict[str, Any]:
    """The figures a planner reads first, for the whole plan and per ward; ``base`` is the
    published plan it was solved from (``grids_changed`` counts every grid whose worker differs,
    leavers' grids included, where ``moves`` counts only grids taken from workers still on duty)."""
    loads = [v for o in outcomes for v in o.loads.values()]
    shares = [o.contiguous_share for o in outcomes if o.contiguous_share is not None]
    pp = [v for o in outcomes for v in o.compactness.values()]
    territories = sum(len(o.loads) for o in outcomes)
    contiguous = sum((o.contiguous_share or 0) * len(o.loads) for o in outcomes if o.contiguous_share is not None)
    return {
        "grids": len(assignment),
        "covered": sum(w is not None for w in assignment.values()),
        "uncovered": sum(w is None for w in assignment.values()),
        "wards_solved": len(outcomes),
        "workers_used": territories,
        "rules": {r: sum(o.rule == r for o in outcomes) for r in ("one", "several")},
        "moves": sum(o.moves for o in outcomes),
        "grids_changed": None if base is None else sum(w != base.get(g) for g, w in assignment.items()),
        "distance_km": round(sum(o.distance_m for o in outcomes) / 1000, 1),
        # The solver's objective: distances with the home-ward bonus taken off (0 for a worker
        # within the bonus of a grid in their own ward).
        "cost_km": round(sum(o.cost for o in outcomes) / 1000, 1),
        "contiguous_share": round(contiguous / territories, 4) if territories and shares else None,
        "compactness_mean": round(float(np.mean(pp)), 3) if pp else None,
        "load_max_over_mean": round(max(loads) / float(np.mean(loads)), 3) if loads else None,
        "solve_s": round(sum(o.wall_s for o in outcomes), 2),
        "statuses": {s: sum(o.status == s for o in outcomes) for s in ("optimal", "feasible", "unknown", "infeasible")},
        "balance_unmet_wards": sorted(o.ward_code for o in outcomes if o.balance_met is False),
        # Per territory, for planners and exports: the ward, its load (standard grids) and its
        # Polsby-Popper compactness (1 = a disc).
        "territories": {
            w: {"ward": o.ward_code, "load": load, "compactness": o.compactness.get(w)}
            for o in outcomes for w, load in o.loads.items()
        },
    }
