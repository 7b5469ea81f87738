"""Plan versions: store a draft, list, diff two plans, publish one (on the ledger), find stale wards."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import geopandas as gpd
import pandas as pd

from gridgov.errors import NotFoundError, StalePlanError, UserError
from gridgov.plans.ledger import record
from gridgov.plans.roster import available_workers
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
    """``plan_id`` when that grid plan exists, else (None) the published grid plan's id."""
    if plan_id is not None:
        return int(get_plan(store, plan_id, kind="grid")["plan_id"])
    plan = published_plan(store)
    if plan is None:
        raise NotFoundError("尚无已发布的方案", "no plan is published yet")
    return int(plan["plan_id"])


_KIND_ZH = {"grid": "包格", "studio": "调解工作室"}


def get_plan(store: SqlStore, plan_id: int, *, kind: str | None = None) -> dict[str, Any]:
    """One plan as a dict; NotFoundError when there is none (or, with ``kind``, none of that kind:
    a studio plan read as a grid plan would show every grid uncovered)."""
    plans = store.load("plans", where={"plan_id": int(plan_id)})
    if plans.empty:
        raise NotFoundError(f"没有编号为 {plan_id} 的方案", f"no plan with id {plan_id}")
    plan = plans.iloc[0].to_dict()
    if kind is not None and plan["kind"] != kind:
        raise NotFoundError(f"方案 {plan_id} 不是{_KIND_ZH.get(kind, kind)}方案（它是{_KIND_ZH.get(plan['kind'], plan['kind'])}方案）",
                            f"plan {plan_id} is not a {kind} plan (it is a {plan['kind']} plan)")
    return plan


def plan_assignment(store: SqlStore, plan_id: int) -> dict[str, str | None]:
    """grid code -> worker id (None: uncovered) of a plan."""
    rows = store.load("assignments", where={"plan_id": int(plan_id)})
    return {g: (None if pd.isna(w) else w) for g, w in zip(rows["grid_code"], rows["worker_id"])}


def plan_reasons(store: SqlStore, plan_id: int) -> dict[str, str]:
    """grid code -> why it is uncovered, for the plan's grids that have a reason."""
    rows = store.load("assignments", where={"plan_id": int(plan_id)})
    return {g: r for g, r in zip(rows["grid_code"], rows["reason"]) if isinstance(r, str) and r}


def plans_naming(store: SqlStore, worker_id: str) -> dict[int, str]:
    """plan id -> status of every plan that names ``worker_id``: on a grid or staffing a studio."""
    rows = store.rows("assignments", where={"worker_id": worker_id}, columns=["plan_id"])
    ids = {int(r["plan_id"]) for r in rows}
    out = {int(p["plan_id"]): p["status"] for p in store.rows("plans", columns=["plan_id", "status"])
           if int(p["plan_id"]) in ids}
    for plan in store.rows("plans", where={"kind": "studio"}):
        if worker_id in _studio_staff(plan):
            out[int(plan["plan_id"])] = plan["status"]
    return out


def _studio_staff(plan: dict[str, Any]) -> set[str]:
    """The workers a studio plan staffs its studios with."""
    studios = (plan["summary"] or {}).get("studios", [])
    return {seat["worker_id"] for studio in studios for seat in studio.get("staff", [])}


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
    based_on: int | None = None,
    ledger_seen: dict[str, int] | None = None,
) -> int:
    """Store a draft plan and all its assignments in one transaction; returns the plan id."""
    with store.transaction():
        plan_id = store.insert("plans", {
            "kind": kind, "rule": rule, "params": params, "scope": scope, "status": "draft",
            "created_by": actor, "created_at": now_utc(), "solver_status": solver_status,
            "objective": objective, "bound": bound, "summary": summary,
            "based_on": based_on, "ledger_seen": ledger_seen,
        })
        store.save("assignments", [
            {"plan_id": plan_id, "grid_code": g, "worker_id": w, "reason": reasons.get(g)}
            for g, w in assignment.items()
        ])
    return plan_id


def diff_plans(store: SqlStore, a: int, b: int) -> list[GridMove]:
    """Grids whose worker differs between grid plan ``a`` and grid plan ``b`` (a → b);
    NotFoundError when either is missing or not a grid plan."""
    get_plan(store, a, kind="grid"), get_plan(store, b, kind="grid")
    before, after = plan_assignment(store, a), plan_assignment(store, b)
    grids = store.rows("grids", columns=["code", "ward_code"]) if before or after else []
    ward_of = {g["code"]: g["ward_code"] for g in grids}
    return [
        GridMove(g, ward_of.get(g, ""), before.get(g), after.get(g))
        for g in sorted(set(before) | set(after))
        if before.get(g) != after.get(g)
    ]


