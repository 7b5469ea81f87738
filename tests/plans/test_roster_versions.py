"""Roster changes write the ledger; plan versions diff, publish and find the wards to re-solve."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from gridgov.errors import NotFoundError, StalePlanError, UserError
from gridgov.plans.roster import (
    add_worker,
    available_workers,
    mark_available,
    mark_unavailable,
    retire_worker,
    set_capacity,
)
from gridgov.plans.versions import (
    diff_plans,
    plan_assignment,
    publish_plan,
    published_plan,
    save_plan,
    stale_wards,
)


@pytest.fixture
def seeded(store):
    wards = gpd.GeoDataFrame(
        {"code": ["410802001", "410802002"], "name": ["民生街道", "民主街道"], "county_code": ["410802"] * 2},
        geometry=[box(113.20, 35.20, 113.21, 35.21), box(113.21, 35.20, 113.22, 35.21)], crs="EPSG:4490",
    )
    grids = gpd.GeoDataFrame(
        {"code": ["G1", "G2", "G3"], "ward_code": ["410802001", "410802001", "410802002"],
         "households": [400, 300, 500]},
        geometry=[box(113.20, 35.20, 113.205, 35.21), box(113.205, 35.20, 113.21, 35.21),
                  box(113.21, 35.20, 113.22, 35.21)], crs="EPSG:4490",
    )
    workers = [
        {"worker_id": w, "name": n, "home_ward": h, "status": "active", "capacity": 2.0,
         "geometry": Point(113.201 + i * 0.005, 35.205)}
        for i, (w, n, h) in enumerate([("A", "甲", "410802001"), ("B", "乙", "410802001"), ("C", "丙", "410802002")])
    ]
    store.save("wards", wards)
    store.save("grids", grids)
    store.save("workers", workers)
    return store


def _plan(store, assignment, actor="planner"):
    return save_plan(store, kind="grid", rule="one", params={}, scope=None, assignment=assignment,
                     reasons={}, solver_status="optimal", objective=0.0, bound=0.0, summary={}, actor=actor)


def test_availability_by_date():
    workers = gpd.GeoDataFrame({
        "worker_id": ["A", "B", "C", "D"],
        "status": ["active", "retired", "unavailable", "unavailable"],
        "unavailable_from": [None, None, date(2026, 1, 1), date(2026, 1, 1)],
        "unavailable_to": [None, None, date(2026, 2, 1), None],
    }, geometry=[Point(0, 0)] * 4)
    assert list(available_workers(workers, on=date(2026, 1, 15))["worker_id"]) == ["A"]
    assert list(available_workers(workers, on=date(2026, 3, 1))["worker_id"]) == ["A", "C"]
    assert list(available_workers(workers, on=date(2025, 12, 31))["worker_id"]) == ["A", "C", "D"]


def test_roster_changes_are_on_the_ledger(seeded):
    retire_worker(seeded, "A", actor="办公室")
    mark_unavailable(seeded, "B", start=date(2026, 1, 1), end=date(2026, 2, 1), actor="办公室")
    set_capacity(seeded, "C", 3.5, actor="办公室")
    add_worker(seeded, {"worker_id": "D", "name": "丁", "home_ward": "410802002",
                        "geometry": Point(113.215, 35.205)}, actor="办公室")
    mark_available(seeded, "B", actor="办公室")
    ledger = seeded.load("ledger")
    assert list(ledger["action"]) == ["worker.retire", "worker.unavailable", "worker.capacity",
                                      "worker.add", "worker.available"]
    assert list(ledger["subject"]) == ["A", "B", "C", "D", "B"]
    assert ledger.iloc[0]["before"] == {"status": "active"} and ledger.iloc[0]["after"] == {"status": "retired"}
    assert ledger.iloc[2]["after"] == {"capacity": 3.5}
    assert set(ledger["actor"]) == {"办公室"}
    assert seeded.load("workers", where={"worker_id": "A"}).iloc[0]["status"] == "retired"


def test_no_op_change_writes_no_ledger_entry(seeded):
    assert set_capacity(seeded, "A", 2.0, actor="x") == {}
    assert seeded.count("ledger") == 0


def test_bad_roster_changes_are_refused(seeded, fingerprint):
    before = fingerprint(seeded)
    with pytest.raises(NotFoundError):
        retire_worker(seeded, "nobody", actor="x")
    with pytest.raises(UserError):
        set_capacity(seeded, "A", 0, actor="x")
    with pytest.raises(UserError):
        mark_unavailable(seeded, "A", start=date(2026, 2, 1), end=date(2026, 1, 1), actor="x")
    with pytest.raises(UserError):
        add_worker(seeded, {"worker_id": "A", "name": "重复"}, actor="x")
    assert fingerprint(seeded) == before


def test_diff_and_publish(seeded):
    first = _plan(seeded, {"G1": "A", "G2": "B", "G3": "C"})
    second = _plan(seeded, {"G1": "A", "G2": "A", "G3": None})
    moves = diff_plans(seeded, first, second)
    assert [(m.grid_code, m.ward_code, m.before, m.after) for m in moves] == [
        ("G2", "410802001", "B", "A"), ("G3", "410802002", "C", None)]
    assert published_plan(seeded) is None
    publish_plan(seeded, first, actor="规划科")
    publish_plan(seeded, second, actor="规划科")
    plans = seeded.load("plans").set_index("plan_id")
    assert plans.loc[first, "status"] == "superseded" and plans.loc[second, "status"] == "published"
    entry = seeded.load("ledger", where={"action": "plan.publish"}).iloc[-1]
    assert entry["after"] == {"published": second, "grids_changed": 2}
    assert plan_assignment(seeded, second) == {"G1": "A", "G2": "A", "G3": None}
    with pytest.raises(UserError):
        publish_plan(seeded, second, actor="规划科")


def test_stale_wards_follow_roster_changes(seeded):
    assert stale_wards(seeded) == ["410802001", "410802002"]  # nothing published: everything
    plan = _plan(seeded, {"G1": "A", "G2": "B", "G3": "C"})
    publish_plan(seeded, plan, actor="p")
    assert stale_wards(seeded) == []
    retire_worker(seeded, "C", actor="p")  # C holds G3 in 410802002
    assert stale_wards(seeded) == ["410802002"]
    add_worker(seeded, {"worker_id": "E", "name": "戊", "home_ward": "410802001",
                        "geometry": Point(113.202, 35.205)}, actor="p")
    assert stale_wards(seeded) == ["410802001", "410802002"]


def test_solved_plan_reports_each_territory_and_balance(seeded):
    from gridgov.plans.allocation import AllocationOptions
    from gridgov.plans.run import solve_plan

    outcome = solve_plan(seeded, options=AllocationOptions(rule="several", balance=0.5, time_limit=2.0),
                         actor="test")
    territories = outcome.summary["territories"]
    assert set(territories) == {w for w in plan_assignment(seeded, outcome.plan_id).values() if w}
    for info in territories.values():
        assert info["ward"] in {"410802001", "410802002"} and info["load"] > 0
        assert 0 < info["compactness"] <= 1
    assert all(o.balance_met is not None for o in outcome.wards if o.loads)
    assert outcome.summary["balance_unmet_wards"] == sorted(o.ward_code for o in outcome.wards if o.balance_met is False)


def test_rule_per_ward(seeded):
    from gridgov.plans.allocation import AllocationOptions
    from gridgov.plans.run import solve_plan

    options = AllocationOptions(rule="several", ward_rules={"410802002": "one"}, time_limit=2.0)
    outcome = solve_plan(seeded, options=options, actor="test")
    assert {o.ward_code: o.rule for o in outcome.wards} == {"410802001": "several", "410802002": "one"}
    assert seeded.load("plans", where={"plan_id": outcome.plan_id}).iloc[0]["params"]["ward_rules"] == {"410802002": "one"}


def _solve(store, **kwargs):
    from gridgov.plans.allocation import AllocationOptions
    from gridgov.plans.run import solve_plan

    return solve_plan(store, options=AllocationOptions(rule="one", time_limit=2.0), actor="test", **kwargs)


def test_publishing_a_draft_solved_from_an_older_plan_is_refused(seeded, fingerprint):
    first = _solve(seeded).plan_id
    publish_plan(seeded, first, actor="p")
    retire_worker(seeded, "A", actor="p")  # ward 410802001
    only_first_ward = _solve(seeded, wards=["410802001"]).plan_id
    retire_worker(seeded, "C", actor="p")  # ward 410802002
    both = _solve(seeded, changed=True).plan_id
    assert seeded.load("plans", where={"plan_id": both}).iloc[0]["scope"] is None  # both wards re-solved
    publish_plan(seeded, both, actor="p")
    before = fingerprint(seeded)
    with pytest.raises(StalePlanError, match=f"plan {only_first_ward} was solved from plan {first}, but plan {both}"):
        publish_plan(seeded, only_first_ward, actor="p")
    assert fingerprint(seeded) == before
    # A deliberate roll-back is allowed, and what it undoes is found again: C is back on G3.
    publish_plan(seeded, only_first_ward, actor="p", force=True)
    assert plan_assignment(seeded, only_first_ward)["G3"] == "C"
    assert stale_wards(seeded) == ["410802002"]


def test_a_change_after_the_solve_is_found_once_the_draft_is_published(seeded):
    publish_plan(seeded, _solve(seeded).plan_id, actor="p")
    retire_worker(seeded, "A", actor="p")
    draft = _solve(seeded, changed=True).plan_id
    assert seeded.load("plans", where={"plan_id": draft}).iloc[0]["scope"] == ["410802001"]
    set_capacity(seeded, "C", 3.0, actor="p")  # after the draft was solved, before it is published
    publish_plan(seeded, draft, actor="p")
    assert stale_wards(seeded) == ["410802002"]
    assert _solve(seeded, changed=True).confirmed == draft  # C keeps G3: nothing to publish
    assert stale_wards(seeded) == []


def test_a_published_worker_who_is_no_longer_available_marks_the_ward(seeded):
    plan = _solve(seeded).plan_id
    publish_plan(seeded, plan, actor="p")
    assert stale_wards(seeded) == []
    holder = plan_assignment(seeded, plan)["G3"]
    seeded.update("workers", {"worker_id": holder}, {"status": "retired"})  # as an import would, off the ledger
    assert stale_wards(seeded) == ["410802002"]


def test_a_partial_solve_keeps_the_other_wards_reasons(seeded):
    retire_worker(seeded, "C", actor="p")  # two workers for three grids: one grid stays uncovered
    first = _solve(seeded)
    publish_plan(seeded, first.plan_id, actor="p")
    reasons = seeded.load("assignments", where={"plan_id": first.plan_id}).set_index("grid_code")["reason"]
    uncovered = [g for g, w in plan_assignment(seeded, first.plan_id).items() if w is None]
    assert len(uncovered) == 1 and isinstance(reasons[uncovered[0]], str)
    ward = seeded.load("grids", where={"code": uncovered[0]}).iloc[0]["ward_code"]
    other = ({"410802001", "410802002"} - {ward}).pop()
    second = _solve(seeded, wards=[other]).plan_id
    kept = seeded.load("assignments", where={"plan_id": second}).set_index("grid_code")["reason"]
    assert kept[uncovered[0]] == reasons[uncovered[0]]


def test_a_studio_plan_is_not_a_grid_plan(seeded):
    grid = _plan(seeded, {"G1": "A", "G2": "B", "G3": "C"})
    studio = save_plan(seeded, kind="studio", rule="median", params={}, scope=None, assignment={}, reasons={},
                       solver_status="optimal", objective=0.0, bound=0.0, summary={}, actor="p")
    with pytest.raises(NotFoundError, match=f"plan {studio} is not a grid plan"):
        diff_plans(seeded, grid, studio)


def test_summary_distance_is_home_to_grid_not_the_objective(seeded):
    summary = _solve(seeded).summary
    # Every worker lives within the 1.5 km home-ward bonus of their grid: the objective is 0,
    # the distance is not.
    assert summary["cost_km"] == 0.0 and summary["distance_km"] > 0.0


def test_a_grid_imported_after_the_plan_marks_its_ward(seeded):
    publish_plan(seeded, _solve(seeded).plan_id, actor="p")
    seeded.save("grids", gpd.GeoDataFrame({"code": ["G4"], "ward_code": ["410802002"], "households": [100]},
                                          geometry=[box(113.215, 35.21, 113.22, 35.215)], crs="EPSG:4490"))
    assert stale_wards(seeded) == ["410802002"]
    draft = _solve(seeded, changed=True).plan_id  # rule "one": C keeps G3, and G4 says why it is uncovered
    assert "G4" in plan_assignment(seeded, draft)
    reasons = seeded.load("assignments", where={"plan_id": draft}).set_index("grid_code")["reason"]
    assert plan_assignment(seeded, draft)["G4"] is not None or isinstance(reasons["G4"], str)


def test_a_roster_change_is_checked_as_an_import_would_check_it(seeded, fingerprint):
    from gridgov.errors import ValidationError
    from gridgov.plans.roster import update_worker

    before = fingerprint(seeded)
    for values, field in (({"lon": 35.205, "lat": 113.201}, "lon/lat"), ({"phone": "abc123"}, "phone"),
                          ({"sector": "航天"}, "sector"), ({"name": ""}, "name"), ({"lon": 0.0, "lat": 0.0}, "lon/lat")):
        with pytest.raises(ValidationError) as err:
            update_worker(seeded, "A", values, actor="p")
        (problem,) = err.value.problems
        assert problem.field == field and problem.where_en == "the change"
        assert "worker A" in err.value.render("en")
    assert fingerprint(seeded) == before
    diff = update_worker(seeded, "A", {"phone": "+86 138 0391 1234", "home_ward": "民主街道", "lon": 113.215, "lat": 35.205},
                         actor="p")
    assert {k: v for k, v in diff.items() if k != "geometry"} == {
        "phone": (None, "13803911234"), "home_ward": ("410802001", "410802002")}
    row = seeded.load("workers", where={"worker_id": "A"}).iloc[0]
    assert row["phone"] == "13803911234" and row["home_ward"] == "410802002"


def test_problem_places_read_in_english():
    from gridgov.errors import Problem

    assert [Problem("f.xlsx", w, "电话", "坏", "bad").render("en") for w in ("第 3 行", "要素 12", "整个文件", "表头")] == [
        "f.xlsx, row 3, 电话: bad", "f.xlsx, feature 12, 电话: bad", "f.xlsx, whole file, 电话: bad",
        "f.xlsx, header, 电话: bad"]


def test_a_solve_with_nobody_to_place_is_refused_not_stored(seeded, fingerprint):
    for w in ("A", "B", "C"):
        retire_worker(seeded, w, actor="p")
    before = fingerprint(seeded)
    with pytest.raises(UserError, match="no worker can be placed"):
        _solve(seeded)
    assert fingerprint(seeded) == before
    seeded.delete("grids")
    with pytest.raises(UserError, match="the store has no grids"):
        _solve(seeded)
    assert seeded.count("plans") == 0


def test_available_does_not_bring_back_a_retired_worker_unless_reinstated(seeded, fingerprint):
    from gridgov.errors import RetiredWorkerError

    retire_worker(seeded, "A", actor="p")
    before = fingerprint(seeded)
    with pytest.raises(RetiredWorkerError, match="worker A has left the roster"):
        mark_available(seeded, "A", actor="p")
    assert fingerprint(seeded) == before
    assert mark_available(seeded, "A", actor="p", reinstate=True) == {"status": ("retired", "active")}
    assert seeded.load("ledger").iloc[-1]["action"] == "worker.reinstate"


def test_a_plan_solved_while_nothing_was_published_is_judged_too(seeded):
    first = _solve(seeded).plan_id  # nothing published yet
    second = _solve(seeded).plan_id
    publish_plan(seeded, second, actor="p")
    retire_worker(seeded, "C", actor="p")
    publish_plan(seeded, _solve(seeded, changed=True).plan_id, actor="p")
    with pytest.raises(StalePlanError, match=f"plan {first} was solved while no plan was published"):
        publish_plan(seeded, first, actor="p")


def test_wards_carried_over_from_a_plan_stored_before_ledger_seen_keep_their_changes(seeded):
    """The first partial solve after the upgrade must not hide changes in the other wards."""
    old = _plan(seeded, {"G1": "A", "G2": "B", "G3": "C"})  # as schema 4 stored plans: no basis
    publish_plan(seeded, old, actor="p")
    set_capacity(seeded, "C", 3.0, actor="p")  # C holds G3 in 410802002
    assert stale_wards(seeded) == ["410802002"]
    publish_plan(seeded, _solve(seeded, wards=["410802001"]).plan_id, actor="p")
    assert stale_wards(seeded) == ["410802002"]


def test_the_ledger_high_water_waits_for_a_roster_change_in_flight(pg_url):
    """PostgreSQL hands out ledger ids at insert; one may commit after a larger one. The solve's
    'seen' entry is read only once no smaller id can still appear."""
    import threading

    from gridgov.store import open_store

    with open_store(pg_url, create=True) as setup:
        setup.save("workers", [{"worker_id": w, "name": w, "status": "active", "capacity": 1.0} for w in "CD"])
    office1, office2, planner = (open_store(pg_url) for _ in range(3))
    try:
        with office1.transaction():
            set_capacity(office1, "C", 2.0, actor="office1")  # takes the smaller id, not committed yet
            set_capacity(office2, "D", 2.0, actor="office2")  # the larger id, committed
            seen: list[int] = []
            reader = threading.Thread(target=lambda: seen.append(planner.ledger_high_water()))
            reader.start()
            reader.join(1.0)
            assert reader.is_alive() and not seen  # waits for office1 rather than answer past it
        reader.join(10)
        ids = sorted(planner.load("ledger")["entry_id"])
        assert seen == [max(ids)] and len(ids) == 2
    finally:
        for s in (office1, office2, planner):
            s.close()


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_a_phone_edit_does_not_write_back_over_a_retirement_made_meanwhile(seeded, store_url, monkeypatch):
    """PostgreSQL: an office retires the worker while the planner's phone edit is being checked.
    The retirement waits for the edit (the edit holds the worker's row), then applies: both
    survive, neither is written back over."""
    import threading

    import gridgov.plans.roster as roster
    from gridgov.store import open_store

    office = open_store(store_url)
    checked = roster._validated
    retirement: list[threading.Thread] = []

    def retire_meanwhile(*args, **kwargs):
        t = threading.Thread(target=lambda: roster.retire_worker(office, "A", actor="office"))
        t.start()
        t.join(1.0)
        assert t.is_alive()  # it waits for the edit's transaction
        retirement.append(t)
        return checked(*args, **kwargs)

    monkeypatch.setattr(roster, "_validated", retire_meanwhile)
    try:
        roster.update_worker(seeded, "A", {"phone": "13912345678"}, actor="planner")
        retirement[0].join(10)
    finally:
        office.close()
    row = seeded.load("workers", where={"worker_id": "A"}).iloc[0]
    assert row["status"] == "retired" and row["phone"] == "13912345678"


def test_a_new_phone_marks_no_ward_stale(seeded):
    from gridgov.plans.roster import update_worker

    publish_plan(seeded, _solve(seeded).plan_id, actor="p")
    update_worker(seeded, "C", {"phone": "13912345678"}, actor="p")
    assert stale_wards(seeded) == []
    update_worker(seeded, "C", {"home_ward": "410802001"}, actor="p")
    assert stale_wards(seeded) == ["410802001", "410802002"]


def test_a_re_solve_that_changes_nothing_confirms_the_published_plan_instead_of_a_draft(seeded):
    published = _solve(seeded).plan_id
    publish_plan(seeded, published, actor="p")
    set_capacity(seeded, "C", 3.0, actor="p")  # C keeps G3: nothing moves
    assert stale_wards(seeded) == ["410802002"]
    outcome = _solve(seeded, changed=True)
    assert (outcome.plan_id, outcome.confirmed, outcome.scope) == (None, published, ("410802002",))
    assert len(seeded.rows("plans")) == 1  # no identical draft
    assert stale_wards(seeded) == []  # the next --changed finds nothing
    entry = seeded.rows("ledger")[-1]
    assert (entry["action"], entry["subject"]) == ("plan.confirm", f"plan {published}")
    assert entry["before"]["ledger_seen"]["410802002"] < entry["after"]["ledger_seen"]["410802002"]
    # A change that does move someone still makes a draft, and the other ward is untouched.
    retire_worker(seeded, "C", actor="p")
    assert _solve(seeded, changed=True).plan_id is not None


def test_a_confirmation_is_not_written_over_a_plan_published_meanwhile(seeded):
    from gridgov.plans.versions import confirm_published

    first = _solve(seeded).plan_id
    publish_plan(seeded, first, actor="p")
    second = _solve(seeded).plan_id
    publish_plan(seeded, second, actor="p", force=True)
    before = seeded.rows("plans")
    assert not confirm_published(seeded, first, ledger_seen={"410802001": 99}, wards=["410802001"], actor="p")
    assert seeded.rows("plans") == before and seeded.rows("ledger")[-1]["action"] == "plan.publish"


def test_a_worker_imported_by_mistake_is_removed_and_restored_from_the_ledger(seeded, fingerprint):
    from gridgov.errors import WorkerInPlansError
    from gridgov.plans.roster import remove_worker, restore_worker

    mark_unavailable(seeded, "C", start=date(2026, 1, 1), end=date(2026, 2, 1), actor="p")
    seeded.update("workers", {"worker_id": "C"}, {"honours": [{"title": "全国劳动模范", "level": "全国", "year": 2020}],
                                                  "phone": "13900000003"})
    original = seeded.rows("workers", where={"worker_id": "C"})[0]
    assert remove_worker(seeded, "C", actor="p") == []
    assert seeded.count("workers", where={"worker_id": "C"}) == 0
    entry = seeded.rows("ledger")[-1]
    assert (entry["action"], entry["subject"], entry["before"]["phone"]) == ("worker.remove", "C", "13900000003")
    restore_worker(seeded, "C", actor="p")
    back = seeded.rows("workers", where={"worker_id": "C"})[0]
    assert {k: v for k, v in back.items() if k != "geometry"} == {k: v for k, v in original.items() if k != "geometry"}
    assert back["geometry"].equals(original["geometry"])
    assert seeded.rows("ledger")[-1]["action"] == "worker.restore"
    before = fingerprint(seeded)
    with pytest.raises(UserError, match="nothing to restore"):
        restore_worker(seeded, "C", actor="p")
    with pytest.raises(NotFoundError):
        remove_worker(seeded, "ZZ", actor="p")
    assert fingerprint(seeded) == before
    publish_plan(seeded, _solve(seeded).plan_id, actor="p")
    held = {w for w in plan_assignment(seeded, 1).values() if w}
    before = fingerprint(seeded)
    with pytest.raises(WorkerInPlansError, match="retire them instead"):
        remove_worker(seeded, sorted(held)[0], actor="p")
    assert fingerprint(seeded) == before


def test_a_draft_naming_a_removed_worker_is_not_published(seeded):
    from gridgov.plans.roster import remove_worker

    draft = _plan(seeded, {"G1": "A", "G2": "B", "G3": "C"})
    assert remove_worker(seeded, "C", actor="p") == [draft]
    with pytest.raises(UserError, match="names workers deleted from the roster since"):
        publish_plan(seeded, draft, actor="p")
    assert published_plan(seeded) is None


def test_an_absence_is_not_booked_for_a_retired_worker(seeded, fingerprint):
    from gridgov.errors import RetiredWorkerError

    retire_worker(seeded, "C", actor="p")
    before = fingerprint(seeded)
    with pytest.raises(RetiredWorkerError, match="an absence cannot be booked"):
        mark_unavailable(seeded, "C", start=date(2026, 11, 1), end=date(2026, 11, 10), actor="p")
    assert fingerprint(seeded) == before


def test_a_second_absence_does_not_silently_drop_the_first(seeded, fingerprint):
    from gridgov.errors import AbsenceReplaceError

    mark_unavailable(seeded, "C", start=date(2099, 12, 10), end=date(2099, 12, 20), actor="p")
    before = fingerprint(seeded)
    with pytest.raises(AbsenceReplaceError, match="2099-12-10 to 2099-12-20"):
        mark_unavailable(seeded, "C", start=date(2099, 11, 26), end=date(2099, 11, 28), actor="p")
    assert fingerprint(seeded) == before
    # Extending it drops nothing: no question asked.
    mark_unavailable(seeded, "C", start=date(2099, 12, 1), end=date(2099, 12, 31), actor="p")
    mark_unavailable(seeded, "C", start=date(2099, 11, 26), end=date(2099, 11, 28), actor="p", replace=True)
    row = seeded.rows("workers", where={"worker_id": "C"})[0]
    assert (str(row["unavailable_from"])[:10], str(row["unavailable_to"])[:10]) == ("2099-11-26", "2099-11-28")
    # An absence that is over is history (on the ledger): a new one replaces it without a question.
    mark_unavailable(seeded, "B", start=date(2020, 1, 1), end=date(2020, 1, 31), actor="p")
    mark_unavailable(seeded, "B", start=date(2099, 1, 1), end=None, actor="p")


def test_available_for_a_worker_who_was_not_away_changes_nothing(seeded):
    seeded.update("workers", {"worker_id": "A"}, {"status": None})  # as an import without 状态 leaves it
    entries = len(seeded.rows("ledger"))
    assert mark_available(seeded, "A", actor="p") == {} and mark_available(seeded, "B", actor="p") == {}
    assert len(seeded.rows("ledger")) == entries


def test_the_workbook_says_when_a_listed_worker_is_no_longer_available(seeded):
    from gridgov.plans.workbook import ledger_rows

    plan = _solve(seeded).plan_id
    publish_plan(seeded, plan, actor="p")
    held = plan_assignment(seeded, plan)
    retire_worker(seeded, held["G3"], actor="p")
    mark_unavailable(seeded, held["G1"], start=date(2020, 1, 1), end=date(2099, 1, 31), actor="p")
    notes = {row[2]: row[-1] for row in ledger_rows(seeded, plan, None)}
    assert notes["G3"] == "该劳模已退出，待重新安排"
    assert notes["G1"] == "该劳模暂不可用（至 2099-01-31），待重新安排"
    assert notes["G2"] is None or "待重新安排" not in notes["G2"]


def _grids_file(tmp_path, features, name="grids.geojson"):
    frame = gpd.GeoDataFrame({"code": [c for c, _ in features], "ward_code": ["410802001"] * len(features),
                              "households": [300] * len(features)},
                             geometry=[g for _, g in features], crs="EPSG:4490")
    path = tmp_path / name
    frame.to_file(path, driver="GeoJSON")
    return path


def test_a_ward_whose_grids_were_renumbered_is_imported_with_replace(seeded, tmp_path, fingerprint):
    from gridgov.errors import ValidationError
    from gridgov.plans.imports import import_file

    published = _solve(seeded).plan_id
    publish_plan(seeded, published, actor="p")
    # 民生街道 split G1 into two grids with new codes; G2 stays.
    split = _grids_file(tmp_path, [("410802001001011", box(113.20, 35.20, 113.205, 35.205)),
                                   ("410802001001012", box(113.20, 35.205, 113.205, 35.21)),
                                   ("G2", box(113.205, 35.20, 113.21, 35.21))])
    before = fingerprint(seeded)
    with pytest.raises(ValidationError) as err:
        import_file(seeded, "grids", split)
    assert "--replace" in err.value.render("en") and fingerprint(seeded) == before
    report = import_file(seeded, "grids", split, replace=True, dry_run=True)
    assert "G1 will be removed" not in report.render("en") and "will be removed: G1" in report.render("en")
    assert fingerprint(seeded) == before
    import_file(seeded, "grids", split, replace=True, actor="p")
    assert sorted(seeded.load("grids")["code"]) == ["410802001001011", "410802001001012", "G2", "G3"]
    entry = seeded.rows("ledger", where={"action": "grid.remove"})[0]
    assert entry["subject"] == "G1" and entry["before"]["ward_code"] == "410802001" and entry["before"]["geometry"]
    assert entry["before"]["households"] == 400  # a number, as stored
    assert stale_wards(seeded) == ["410802001"]
    draft = _solve(seeded, changed=True).plan_id
    assert sorted(plan_assignment(seeded, draft)) == ["410802001001011", "410802001001012", "G2", "G3"]  # G1 left the plan
    publish_plan(seeded, draft, actor="p")
    assert stale_wards(seeded) == []


def test_a_merge_into_a_kept_code_marks_the_ward(seeded, tmp_path):
    from gridgov.plans.imports import import_file

    publish_plan(seeded, _solve(seeded).plan_id, actor="p")
    merged = _grids_file(tmp_path, [("G1", box(113.20, 35.20, 113.21, 35.21))])  # G2 merged into G1
    import_file(seeded, "grids", merged, replace=True, actor="p")
    assert sorted(seeded.load("grids")["code"]) == ["G1", "G3"]
    assert stale_wards(seeded) == ["410802001"]  # G2 is gone from a plan that holds it
    with pytest.raises(UserError, match="grids only"):
        import_file(seeded, "wards", merged, replace=True)


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_a_deletion_and_a_publish_naming_the_worker_do_not_both_succeed(seeded, store_url):
    """PostgreSQL: deleting a worker while a draft naming them is published. Whichever commits
    first wins; the other sees it (the publish holds the named workers' rows)."""
    import threading

    from gridgov.errors import WorkerInPlansError
    from gridgov.plans.roster import remove_worker
    from gridgov.store import open_store

    draft = _plan(seeded, {"G1": "A", "G2": "B", "G3": "C"})
    publisher, office = open_store(store_url), open_store(store_url)
    outcome: list[object] = []
    try:
        with publisher.transaction():
            publish_plan(publisher, draft, actor="planner")  # not committed yet
            remover = threading.Thread(target=lambda: outcome.append(_try(remove_worker, office, "C", actor="office")))
            remover.start()
            remover.join(1.0)
            assert remover.is_alive(), outcome  # the deletion waits for the publish
        remover.join(10)
        assert isinstance(outcome[0], WorkerInPlansError)
        assert seeded.count("workers", where={"worker_id": "C"}) == 1
    finally:
        publisher.close()
        office.close()


@pytest.mark.parametrize("store_url", ["postgis"], indirect=True)
def test_two_offices_booking_absences_for_one_worker_take_turns(seeded, store_url):
    import threading

    from gridgov.errors import AbsenceReplaceError
    from gridgov.store import open_store

    first, second = open_store(store_url), open_store(store_url)
    outcome: list[object] = []
    try:
        with first.transaction():
            mark_unavailable(first, "C", start=date(2099, 12, 10), end=date(2099, 12, 20), actor="office1")
            other = threading.Thread(target=lambda: outcome.append(_try(
                mark_unavailable, second, "C", start=date(2099, 11, 26), end=date(2099, 11, 28), actor="office2")))
            other.start()
            other.join(1.0)
            assert other.is_alive()
        other.join(10)
        assert isinstance(outcome[0], AbsenceReplaceError)  # it saw the first booking, did not replace it
        row = seeded.rows("workers", where={"worker_id": "C"})[0]
        assert str(row["unavailable_from"])[:10] == "2099-12-10"
    finally:
        first.close()
        second.close()


def _try(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the test inspects what was raised
        return exc


def test_a_renumbered_grid_keeps_its_worker_and_an_older_draft_holding_it_is_not_published(seeded, tmp_path):
    from gridgov.plans.imports import import_file

    published = _solve(seeded).plan_id
    publish_plan(seeded, published, actor="p")
    held = plan_assignment(seeded, published)
    older_draft = _solve(seeded).plan_id  # solved before the renumbering: holds G2
    # A newcomer living in the middle of G2: nearer than its holder, so only the moves rule keeps it.
    add_worker(seeded, {"worker_id": "D", "name": "丁", "home_ward": "410802001",
                        "geometry": Point(113.2075, 35.205)}, actor="p")
    renumbered = _grids_file(tmp_path, [("G1", box(113.20, 35.20, 113.205, 35.21)),
                                        ("410802001001013", box(113.205, 35.20, 113.21, 35.21))])
    import_file(seeded, "grids", renumbered, replace=True, actor="p")
    outcome = _solve(seeded, changed=True)
    after = plan_assignment(seeded, outcome.plan_id)
    assert after["410802001001013"] == held["G2"] and after["G1"] == held["G1"]  # nobody moved
    assert outcome.summary["moves"] == 0
    from gridgov.plans.workbook import ledger_rows

    old_sheet = {row[2]: row for row in ledger_rows(seeded, published, ["410802001"])}
    assert old_sheet["G2"][5] == held["G2"] and old_sheet["G2"][-1] == "此网格在方案之后已撤销"
    assert old_sheet["410802001001013"][5] is None and old_sheet["410802001001013"][-1] == "方案之后新增的网格，本方案未安排"
    from gridgov.maps.scene import load_scene

    old_map = load_scene(seeded, plan_id=published, ward="410802001").grids.set_index("code")
    assert old_map.loc["G2", "worker_id"] == held["G2"] and not old_map.geometry["G2"].is_empty
    with pytest.raises(UserError, match="holds grids removed since"):
        publish_plan(seeded, older_draft, actor="p")
    publish_plan(seeded, outcome.plan_id, actor="p")


def test_the_id_of_a_row_deleted_by_mistake_is_not_given_to_someone_else(seeded, tmp_path, fingerprint):
    """The ledger keeps the deleted row under its id: a new person under it would mix two
    people's histories, and the street office seeing the new one would read the other's record."""
    from gridgov.errors import DeletedWorkerIdError, ValidationError
    from gridgov.plans.imports import import_file
    from gridgov.plans.roster import add_worker, remove_worker, restore_worker

    remove_worker(seeded, "C", actor="p")
    before = fingerprint(seeded)
    with pytest.raises(DeletedWorkerIdError, match="restore"):
        add_worker(seeded, {"worker_id": "C", "name": "另一个人", "home_ward": "410802001"}, actor="p")
    sheet = tmp_path / "new.csv"
    sheet.write_text("编号,姓名,居住街道,经度,纬度\nN1,新人,410802001,113.2021,35.2032\n"
                     "C,另一个人,410802001,113.2031,35.2032\n", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        import_file(seeded, "workers", sheet)
    assert [(p.where, p.field) for p in err.value.problems] == [("第 3 行", "编号")]
    assert "gridgov worker restore C" in err.value.problems[0].fix
    assert fingerprint(seeded) == before
    restore_worker(seeded, "C", actor="p")  # the way back for the same person
    import_file(seeded, "workers", sheet)  # now an update of C (and N1 added)
    assert seeded.rows("workers", where={"worker_id": "C"})[0]["name"] == "另一个人"


def test_a_worker_whose_absence_ran_out_marks_their_ward(seeded):
    """An absence that ends on its date writes nothing: --changed said "nothing to re-solve" and
    the worker stayed idle beside uncovered grids."""
    from gridgov.plans.allocation import AllocationOptions
    from gridgov.plans.run import solve_plan

    mark_unavailable(seeded, "C", start=date(2026, 1, 1), end=date(2026, 1, 31), actor="办公室")
    # Solved for a day inside the absence (as a plan solved then would have been).
    away = solve_plan(seeded, options=AllocationOptions(rule="one", time_limit=2.0, on=date(2026, 1, 15)), actor="t")
    assert "C" not in plan_assignment(seeded, away.plan_id).values()
    publish_plan(seeded, away.plan_id, actor="p")
    assert stale_wards(seeded) == ["410802002"]  # C lives there and is back
    back = _solve(seeded, changed=True)
    assert back.scope == ("410802002",) or list(back.scope) == ["410802002"]
    publish_plan(seeded, back.plan_id, actor="p")
    assert "C" in plan_assignment(seeded, back.plan_id).values() and stale_wards(seeded) == []


def test_a_home_ward_that_does_not_hold_the_home_is_refused_on_update_and_noted_on_import(seeded, tmp_path, fingerprint):
    """`worker update --home-ward` without coordinates moved the 人熟、地熟 bonus to a ward the worker
    does not live in (15 km away in the year's run); an import row did the same silently."""
    from gridgov.plans.imports import import_file
    from gridgov.plans.roster import update_worker

    before = fingerprint(seeded)
    with pytest.raises(UserError, match="home ward 410802002 does not hold the home point: it lies in ward 410802001"):
        update_worker(seeded, "A", {"home_ward": "410802002"}, actor="x")  # A lives at 113.201, in 410802001
    assert fingerprint(seeded) == before
    moved = update_worker(seeded, "A", {"home_ward": "410802002", "lon": 113.215, "lat": 35.205}, actor="x")
    assert set(moved) == {"home_ward", "geometry"}
    roster = tmp_path / "roster.csv"
    roster.write_text("编号,姓名,居住街道,经度,纬度\nN1,新甲,410802001,113.218,35.205\nN2,新乙,410802002,113.215,35.205\n",
                      encoding="utf-8")
    report = import_file(seeded, "workers", roster, dry_run=True)
    noted = [n for n in report.notices if "does not hold the home point" in n.message_en]
    assert [(n.where, n.field) for n in noted] == [("第 2 行", "居住街道")] and "lies in ward 410802002" in noted[0].message_en


def test_a_returned_worker_not_needed_is_confirmed_once_not_on_every_run(seeded):
    """When the re-solve gives the plan back unchanged (the returned worker is not needed), the
    ward was listed again on every --changed, each run adding a 复核方案 entry."""
    from gridgov.plans.allocation import AllocationOptions
    from gridgov.plans.run import solve_plan

    seeded.save("workers", [{"worker_id": "D", "name": "丁", "home_ward": "410802002", "status": "active",
                             "capacity": 1.0, "geometry": Point(113.219, 35.205)}])
    mark_unavailable(seeded, "D", start=date(2026, 1, 1), end=date(2026, 1, 31), actor="办公室")
    away = solve_plan(seeded, options=AllocationOptions(rule="one", time_limit=2.0, on=date(2026, 1, 15)), actor="t")
    publish_plan(seeded, away.plan_id, actor="p")
    assert stale_wards(seeded) == ["410802002"]
    again = _solve(seeded, changed=True)  # C still covers G3: nothing moves
    assert again.plan_id is None and again.confirmed == away.plan_id
    assert stale_wards(seeded) == []


def test_the_home_ward_check_follows_the_stored_home_and_only_a_new_ward(seeded, tmp_path):
    """An import changing only 居住街道 passed unnoticed (its rows had no coordinates to check); an
    unchanged ward resent with a new phone was refused; a new worker was never checked."""
    from gridgov.plans.imports import import_file
    from gridgov.plans.roster import update_worker

    seeded.save("workers", [{"worker_id": "E", "name": "戊", "home_ward": "410802002", "status": "active",
                             "capacity": 1.0, "geometry": Point(113.219, 35.205)}])  # 820 m inside 410802002
    moved = tmp_path / "moved.csv"
    moved.write_text("编号,姓名,居住街道\nE,戊,410802001\n", encoding="utf-8")
    report = import_file(seeded, "workers", moved, dry_run=True)
    assert any(n.field == "居住街道" and "does not hold the home point" in n.message_en for n in report.notices)
    assert update_worker(seeded, "E", {"phone": "13900000009", "home_ward": "410802002"}, actor="x") == {
        "phone": (None, "13900000009")}
    with pytest.raises(UserError, match="does not hold the home point"):
        add_worker(seeded, {"worker_id": "F", "name": "己", "home_ward": "410802001",
                            "geometry": Point(113.219, 35.205)}, actor="x")


def test_a_diff_says_what_it_trades(seeded):
    """Coverage gained and lost against grids taken from workers still on duty: a planner could
    not see that six moves bought one grid of 188 households."""
    from gridgov.plans.versions import diff_summary

    first = _plan(seeded, {"G1": "A", "G2": None, "G3": "C"})
    retire_worker(seeded, "C", actor="办公室")
    second = _plan(seeded, {"G1": "B", "G2": "A", "G3": None})  # A moves, C's grid is lost
    trade = diff_summary(seeded, diff_plans(seeded, first, second))
    assert (trade.covered, trade.covered_households, trade.uncovered, trade.uncovered_households) == (1, 300, 1, 500)
    assert (trade.from_on_duty, trade.from_away) == (1, 0)
    third = _plan(seeded, {"G1": "B", "G2": "A", "G3": "B"})
    assert diff_summary(seeded, diff_plans(seeded, first, third)).from_away == 1  # C left: not an on-duty move
