"""Stored UTC times read on the user's clock (Beijing time unless configured)."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
from openpyxl import load_workbook

from gridgov.io import write_layer
from gridgov.localtime import local


def test_utc_to_beijing_across_midnight():
    at = datetime(2026, 11, 24, 16, 30, tzinfo=timezone.utc)
    assert local(at, name="Asia/Shanghai").strftime("%Y-%m-%d %H:%M") == "2026-11-25 00:30"
    assert local(at.replace(tzinfo=None), name="Asia/Shanghai").hour == 0  # naive means UTC
    assert local(at, name="UTC").hour == 16


def test_ledger_spreadsheet_shows_local_time(tmp_path):
    ledger = pd.DataFrame({"entry_id": [1], "at": [datetime(2026, 11, 24, 15, 57, 47, tzinfo=timezone.utc)],
                           "actor": ["cli"], "action": ["worker.retire"], "subject": ["LM0001"],
                           "before": [{"status": "active"}], "after": [{"status": "retired"}]})
    path = tmp_path / "ledger.xlsx"
    write_layer(ledger, path, layer="ledger")
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[1][1] == datetime(2026, 11, 24, 23, 57, 47)


def test_availability_goes_by_the_users_date_not_the_servers(monkeypatch):
    """Kiritimati (UTC+14) and Baker Island (UTC-12) never share a date: an absence starting today in
    the first has not started in the second, whatever the server's own zone."""
    import geopandas as gpd
    from shapely.geometry import Point

    from gridgov.localtime import today
    from gridgov.plans.roster import available_workers
    from gridgov.settings import get_settings

    ahead = today(name="Pacific/Kiritimati")
    workers = gpd.GeoDataFrame({"worker_id": ["A"], "status": ["unavailable"], "unavailable_from": [ahead],
                                "unavailable_to": [ahead]}, geometry=[Point(0, 0)])
    for zone_name, away in (("Pacific/Kiritimati", True), ("Etc/GMT+12", False)):
        monkeypatch.setenv("GRIDGOV_TIMEZONE", zone_name)
        get_settings.cache_clear()
        assert available_workers(workers).empty is away, zone_name
    get_settings.cache_clear()


def test_the_ledger_export_reads_in_words_not_codes(tmp_path):
    from gridgov.plans.ledger import readable

    ledger = pd.DataFrame({"entry_id": [1], "at": [datetime(2026, 11, 24, 15, 57, 47, tzinfo=timezone.utc)],
                           "actor": ["cli"], "action": ["worker.retire"], "subject": ["LM0001"],
                           "before": [{"status": "active"}], "after": [{"status": "retired"}]})
    path = tmp_path / "ledger.xlsx"
    write_layer(readable(ledger), path, layer="ledger")
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[1][3:] == ("劳模退出", "LM0001", "状态：在岗", "状态：退出")


def test_a_removed_grid_reads_with_grid_labels_in_the_ledger_export():
    from gridgov.plans.ledger import readable

    ledger = pd.DataFrame({"entry_id": [1], "at": [datetime(2026, 11, 24, 15, 57, 47, tzinfo=timezone.utc)],
                           "actor": ["cli"], "action": ["grid.remove"], "subject": ["G1"],
                           "before": [{"code": "G1", "name": "一网格", "ward_code": "410802001",
                                       "geometry": "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))"}], "after": [None]})
    row = readable(ledger).iloc[0]
    assert row["action"] == "撤销网格" and "网格名称：一网格" in row["before"] and "边界：（边界）" in row["before"]
    assert "姓名" not in row["before"] and "住址" not in row["before"]


def test_account_and_publish_entries_read_in_words_in_the_ledger_export():
    from gridgov.plans.ledger import readable

    at = datetime(2026, 11, 24, 15, 57, 47, tzinfo=timezone.utc)
    ledger = pd.DataFrame({"entry_id": [1, 2], "at": [at, at], "actor": ["cli", "规划甲"],
                           "action": ["user.add", "plan.publish"], "subject": ["street1", "plan 3"],
                           "before": [None, None],
                           "after": [{"role": "street", "wards": ["410802001"]},
                                     {"published": 3, "grids_changed": 2, "ledger_seen": {"410802001": 8}}]})
    rows = readable(ledger)
    assert list(rows["action"]) == ["新增账号", "发布方案"] and list(rows["actor"]) == ["命令行", "规划甲"]
    assert list(rows["subject"]) == ["street1", "方案 3"]
    assert rows.iloc[0]["after"] == "角色：街道/乡镇；负责街道：410802001"  # not street and JSON
    assert rows.iloc[1]["after"] == "发布的方案：3；换人网格数：2"  # no bookkeeping JSON


def test_homes_and_honours_read_as_values_in_the_ledger_export():
    from gridgov.plans.ledger import readable

    at = datetime(2026, 11, 24, 15, 57, 47, tzinfo=timezone.utc)
    ledger = pd.DataFrame({"entry_id": [1], "at": [at], "actor": ["cli"], "action": ["worker.update"],
                           "subject": ["LM0001"],
                           "before": [{"geometry": "POINT (113.2021 35.2032)",
                                       "honours": [{"title": "解放区工匠", "level": "县区", "year": 2017}]}],
                           "after": [{"geometry": "POINT (113.25 35.21)", "honours": []}]})
    row = readable(ledger).iloc[0]
    assert row["before"] == "住址坐标：113.2021, 35.2032；荣誉：解放区工匠(县区,2017)"  # it was （坐标） and raw JSON
    assert row["after"].startswith("住址坐标：113.25, 35.21")