@dataclass(frozen=True)
class DiffSummary:
    """What a diff trades: coverage gained and lost (grids, households) against grids taken from
    workers still on duty (a planner asked what six moves bought; here: +1 grid, 188 households)."""

    covered: int
    covered_households: int
    uncovered: int
    uncovered_households: int
    from_on_duty: int  # grids moved off a worker who is available today
    from_away: int  # grids moved off a worker retired, away or gone


def diff_summary(store: SqlStore, moves: list[GridMove]) -> DiffSummary:
    codes = [m.grid_code for m in moves]
    households = {r["code"]: r.get("households") for r in store.rows(
        "grids", where={"code": codes}, columns=["code", "households"])} if codes else {}
    held = sorted({m.before for m in moves if m.before})
    on_duty = set(available_workers(store.load("workers", where={"worker_id": held}))["worker_id"]) if held else set()

    def homes(ms: list[GridMove]) -> int:
        return int(sum(int(h) for m in ms if isinstance(h := households.get(m.grid_code), (int, float)) and h == h))

    gained = [m for m in moves if m.before is None and m.after is not None]
    lost = [m for m in moves if m.before is not None and m.after is None]
    moved = [m for m in moves if m.before is not None and m.after is not None]
    return DiffSummary(len(gained), homes(gained), len(lost), homes(lost),
                       sum(m.before in on_duty for m in moved), sum(m.before not in on_duty for m in moved))


def publish_plan(store: SqlStore, plan_id: int, *, actor: str, force: bool = False) -> dict[str, Any]:
    """Make ``plan_id`` the published plan of its kind; the previous one is superseded.

    A grid plan solved from another published plan than the current one (an older draft, a
    superseded plan) would undo what was published since: StalePlanError unless ``force``
    (a deliberate roll-back; ``gridgov solve --changed`` then finds the wards it left stale).
    """
    with store.transaction():
        plan = get_plan(store, plan_id)
        if plan["status"] == "published":
            raise UserError(f"方案 {plan_id} 已经是发布状态", f"plan {plan_id} is already published")
        held = plan_assignment(store, int(plan_id)) if plan["kind"] == "grid" else {}
        _refuse_removed_workers(store, plan, held)
        _refuse_removed_grids(store, plan, held)
        previous = published_plan(store, kind=plan["kind"])
        base = _based_on(plan) if plan["kind"] == "grid" else None
        # A plan that does not say what it was solved from (stored before plans recorded it,
        # or by hand) is not judged; one solved while nothing was published says 0.
        if not force and previous is not None and base is not None and base != int(previous["plan_id"]):
            raise StalePlanError(plan_id, int(previous["plan_id"]), base)
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


def confirm_published(store: SqlStore, plan_id: int, *, ledger_seen: dict[str, int], wards: Iterable[str],
                      actor: str) -> bool:
    """Record that re-solving ``wards`` against a newer roster gave published plan ``plan_id``
    back unchanged: its ``ledger_seen`` moves forward for them (so ``--changed`` stops finding
    them) and the ledger says so. False, and nothing written, when another plan was published
    meanwhile (the caller then stores a draft as usual)."""
    wards = sorted(wards)
    with store.transaction():
        plan = published_plan(store)
        if plan is None or int(plan["plan_id"]) != int(plan_id):
            return False
        before = _seen(plan)
        store.update("plans", {"plan_id": int(plan_id)}, {"ledger_seen": dict(ledger_seen)})
        record(store, actor=actor, action="plan.confirm", subject=f"plan {plan_id}",
               before={"ledger_seen": {w: before.get(w) for w in wards}},
               after={"ledger_seen": {w: ledger_seen.get(w) for w in wards}, "grids_changed": 0})
    return True


