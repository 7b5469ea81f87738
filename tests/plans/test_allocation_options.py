"""The solve use case's options: the documented settings reach the solver, and plans record them."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from gridgov.plans.allocation import AllocationOptions
from gridgov.plans.run import solve_plan
from gridgov.plans.versions import plan_assignment
from gridgov.settings import get_settings


@pytest.fixture
def fresh_settings(monkeypatch):
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _ward_with_a_worker(store, *, worker_lon: float) -> None:
    store.save("wards", gpd.GeoDataFrame({"code": ["410802001"], "name": ["民生街道"], "county_code": ["410802"]},
                                         geometry=[box(113.20, 35.20, 113.21, 35.21)], crs="EPSG:4490"))
    store.save("grids", gpd.GeoDataFrame({"code": ["G1"], "ward_code": ["410802001"], "households": [300]},
                                         geometry=[box(113.20, 35.20, 113.21, 35.21)], crs="EPSG:4490"))
    store.save("workers", [{"worker_id": "A", "name": "甲", "home_ward": "410802002", "status": "active",
                            "capacity": 1.0, "geometry": Point(worker_lon, 35.205)}])


def test_the_distance_settings_are_the_options_defaults(fresh_settings):
    # GRIDGOV_MAX_ASSIGN_KM and GRIDGOV_HOME_WARD_BONUS_M were documented and read by nothing.
    fresh_settings.setenv("GRIDGOV_MAX_ASSIGN_KM", "2.5")
    fresh_settings.setenv("GRIDGOV_HOME_WARD_BONUS_M", "800")
    options = AllocationOptions()
    assert (options.max_distance_m, options.home_ward_bonus_m) == (2500.0, 800.0)
    assert AllocationOptions(max_distance_m=9000.0).max_distance_m == 9000.0


def test_a_worker_beyond_the_set_distance_is_not_placed(store, fresh_settings):
    # The worker lives about 9 km east of the grid's centre.
    _ward_with_a_worker(store, worker_lon=113.305)
    near = solve_plan(store, options=AllocationOptions(time_limit=2.0), actor="t")
    assert plan_assignment(store, near.plan_id) == {"G1": "A"}
    fresh_settings.setenv("GRIDGOV_MAX_ASSIGN_KM", "5")
    get_settings.cache_clear()
    far = solve_plan(store, actor="t")  # the default options too (they were built once, at import)
    assert plan_assignment(store, far.plan_id) == {"G1": None}
    stored = store.rows("plans", where={"plan_id": far.plan_id})[0]["params"]
    assert stored["max_distance_m"] == 5000.0
