"""Writers: each format round-trips what the store holds; spreadsheets never carry a live formula; writes are atomic."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook
from shapely.geometry import Point

from gridgov.errors import UserError
from gridgov.io import read_features, read_table, write_layer
from gridgov.io.writers import neutralise

WORKERS = gpd.GeoDataFrame(
    {
        "worker_id": ["W001", "W002"],
        "name": ["张卫国", "=cmd|' /C calc'!A0"],
        "honours": [[{"title": "全国劳动模范", "level": "全国", "year": 2015}], None],
        "sector": ["企业", "医疗"],
        "employer": ['=HYPERLINK("http://x","单位")', "@SUM(A1)"],
        "phone": ["13803911234", "0391-2345678"],
        "home_ward": ["410802001", None],
        "status": ["active", "unavailable"],
        "unavailable_from": [None, date(2026, 1, 5)],
        "unavailable_to": [None, None],
        "capacity": [2.0, 1.0],
    },
    geometry=[Point(113.2021, 35.2032), Point(113.2072, 35.2051)], crs="EPSG:4490",
)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@x", "\tx", "\rx"])
def test_neutralise_prefixes_formula_starts(text: str) -> None:
    assert neutralise(text) == "'" + text
    assert neutralise("张卫国") == "张卫国" and neutralise(3) == 3


def test_xlsx_has_chinese_headers_points_and_no_formulas(tmp_path: Path) -> None:
    path = tmp_path / "workers.xlsx"
    assert write_layer(WORKERS, path) == 2
    ws = load_workbook(path).active
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["编号", "姓名", "荣誉"] and headers[-2:] == ["经度", "纬度"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
    values = [c.value for c in cells]
    assert "'=cmd|' /C calc'!A0" in values and "'@SUM(A1)" in values
    assert "全国劳动模范(全国,2015)" in values and 113.2021 in values


def test_csv_is_utf8_with_bom_and_neutralised(tmp_path: Path) -> None:
    path = tmp_path / "workers.csv"
    write_layer(WORKERS, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][0] == "编号"
    assert rows[2][1] == "'=cmd|' /C calc'!A0"
    assert rows[2][8] == "2026-01-05"


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_geodata_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"workers{suffix}"
    write_layer(WORKERS, path)
    back = read_features(path)
    assert back.crs.to_epsg() == 4490
    assert back["worker_id"].tolist() == ["W001", "W002"]
    assert back.geometry.iloc[1].equals_exact(WORKERS.geometry.iloc[1], 1e-9)
    if suffix == ".gpkg":
        import pyogrio

        assert pyogrio.list_layers(path)[0][0] == "workers"


def test_xlsx_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "workers.xlsx"
    write_layer(WORKERS, path)
    frame = read_table(path)
    assert frame.loc[3, "暂不可用起"].date() == date(2026, 1, 5)
    assert frame.loc[2, "电话"] == "13803911234"
    assert list(frame["状态"]) == ["在岗", "暂不可用"]  # as the sheet's readers say it; imports read it back


def test_write_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "workers.xlsx"
    write_layer(WORKERS, path)
    before = path.read_bytes()
    broken = WORKERS.copy()
    broken["capacity"] = ["not a number", 1.0]
    with pytest.raises(ValueError):
        write_layer(broken, path.with_suffix(".gpkg"))
    write_layer(WORKERS.iloc[:0], tmp_path / "empty.xlsx")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.xlsx", "workers.xlsx"]


def test_unsupported_or_geometry_less_exports_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        write_layer(WORKERS, tmp_path / "workers.docx")
    ledger = pd.DataFrame({"entry_id": [1], "at": [None], "actor": ["cli"], "action": ["import"],
                           "subject": ["x"], "before": [None], "after": [{"n": 1}]})
    with pytest.raises(UserError):
        write_layer(ledger, tmp_path / "ledger.geojson")
    write_layer(ledger, tmp_path / "ledger.xlsx")


def test_xlsx_of_every_layer_has_a_sheet_name_excel_accepts(tmp_path: Path) -> None:
    """Layer labels such as 街道/乡镇 hold characters Excel forbids in sheet names."""
    from shapely.geometry import box

    from gridgov.schema import LAYERS

    wards = gpd.GeoDataFrame({"code": ["410802001"], "name": ["民生街道"], "county_code": ["410802"]},
                             geometry=[box(113.20, 35.20, 113.21, 35.21)], crs="EPSG:4490")
    path = tmp_path / "wards.xlsx"
    assert write_layer(wards, path, layer="wards") == 1
    assert load_workbook(path).sheetnames == ["街道_乡镇"]
    assert read_table(path).loc[2, "街道代码"] == "410802001"
    assert "/" in LAYERS["wards"].label  # the label that broke the export