def _refuse_removed_workers(store: SqlStore, plan: dict[str, Any], held: dict[str, str | None]) -> None:
    """A draft naming a worker deleted from the roster since (a row imported by mistake) is not
    published; ``held`` is a grid plan's assignment."""
    if plan["kind"] == "grid":
        named = {w for w in held.values() if w is not None}
    else:
        named = _studio_staff(plan)
    if not named:
        return
    # Held until the publish commits: a deletion of one of them (which locks the row and then
    # looks for published plans) waits, then finds this plan published and is refused.
    store.lock_rows("workers", {"worker_id": sorted(named)}, shared=True)
    present = {r["worker_id"] for r in store.rows("workers", where={"worker_id": sorted(named)}, columns=["worker_id"])}
    gone = sorted(named - present)
    if gone:
        raise UserError(f"方案 {plan['plan_id']} 中的劳模 {'、'.join(gone)} 已从名册删除，不能发布：请重新求解后发布新方案",
                        f"plan {plan['plan_id']} names workers deleted from the roster since ({', '.join(gone)}): "
                        "it cannot be published; solve again and publish the new plan")


def _refuse_removed_grids(store: SqlStore, plan: dict[str, Any], held: dict[str, str | None]) -> None:
    """A grid plan holding grids removed since (a ward's grids replaced) would send workers to
    grids that no longer exist: solve again instead."""
    if plan["kind"] != "grid":
        return
    current = {r["code"] for r in store.rows("grids", columns=["code"])}
    gone = sorted(set(held) - current)
    if gone:
        shown = "、".join(gone[:5]) + (f" 等 {len(gone)} 个" if len(gone) > 5 else "")
        raise UserError(f"方案 {plan['plan_id']} 含已撤销的网格（{shown}），不能发布：请运行 gridgov solve --changed 后发布新方案",
                        f"plan {plan['plan_id']} holds grids removed since ({', '.join(gone[:5])}"
                        f"{f' and {len(gone) - 5} more' if len(gone) > 5 else ''}): it cannot be published; "
                        "run gridgov solve --changed and publish the new plan")


def _based_on(plan: dict[str, Any]) -> int | None:
    value = plan.get("based_on")
    return None if value is None or pd.isna(value) else int(value)


# Worker fields the solve reads (who is available, where they live, how much they take on).
_SOLVE_FIELDS = frozenset({"status", "unavailable_from", "unavailable_to", "capacity", "home_ward", "geometry"})

NOTHING_PUBLISHED = 0  # ``based_on`` of a plan solved while no grid plan was published


def ledger_seen(store: SqlStore, base: dict[str, Any] | None, scope: Iterable[str], seen: int,
                wards: Iterable[str]) -> dict[str, int]:
    """Per ward, the last ledger entry a new plan's roster reflects: ``seen`` for the wards it
    solves, the base plan's for the wards it carries over; a base stored before plans recorded
    it stands for the last entry before its creation."""
    scope, wards = set(scope), list(wards)
    carried = _seen(base) if base is not None else {}
    out = {w: int(seen) if w in scope else carried[w] for w in wards if w in scope or w in carried}
    missing = [w for w in wards if w not in out]
    if base is not None and missing:  # only then is the ledger read again
        default = _entry_before(store, base["created_at"])
        out.update({w: default for w in missing})
    return out


def _entry_before(store: SqlStore, when: Any) -> int:
    """The last ledger entry strictly before ``when`` (times are whole seconds: an entry in the
    same second counts as after, so its ward is re-solved rather than missed)."""
    ledger = store.load("ledger", columns=["entry_id", "at"])
    before = ledger["entry_id"][ledger["at"] < pd.Timestamp(when)]
    return int(before.max()) if len(before) else 0


def _seen(plan: dict[str, Any]) -> dict[str, int]:
    value = plan.get("ledger_seen")
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, dict) else {}


