"""The 包格台账 workbook: titled by ward name, its 说明 column in Chinese only."""

from __future__ import annotations

import io

import geopandas as gpd
from openpyxl import load_workbook
from shapely.geometry import Point, box

from gridgov.plans.allocation import reason_in
from gridgov.plans.versions import save_plan
from gridgov.plans.workbook import ledger_rows, ledger_xlsx, workbook_title


def _ward_with_two_grids(store) -> int:
    store.save("wards", gpd.GeoDataFrame({"code": ["410802001"], "name": ["民生街道"], "county_code": ["410802"]},
                                         geometry=[box(113.20, 35.20, 113.21, 35.21)], crs="EPSG:4490"))
    store.save("grids", gpd.GeoDataFrame({"code": ["G1", "G2"], "ward_code": ["410802001"] * 2, "households": [300, 300]},
                                         geometry=[box(113.20, 35.20, 113.205, 35.21), box(113.205, 35.20, 113.21, 35.21)],
                                         crs="EPSG:4490"))
    store.save("workers", [{"worker_id": "A", "name": "甲", "home_ward": "410802001", "status": "active",
                            "capacity": 1.0, "geometry": Point(113.202, 35.205)}])
    return save_plan(store, kind="grid", rule="one", params={}, scope=None, assignment={"G1": "A", "G2": None},
                     reasons={"G2": "5 公里内没有可用劳模 / no available worker within 5 km"}, solver_status="optimal",
                     objective=0.0, bound=0.0, summary={}, actor="t")


def test_reason_in_one_language():
    stored = "承担能力不足 / capacity short"
    assert (reason_in(stored, "zh"), reason_in(stored, "en"), reason_in(stored, "both")) == (
        "承担能力不足", "capacity short", stored)
    assert reason_in("只有中文", "en") == "只有中文" and reason_in(None, "zh") is None


def test_the_workbook_notes_are_chinese_and_its_title_names_the_ward(store):
    plan_id = _ward_with_two_grids(store)
    rows = ledger_rows(store, plan_id, ["410802001"])
    assert [r[-1] for r in rows] == [None, "5 公里内没有可用劳模"]  # a printed sheet had the English half too
    title = workbook_title(store, plan_id, ["410802001"])
    assert title == "民生街道 包格台账" and workbook_title(store, plan_id, None) == f"全市方案 {plan_id} 包格台账"
    ws = load_workbook(io.BytesIO(ledger_xlsx(store, plan_id, ["410802001"], title=title))).active
    assert ws.oddHeader.center.text == "民生街道 包格台账"
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 and ws["L3"].alignment.wrap_text  # prints on A4, notes wrap
    assert ws.oddFooter.left.text.startswith(f"方案 {plan_id}（草稿）· 导出于 ")


def test_a_ward_name_two_wards_share_carries_its_county(store):
    plan_id = _ward_with_two_grids(store)
    store.save("wards", gpd.GeoDataFrame({"code": ["410811004", "410882003"], "name": ["太行街道", "太行街道"],
                                          "county_code": ["410811", "410882"]},
                                         geometry=[box(113.30, 35.20, 113.31, 35.21), box(113.40, 35.20, 113.41, 35.21)],
                                         crs="EPSG:4490"))
    assert workbook_title(store, plan_id, ["410811004"]) == "山阳区太行街道 包格台账"
    assert workbook_title(store, plan_id, ["410882003"]) == "沁阳市太行街道 包格台账"
    assert workbook_title(store, plan_id, ["410802001"]) == "民生街道 包格台账"
