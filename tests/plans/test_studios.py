"""Studios on hand-made stores: a known best site with a fixed one, workplace preference, staffing rules, the stored plan."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from gridgov.errors import UserError
from gridgov.plans.studios import (
    SECTOR_TYPES,
    StudioOptions,
    fits,
    free_capacity,
    hotspot_report,
    place_studios,
    studio_commitments,
    studio_summary,
)
from gridgov.plans.versions import get_plan, publish_plan, save_plan

X0, Y0 = 500_000.0, 3_900_000.0  # metres in EPSG:4547, near Jiaozuo
KM = 1000.0
WINDOW = {"start": date(2025, 1, 1), "end": date(2025, 12, 31)}


def _centre(i: int) -> Point:
    """Centre of grid G<i> in a row of 1 km cells."""
    return Point(X0 + i * KM + KM / 2, Y0 + KM / 2)


def _gdf(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4547")


def _seed(store, incidents: dict[int, dict[str, int]], *, sites: list[dict] | None = None, households: int = 400) -> None:
    """Five 1 km grids G0..G4 in a row; ``incidents`` per grid position and type, dated in 2025."""
    store.save("wards", _gdf([{"code": "W1", "name": "一街道", "county_code": "410802", "geometry": box(X0, Y0, X0 + 5 * KM, Y0 + KM)}]))
    store.save("grids", _gdf([
        {"code": f"G{i}", "ward_code": "W1", "name": f"网格{i}", "households": households,
         "geometry": box(X0 + i * KM, Y0, X0 + (i + 1) * KM, Y0 + KM)}
        for i in range(5)
    ]))
    rows = []
    for i, by_type in incidents.items():
        for t, k in by_type.items():
            rows += [{"incident_id": f"I{i}{t}{n}", "type": t, "date": date(2025, 6, 1), "geometry": _centre(i)} for n in range(k)]
    rows.append({"incident_id": "OLD", "type": "劳动争议", "date": date(2023, 1, 1), "geometry": _centre(0)})  # out of window
    store.save("incidents", _gdf(rows))
    if sites:
        store.save("sites", _gdf(sites))


def _site(site_id: str, i: int, *, kind: str = "社区服务中心", existing: bool = False, types=None) -> dict:
    return {"site_id": site_id, "name": site_id, "kind": kind, "types": types, "existing": existing, "geometry": _centre(i)}


SITES = [
    _site("S0", 0, existing=True),
    _site("S2", 2),
    _site("S3", 3),
    _site("S4", 4, kind="园区服务站"),
]
# G3 and G4 are busy with labour disputes; G0..G2 have one neighbour dispute each.
DEMAND = {0: {"邻里": 1}, 1: {"邻里": 1}, 2: {"邻里": 1}, 3: {"劳动争议": 5}, 4: {"劳动争议": 5}}


def test_median_keeps_the_existing_site_and_opens_the_known_best(store):
    _seed(store, DEMAND, sites=SITES)
    options = StudioOptions(types=("劳动争议", "邻里"), count=2, labour_site_factor=1.0, time_limit=5.0, **WINDOW)
    outcome = place_studios(store, options=options, actor="t")
    studios = {s["site_id"]: s for s in outcome.summary["studios"]}
    # With S0 fixed, S3 costs 1+1+0+5 = 7 km·disputes, S4 1+2+5+0 = 8, S2 1+0+5+10 = 16.
    assert set(studios) == {"S0", "S3"}
    assert outcome.placements[0].objective == pytest.approx(7 * KM)
    assert studios["S0"]["existing"] and not studios["S3"]["existing"]
    assert outcome.summary["served"]["劳动争议+邻里"] == {"G0": "S0", "G1": "S0", "G2": "S3", "G3": "S3", "G4": "S3"}
    assert studios["S3"]["disputes"] == 11 and studios["S3"]["weighted_km"] == pytest.approx(6.0)

    plan = get_plan(store, outcome.plan_id)
    assert plan["kind"] == "studio" and plan["status"] == "draft" and plan["rule"] == "median"
    assert plan["summary"]["studios"] == outcome.summary["studios"]
    assert plan["params"]["types"] == ["劳动争议", "邻里"]
    assert store.count("assignments", where={"plan_id": outcome.plan_id}) == 0


def test_labour_studio_prefers_the_industrial_park(store):
    _seed(store, DEMAND, sites=SITES)
    base = dict(types=("劳动争议", "邻里"), count=2, time_limit=5.0, **WINDOW)
    plain = place_studios(store, options=StudioOptions(labour_site_factor=1.0, **base))
    park = place_studios(store, options=StudioOptions(labour_site_factor=0.5, **base))
    # Labour distances to the park count half: S4 costs 1 + 2 + 5×0.5 + 0 = 5.5 km < S3's 7.
    assert {s["site_id"] for s in plain.summary["studios"]} == {"S0", "S3"}
    assert {s["site_id"] for s in park.summary["studios"]} == {"S0", "S4"}
    assert park.placements[0].objective == pytest.approx(5.5 * KM)
    # The summary reports true metres, not the discounted ones.
    # G1 1 km, G2 2 km (to S0 or S4: a tie), G3 5 × 1 km.
    assert sum(s["weighted_km"] for s in park.summary["studios"]) == pytest.approx(8.0)


def test_site_capacity_from_the_sites_layer(store):
    capped = [SITES[0]] + [{**s, "capacity": 5.0} for s in SITES[1:]]
    _seed(store, DEMAND, sites=capped)
    options = StudioOptions(types=("劳动争议", "邻里"), count=2, labour_site_factor=1.0, time_limit=5.0, **WINDOW)
    outcome = place_studios(store, options=options)
    # S3 can no longer take G2, G3 and G4 (11 > 5): S4 serving G4 alone costs G1 1 + G2 2 + G3 5×3 = 18;
    # S3 with G3 or G4 costs 23, S2 28. S0 has no capacity given, so it takes the rest.
    assert {s["site_id"] for s in outcome.summary["studios"]} == {"S0", "S4"}
    assert outcome.placements[0].objective == pytest.approx(18 * KM)
    s4 = next(s for s in outcome.summary["studios"] if s["site_id"] == "S4")
    assert s4["disputes"] <= 5


def test_per_type_placement_and_grid_candidates_when_no_sites(store):
    _seed(store, DEMAND)
    options = StudioOptions(types=("劳动争议", "邻里"), joint=False, count=1, keep_existing=False, time_limit=5.0, **WINDOW)
    outcome = place_studios(store, options=options)
    by_types = {tuple(s["types"]): s["site_id"] for s in outcome.summary["studios"]}
    # 劳动争议 (5 + 5 at G3, G4): either of the two, both cost 5 km; 邻里 (G0..G2): G1.
    assert by_types[("邻里",)] == "grid:G1"
    assert by_types[("劳动争议",)] in {"grid:G3", "grid:G4"}
    assert [p.objective for p in outcome.placements] == [pytest.approx(5 * KM), pytest.approx(2 * KM)]


def test_cover_all_names_the_fewest_studios(store):
    _seed(store, DEMAND)
    options = StudioOptions(types=("劳动争议", "邻里"), model="cover-all", radius_m=1.2 * KM, keep_existing=False, time_limit=5.0, **WINDOW)
    outcome = place_studios(store, options=options)
    assert outcome.summary["totals"]["studios"] == 2
    assert outcome.summary["totals"]["within_radius_share"] == 1.0


def _worker(worker_id: str, sector: str, x_km: float, **extra) -> dict:
    row = {"worker_id": worker_id, "name": worker_id, "sector": sector, "status": "active", "capacity": 1.0,
           "home_ward": "W1", "geometry": Point(X0 + x_km * KM, Y0 + 2 * KM)}
    return {**row, **extra}


def _staffing_store(store) -> None:
    _seed(store, {3: {"劳动争议": 4}}, sites=[_site("S3", 3)], households=300)
    store.save("workers", _gdf([
        _worker("A", "人社", 3.5),  # holds G3 (0.75 of a standard grid) in the published grid plan
        _worker("B", "人社", 3.0),
        _worker("C", "社会工作", 3.5),  # wrong sector for 劳动争议
        _worker("D", "人社", 20.0),  # 16.5 km away: beyond the 10 km travel limit
        _worker("E", "人社", 3.5, status="retired"),
        _worker("F", "人社", 3.5, status="unavailable", unavailable_from=date(2020, 1, 1)),
    ]))
    plan_id = save_plan(
        store, kind="grid", rule="one", params={"households_per_unit": 400.0, "min_load": 0.25}, scope=None,
        assignment={"G3": "A"}, reasons={}, solver_status="optimal", objective=0.0, bound=0.0, summary={}, actor="t",
    )
    publish_plan(store, plan_id, actor="t")


def test_staffing_respects_sector_travel_status_and_leftover_capacity(store):
    _staffing_store(store)
    options = StudioOptions(types=("劳动争议",), count=1, seats=3, seat_cost=0.5, travel_limit_km=10.0, time_limit=5.0, **WINDOW)
    outcome = place_studios(store, options=options)
    (studio,) = outcome.summary["studios"]
    # Only B: A has 1 − 0.75 = 0.25 left (< 0.5 a seat); C's sector, D's distance, E and F's status.
    assert [s["worker_id"] for s in studio["staff"]] == ["B"]
    assert studio["unfilled"] == 2
    assert outcome.summary["totals"]["seats_filled"] == 1 and outcome.summary["totals"]["seats"] == 3

    first = place_studios(store, options=StudioOptions(**{**options.__dict__, "priority": "studios-first"}))
    (studio,) = first.summary["studios"]
    # Studios first: A's whole capacity counts, so A (1.50 km, nearer than B's 1.58) is seated too.
    assert [s["worker_id"] for s in studio["staff"]] == ["A", "B"]


def test_sector_mapping_is_overridable(store):
    _staffing_store(store)
    mapping = {**SECTOR_TYPES, "社会工作": ("婚姻家庭", "邻里", "劳动争议")}
    options = StudioOptions(types=("劳动争议",), count=1, seats=3, sector_types=mapping, time_limit=5.0, **WINDOW)
    (studio,) = place_studios(store, options=options).summary["studios"]
    assert {s["worker_id"] for s in studio["staff"]} == {"B", "C"}


def test_one_seat_per_worker_and_studio_and_capacity_split_over_studios():
    import pandas as pd

    from gridgov.plans.studios import Candidates, staff_studios

    cand = Candidates(
        site_ids=("S0", "S1"), names=("S0", "S1"), kinds=(None, None), types=(None, None),
        capacity=np.full(2, np.nan), existing=np.zeros(2, dtype=bool),
        xy=np.array([[X0, Y0], [X0 + KM, Y0]]), lonlat=np.zeros((2, 2)),
    )
    workers = gpd.GeoDataFrame(
        pd.DataFrame({"worker_id": ["A", "B"], "sector": ["人社", "人社"]}),
        geometry=[Point(X0, Y0), Point(X0 + 5 * KM, Y0)], crs="EPSG:4547",
    )
    options = StudioOptions(seats=2, seat_cost=0.5)
    staffing = staff_studios({0: ("劳动争议",), 1: ("劳动争议",)}, cand, workers, {"A": 1.0, "B": 0.5}, options)
    # A pays for two seats (one per studio); B for one, at the nearer studio S1.
    assert {j: [s.worker_id for s in seats] for j, seats in staffing.seats.items()} == {0: ["A"], 1: ["A", "B"]}
    assert staffing.unfilled == {0: 1}


def test_fits_and_free_capacity():
    assert fits("人社", ["劳动争议"], SECTOR_TYPES)
    assert fits("法院", ["合同", "物业"], SECTOR_TYPES)
    assert not fits("住建", ["劳动争议"], SECTOR_TYPES)
    assert not fits(None, ["劳动争议"], SECTOR_TYPES)
    workers = gpd.GeoDataFrame({"worker_id": ["A", "B"], "capacity": [1.0, None]}, geometry=[None, None])
    assert free_capacity(workers, {"A": 0.75}, "grids-first") == {"A": 0.25, "B": 1.0}
    assert free_capacity(workers, {"A": 0.75}, "studios-first") == {"A": 1.0, "B": 1.0}


def test_bad_options_are_user_errors(store):
    _seed(store, DEMAND, sites=SITES)
    with pytest.raises(UserError):
        place_studios(store, options=StudioOptions(types=("打架",), count=2))
    with pytest.raises(UserError):  # median without a count
        place_studios(store, options=StudioOptions(types=("邻里",), **WINDOW))
    with pytest.raises(UserError):  # coverage without a radius
        place_studios(store, options=StudioOptions(types=("邻里",), model="coverage", count=2, **WINDOW))
    with pytest.raises(UserError):  # nothing in the window
        place_studios(store, options=StudioOptions(types=("物业",), count=2, **WINDOW))
    assert store.count("plans") == 0


def test_summary_commitments_and_hotspot_report(store):
    _staffing_store(store)
    options = StudioOptions(types=("劳动争议",), count=1, seats=2, radius_m=None, report_radius_m=1500.0, time_limit=5.0, **WINDOW)
    outcome = place_studios(store, options=options)
    lines = studio_summary(store)
    assert lines["调解工作室 studios"].startswith("1")
    assert lines["调解席位 staffed seats"] == "1/2"
    assert lines["1.5 km 内纠纷占比 disputes within radius"] == "100.0%"
    assert studio_commitments(store) == {}  # nothing published yet
    from gridgov.plans.roster import retire_worker
    from gridgov.plans.studios import unavailable_studio_staff

    assert unavailable_studio_staff(store) == (None, [])
    publish_plan(store, outcome.plan_id, actor="t")
    assert studio_commitments(store) == {"B": 0.5}
    assert unavailable_studio_staff(store) == (outcome.plan_id, [])
    retire_worker(store, "B", actor="t")  # the published studio plan's only mediator leaves
    assert unavailable_studio_staff(store) == (outcome.plan_id, ["B"])

    rows, counts = hotspot_report(store, types=["劳动争议"], **WINDOW)
    (row,) = rows
    assert row.total == 4 and row.top[0].grid_code == "G3" and counts.outside == 0


def test_cli_parsers():
    from gridgov.cli_studios import parse_day, parse_distance_m, parse_types

    assert parse_distance_m("2km") == 2000 and parse_distance_m("1500m") == 1500 and parse_distance_m("2.5") == 2500
    assert parse_distance_m("3 公里") == 3000
    for bad in ("two km", "-1km", "0", "5 miles"):
        with pytest.raises(UserError):
            parse_distance_m(bad)
    assert parse_types(["劳动争议,邻里", "物业", "邻里"]) == ("劳动争议", "邻里", "物业")
    assert parse_types(None) is None
    assert parse_day("2025-02", end=True) == date(2025, 2, 28) and parse_day("2025-02") == date(2025, 2, 1)
    with pytest.raises(UserError):
        parse_day("2025/02/01")


def test_cli_hotspots_and_place(store):
    import typer
    from typer.testing import CliRunner

    from gridgov.cli_studios import studios_app

    _seed(store, DEMAND, sites=SITES)
    app = typer.Typer()
    app.add_typer(studios_app, name="studios")
    runner = CliRunner()
    shown = runner.invoke(app, ["studios", "hotspots", "--types", "劳动争议,邻里", "--from", "2025-01", "--to", "2025-12", "--db", store.url])
    assert shown.exit_code == 0, shown.output
    assert "劳动争议" in shown.output and "G3" in shown.output
    placed = runner.invoke(app, ["studios", "place", "--types", "劳动争议", "--types", "邻里", "--count", "2",
                                 "--radius", "1.5km", "--model", "coverage", "--from", "2025-01", "--db", store.url])
    assert placed.exit_code == 0, placed.output
    assert store.count("plans", where={"kind": "studio"}) == 1
    # An 80-column console (CliRunner's): whole site ids and worker ids, no "…" cuts.
    studios = store.rows("plans", where={"kind": "studio"})[0]["summary"]["studios"]
    assert "…" not in placed.output
    assert all(s["site_id"] in placed.output for s in studios)
    assert all(st["worker_id"] in placed.output for s in studios for st in s["staff"])
    bad = runner.invoke(app, ["studios", "place", "--radius", "far", "--db", store.url])
    assert isinstance(bad.exception, UserError)