def stale_wards(store: SqlStore) -> list[str]:
    """Wards whose roster changed after the published grid plan's roster of them, where it has a
    worker who is not available now, or with grids it does not know: re-solve these (--changed).

    A changed worker's wards are those of the grids they hold in the published plan, plus the
    ward they live in (a new or returning worker adds people there); for a worker who holds no
    grid and is available, also the wards with a grid the plan leaves uncovered within their
    reach (a newcomer next door to a ward with uncovered grids: that ward was never re-solved).
    Each ward is compared with the ledger entry the plan recorded for it (a ward carried over
    from an older plan is as old as that plan), so publishing an older plan leaves its wards
    found, not hidden.
    """
    plan = published_plan(store)
    if plan is None:
        return sorted(store.load("wards")["code"])
    grids = store.load("grids", columns=["code", "ward_code"])
    ward_of = dict(zip(grids["code"], grids["ward_code"]))
    held = plan_assignment(store, int(plan["plan_id"]))
    seen = _seen(plan)
    created = pd.Timestamp(plan["created_at"])  # wards with no entry recorded (older plans)
    ledger = store.load("ledger", where=None, columns=["entry_id", "at", "action", "subject", "after"])
    ledger = ledger[ledger["action"].str.startswith("worker.")]
    # A new phone or employer changes nothing the solver reads.
    ledger = ledger[[a != "worker.update" or bool(set(after or {}) & _SOLVE_FIELDS)
                     for a, after in zip(ledger["action"], ledger["after"])]]
    stale: set[str] = set()
    if not ledger.empty:
        workers = store.load("workers", where={"worker_id": sorted(set(ledger["subject"]))}, columns=["worker_id", "home_ward"])
        home = dict(zip(workers["worker_id"], workers["home_ward"]))
        wards_of: dict[str, set[str]] = {}
        for g, w in held.items():
            if w is not None and g in ward_of:
                wards_of.setdefault(w, set()).add(ward_of[g])
        near = _uncovered_wards_near(store, held, ward_of, set(ledger["subject"]) - set(wards_of))
        for entry, at, subject in zip(ledger["entry_id"], ledger["at"], ledger["subject"]):
            touched = wards_of.get(subject, set()) | ({home[subject]} if isinstance(home.get(subject), str) else set())
            touched |= near.get(subject, set())
            stale |= {w for w in touched if (entry > seen[w] if w in seen else at >= created)}
    stale |= _wards_with_unavailable(store, held, ward_of)
    stale |= _wards_with_returned(store, plan)
    # Grids imported since (a split, a new community) have no worker yet: their wards too.
    stale |= {ward for g, ward in ward_of.items() if g not in held}
    # Grids the plan holds that were removed since (a ward's grids replaced): their wards, as the ledger recorded them.
    gone = [g for g in held if g not in ward_of]
    if gone:
        stale |= {w for w in removed_grids(store, gone).get("ward_code", []) if isinstance(w, str) and w}
    return sorted(stale)


def _uncovered_wards_near(store: SqlStore, held: dict[str, str | None], ward_of: dict[str, str],
                          candidates: set[str]) -> dict[str, set[str]]:
    """For each of ``candidates`` available today (they hold no grid in ``held``), the wards of
    the grids ``held`` leaves uncovered within ``GRIDGOV_MAX_ASSIGN_KM`` of their home."""
    from gridgov.geo.measure import anchor_points_m, pairs_within_m
    from gridgov.settings import get_settings

    open_grids = sorted(g for g, w in held.items() if w is None and g in ward_of)
    if not open_grids or not candidates:
        return {}
    free = available_workers(store.load("workers", where={"worker_id": sorted(candidates)}))
    free = free[free.geometry.notna() & ~free.geometry.is_empty]
    if free.empty:
        return {}
    grids = store.load("grids", where={"code": open_grids}, columns=["code", "ward_code", "geometry"])
    # A KD-tree, not a matrix: a year's ledger names thousands of workers (5,000 x 2,000: 0.5 GB).
    who, which = pairs_within_m(anchor_points_m(free), anchor_points_m(grids), get_settings().max_assign_km * 1000)
    ids, wards = free["worker_id"].to_numpy(), grids["ward_code"].to_numpy()
    near: dict[str, set[str]] = {}
    for i, g in zip(who, which):
        near.setdefault(ids[i], set()).add(wards[g])
    return near


def _wards_with_unavailable(store: SqlStore, held: dict[str, str | None], ward_of: dict[str, str]) -> set[str]:
    """Wards where the plan has a worker who is retired, unavailable today or gone from the roster."""
    holders = {w for w in held.values() if w is not None}
    if not holders:
        return set()
    ok = set(available_workers(store.load("workers", where={"worker_id": sorted(holders)}))["worker_id"])
    return {ward_of[g] for g, w in held.items() if w is not None and w not in ok and g in ward_of}


