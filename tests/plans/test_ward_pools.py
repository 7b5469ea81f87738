"""Which workers each ward's solve draws on: hand-drawn wards with a known answer."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import Point, box

from gridgov.plans.allocation import AllocationOptions, _make_up_shortfalls
from gridgov.plans.roster import add_worker, retire_worker
from gridgov.plans.run import solve_plan
from gridgov.plans.versions import plan_assignment, publish_plan, stale_wards


def test_a_short_ward_takes_the_nearest_worker_a_ward_with_room_can_spare():
    # Workers 0-2 joined ward 0 (300 of capacity for a need of 150), worker 3 ward 1 (50 for 120).
    joined = np.array([0, 0, 0, 1])
    supply = np.array([100, 100, 100, 50])
    w_idx, v_idx, dist = np.array([1, 2]), np.array([1, 1]), np.array([300.0, 500.0])
    _make_up_shortfalls(joined, supply, np.array([150, 120, 0]), w_idx, v_idx, dist)
    assert joined.tolist() == [0, 1, 0, 1]  # worker 1 (300 m) moved; ward 0 keeps 200 >= 150


def test_a_ward_is_not_robbed_below_its_own_need():
    joined = np.array([0, 0, 0, 1])
    _make_up_shortfalls(joined, np.array([100, 100, 100, 50]), np.array([250, 120, 0]),
                        np.array([1, 2]), np.array([1, 1]), np.array([300.0, 500.0]))
    assert joined.tolist() == [0, 0, 0, 1]


def test_a_worker_in_no_pool_is_taken_first_come():
    joined = np.array([-1, 0])
    _make_up_shortfalls(joined, np.array([100, 100]), np.array([100, 100]),
                        np.array([0]), np.array([1]), np.array([900.0]))
    assert joined.tolist() == [1, 0]


def _two_wards(store, *, split_a: bool = False, with_x: bool = True) -> None:
    """Wards A and B side by side (about 900 m wide), one grid of 400 households each (A: two
    such grids, its west and east halves, with ``split_a``); X lives in A, Z in B near A."""
    a, b = box(113.20, 35.20, 113.21, 35.21), box(113.21, 35.20, 113.22, 35.21)
    store.save("wards", gpd.GeoDataFrame({"code": ["410802001", "410802002"], "name": ["甲街道", "乙街道"],
                                          "county_code": ["410802", "410802"]}, geometry=[a, b], crs="EPSG:4490"))
    grids = [("410802001001001", a), ("410802002001001", b)]
    if split_a:
        grids = [("410802001001001", box(113.20, 35.20, 113.205, 35.21)),
                 ("410802001001002", box(113.205, 35.20, 113.21, 35.21)), grids[1]]
    store.save("grids", gpd.GeoDataFrame({"code": [c for c, _ in grids], "ward_code": [c[:9] for c, _ in grids],
                                          "households": [400] * len(grids)},
                                         geometry=[g for _, g in grids], crs="EPSG:4490"))
    store.save("workers", [
        {"worker_id": "X", "name": "甲", "home_ward": "410802001", "status": "active", "capacity": 1.0,
         "geometry": Point(113.205, 35.205)},
        {"worker_id": "Z", "name": "乙", "home_ward": "410802002", "status": "active", "capacity": 1.0,
         "geometry": Point(113.212, 35.205)},
    ][0 if with_x else 1:])


def test_a_re_solved_ward_draws_on_a_free_worker_not_on_one_held_elsewhere(store):
    # The city-wide flow sends Z (nearer A) to A and the newcomer F to B; Z holds B's grid, so
    # A's pool was empty and its grid went uncovered while F stood idle in B's pool.
    _two_wards(store)
    first = solve_plan(store, options=AllocationOptions(time_limit=2.0), actor="t")
    assert plan_assignment(store, first.plan_id) == {"410802001001001": "X", "410802002001001": "Z"}
    publish_plan(store, first.plan_id, actor="t")
    retire_worker(store, "X", actor="t")
    add_worker(store, {"worker_id": "F", "name": "丙", "home_ward": "410802002", "capacity": 1.0,
                       "geometry": Point(113.219, 35.205)}, actor="t")
    again = solve_plan(store, options=AllocationOptions(time_limit=2.0), changed=True, actor="t")
    assert set(again.scope) == {"410802001", "410802002"}
    assert plan_assignment(store, again.plan_id) == {"410802001001001": "F", "410802002001001": "Z"}
    assert again.summary["moves"] == 0


def test_a_ward_solved_alone_gets_the_free_worker_the_city_flow_gave_a_ward_outside_it(store):
    _two_wards(store)
    first = solve_plan(store, options=AllocationOptions(time_limit=2.0), actor="t")
    publish_plan(store, first.plan_id, actor="t")
    retire_worker(store, "X", actor="t")
    add_worker(store, {"worker_id": "F", "name": "丙", "home_ward": "410802002", "capacity": 1.0,
                       "geometry": Point(113.219, 35.205)}, actor="t")
    alone = solve_plan(store, options=AllocationOptions(time_limit=2.0), wards=["410802001"], actor="t")
    assert plan_assignment(store, alone.plan_id) == {"410802001001001": "F", "410802002001001": "Z"}


def test_a_newcomer_next_door_marks_a_ward_with_uncovered_grids(store):
    # A holds two grids of a full standard grid each and X can take one: one stays uncovered.
    # F joins the roster in B, within reach of it: A is re-solved too, and F covers it.
    _two_wards(store, split_a=True)
    first = solve_plan(store, options=AllocationOptions(time_limit=2.0), actor="t")
    held = plan_assignment(store, first.plan_id)
    assert sorted(w or "-" for w in held.values()) == ["-", "X", "Z"]
    publish_plan(store, first.plan_id, actor="t")
    assert stale_wards(store) == []
    add_worker(store, {"worker_id": "F", "name": "丙", "home_ward": "410802002", "capacity": 1.0,
                       "geometry": Point(113.219, 35.205)}, actor="t")
    assert stale_wards(store) == ["410802001", "410802002"]
    again = solve_plan(store, options=AllocationOptions(time_limit=2.0), changed=True, actor="t")
    assert again.summary["uncovered"] == 0 and again.summary["moves"] == 0
    publish_plan(store, again.plan_id, actor="t")
    assert stale_wards(store) == []


def test_a_newcomer_out_of_reach_of_the_uncovered_grid_marks_only_their_home(store, monkeypatch):
    from gridgov.settings import get_settings

    _two_wards(store, with_x=False)
    first = solve_plan(store, options=AllocationOptions(time_limit=2.0, max_distance_m=1000.0), actor="t")
    publish_plan(store, first.plan_id, actor="t")
    monkeypatch.setenv("GRIDGOV_MAX_ASSIGN_KM", "1")
    get_settings.cache_clear()
    try:
        # F lives about 1.3 km from A's grid.
        add_worker(store, {"worker_id": "F", "name": "丙", "home_ward": "410802002", "capacity": 1.0,
                           "geometry": Point(113.219, 35.205)}, actor="t")
        assert stale_wards(store) == ["410802002"]
    finally:
        get_settings.cache_clear()