def _wards_with_returned(store: SqlStore, plan: dict[str, Any]) -> set[str]:
    """Home wards of workers who were away when their ward was last solved and are back today: an
    absence that runs out on its date writes nothing to the ledger, so nothing else would bring
    them back (a ward with 33 uncovered grids kept its returned worker idle)."""
    workers = store.load("workers", where={"status": "unavailable"},
                         columns=["worker_id", "home_ward", "status", "unavailable_from", "unavailable_to"])
    if workers.empty:
        return set()
    back = workers[workers["worker_id"].isin(set(available_workers(workers)["worker_id"]))]
    if back.empty:
        return set()
    read_on, oldest = _read_dates(store, plan)
    wards = set()
    for row in back.to_dict("records"):
        ward = row["home_ward"]
        day = read_on.get(ward, oldest) if isinstance(ward, str) else None
        if day is not None and available_workers(pd.DataFrame([row]), on=day).empty:
            wards.add(ward)
    return wards


def _read_dates(store: SqlStore, plan: dict[str, Any]) -> tuple[dict[str, date], date]:
    """Per ward, the day whose availability the published plan's assignment of it was solved for
    (a ward carried over from an older plan: that plan's; a ward a later re-solve confirmed
    unchanged: that day), and the oldest such day."""
    from gridgov.localtime import local

    def solved_for(p: dict[str, Any]) -> date:
        on = (p.get("params") or {}).get("on")
        return date.fromisoformat(str(on)[:10]) if on else local(pd.Timestamp(p["created_at"]).to_pydatetime()).date()

    # Not the summaries: a year of plans holds megabytes of them.
    plans = {int(p["plan_id"]): p for p in store.rows(
        "plans", where={"kind": "grid"}, columns=["plan_id", "params", "scope", "based_on", "created_at"])}
    days: dict[str, date] = {}
    current: dict[str, Any] | None = plans.get(int(plan["plan_id"]), plan)
    oldest = solved_for(plan)
    while current is not None:
        oldest = solved_for(current)
        scope = current.get("scope")
        if not isinstance(scope, list):  # the whole city: every ward not solved since
            break
        for ward in scope:
            days.setdefault(str(ward), oldest)
        base = _based_on(current)
        current = plans.get(base) if base else None
    # A re-solve that gave the plan back unchanged read the roster on its own day (else the
    # ward of a returned worker who was not needed would be re-solved on every --changed).
    for entry in store.rows("ledger", where={"action": "plan.confirm", "subject": f"plan {int(plan['plan_id'])}"},
                            columns=["at", "after"]):
        checked = local(pd.Timestamp(entry["at"]).to_pydatetime()).date()
        for ward in ((entry.get("after") or {}).get("ledger_seen") or {}):
            days[str(ward)] = max(days.get(str(ward), oldest), checked)
    return days, oldest


def removed_grids(store: SqlStore, codes: Iterable[str]) -> gpd.GeoDataFrame:
    """Grids removed from the store (``import grids --replace``) as the ledger recorded them, for
    the plans that still hold them; codes the ledger has no record of are left out."""
    from shapely import wkt

    records: dict[str, dict[str, Any]] = {}
    codes = sorted(set(codes))
    if codes:
        for entry in store.rows("ledger", where={"action": "grid.remove", "subject": codes}, order_by="entry_id"):
            record = dict(entry["before"] or {})
            text = record.get("geometry")
            record["geometry"] = wkt.loads(text) if isinstance(text, str) else None
            records[entry["subject"]] = record
    frame = pd.DataFrame(list(records.values()), columns=sorted({k for r in records.values() for k in r} | {"code", "geometry"}))
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4490")


def inherited_holders(store: SqlStore, held: dict[str, str | None], grids: pd.DataFrame) -> dict[str, str]:
    """grid code -> worker, for current grids the plan does not hold that cover most of a grid it
    holds which was removed since (``import grids --replace``: renumbered, split): the removed
    grid's holder. The removed shapes come from the ledger's records of them."""
    stored = set(grids["code"])  # once: built inside the test it cost 16 s per city re-solve
    gone = sorted(g for g, w in held.items() if w is not None and g not in stored)
    new = grids[~grids["code"].isin(held.keys())]
    if not gone or new.empty:
        return {}
    removed = removed_grids(store, gone)
    shapes = {c: g for c, g in zip(removed["code"], removed.geometry) if g is not None}
    out = {}
    for code, geom in zip(new["code"], new.geometry):
        if geom is None or geom.is_empty or not geom.area:
            continue
        shares = {old: geom.intersection(shape).area / geom.area for old, shape in shapes.items()
                  if shape.intersects(geom)}
        best = max(shares, key=shares.get, default=None)
        if best is not None and shares[best] > 0.5:
            out[code] = held[best]
    return out
