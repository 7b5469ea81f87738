"""Readers: every feature format and table encoding, xlsx merged headers and formula cells, row numbers as users see them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from openpyxl import Workbook
from shapely.geometry import box

from gridgov.errors import ValidationError
from gridgov.io import read_features, read_table
from gridgov.io.headers import LAT, LON, map_headers
from gridgov.io.problems import ValueProblem
from gridgov.io.values import honours, parse_date, phone

GRIDS = gpd.GeoDataFrame(
    {"网格编码": ["410802001001001", "410802001001002"], "户数": [300, 420]},
    geometry=[box(113.20, 35.20, 113.205, 35.21), box(113.205, 35.20, 113.21, 35.21)], crs="EPSG:4490",
)
HEADER = "编号,姓名,电话,单位,荣誉,行业,经度,纬度"
ROW = "W001,张卫国,13803911234,焦作煤业集团,全国劳动模范(全国;2015),企业,113.2,35.2"


def _write_shapefile(folder: Path, encoding: str = "GBK") -> Path:
    # Chinese GIS software writes GBK DBFs; in UTF-8, 网格编码 is cut at 10 bytes mid-character.
    GRIDS.to_file(folder / "grids.shp", engine="pyogrio", encoding=encoding)
    return folder / "grids.shp"


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".zip"])
def test_read_features_every_format(tmp_path: Path, suffix: str) -> None:
    if suffix == ".zip":
        shp = _write_shapefile(tmp_path)
        path = tmp_path / "grids.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for part in tmp_path.glob("grids.*"):
                if part.suffix != ".zip":
                    zf.write(part, part.name)
    elif suffix == ".shp":
        path = _write_shapefile(tmp_path)
    else:
        path = tmp_path / f"grids{suffix}"
        GRIDS.to_file(path, engine="pyogrio")
    gdf = read_features(path)
    assert list(gdf.index) == [1, 2]  # features numbered as a user counts them
    assert gdf.crs is not None and gdf.crs.to_epsg() == 4490
    assert gdf["网格编码"].tolist() == ["410802001001001", "410802001001002"]
    assert gdf.geometry.iloc[0].equals(GRIDS.geometry.iloc[0])  # Shapefiles rewind rings


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_read_features_utf8_shapefile_with_cut_chinese_field_names(tmp_path: Path) -> None:
    gdf = read_features(_write_shapefile(tmp_path, "UTF-8"))
    assert gdf["网格编"].tolist() == ["410802001001001", "410802001001002"]
    assert map_headers("grids", gdf.columns[:-1])[0]["网格编"] == "code"


def test_read_features_picks_a_geopackage_layer(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    GRIDS.to_file(path, layer="first", engine="pyogrio")
    GRIDS.iloc[:1].to_file(path, layer="second", engine="pyogrio", append=False)
    with pytest.raises(ValidationError) as two:  # two layers, none named: no guess
        read_features(path)
    assert "--layer" in two.value.problems[0].fix_en
    assert len(read_features(path, names=("first",))) == 2
    assert len(read_features(path, layer="second")) == 1
    with pytest.raises(ValidationError) as info:
        read_features(path, layer="missing")
    assert "没有图层“missing”" in info.value.problems[0].message


def test_read_features_crs_fills_in_only_a_missing_one(tmp_path: Path) -> None:
    shp = _write_shapefile(tmp_path)
    shp.with_suffix(".prj").unlink()
    assert read_features(shp).crs is None
    assert read_features(shp, crs=4490).crs.to_epsg() == 4490


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_read_table_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "workers.csv"
    name = "䶮" if encoding == "gb18030" else "张卫国"  # 䶮 (CJK Ext. A) is in GB18030 but not GBK
    path.write_bytes(f"{HEADER}\r\n{ROW.replace('张卫国', name)}\r\n".encode(encoding))
    frame = read_table(path)
    assert list(frame.columns) == HEADER.split(",")
    assert frame.loc[2, "姓名"] == name  # header is row 1, so the first data row is row 2
    assert frame.loc[2, "电话"] == "13803911234"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_read_table_csv_doubled_quotes_stay_in_their_cell(tmp_path: Path, delimiter: str) -> None:
    # The sniffer guessed "no doubled quotes" from rows like these and split or mangled the cell.
    path = tmp_path / "workers.csv"
    rows = [["编号", "姓名", "单位"], ["W001", "张卫国", '""""'], ["W002", "李秀英", 'a""""b']]
    text = "\r\n".join(delimiter.join(f'"{c.replace(chr(34), 2 * chr(34))}"' if '"' in c else c for c in row)
                       for row in rows)
    path.write_text(text + "\r\n", encoding="utf-8")
    frame = read_table(path)
    assert list(frame.columns) == rows[0]
    assert frame.loc[2, "单位"] == '""""'
    assert frame.loc[3, "单位"] == 'a""""b'


def test_read_table_csv_with_a_space_after_each_comma(tmp_path: Path) -> None:
    # Files written as `a, "b, c"`: the space is not part of the cell and the quotes still group.
    path = tmp_path / "workers.csv"
    path.write_text('编号, 姓名, 单位\nW1, 张三, "焦作市建设公司, 第二分公司"\n', encoding="utf-8")
    frame = read_table(path)
    assert list(frame.columns) == ["编号", "姓名", "单位"] and frame.loc[2, "单位"] == "焦作市建设公司, 第二分公司"


def test_read_table_skips_a_title_row_and_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "workers.csv"
    path.write_text(f"焦作市劳模名单,,,,,,,\n{HEADER}\n,,,,,,,\n{ROW}\n", encoding="utf-8")
    frame = read_table(path)
    assert list(frame.index) == [4]
    assert frame.loc[4, "编号"] == "W001"


def test_read_table_xlsx_merged_header_and_cells(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["劳模名单", None, None, None])
    ws.append(["编号", "姓名", "联系方式", None])
    ws.append([None, None, "手机", "座机"])
    ws.append(["W001", "张卫国", "13803911234", None])
    ws.append(["W002", "李秀英", "13903912345", None])
    for rng in ("A1:D1", "A2:A3", "B2:B3", "C2:D2", "A4:A4"):
        ws.merge_cells(rng)
    ws.merge_cells("D4:D5")
    ws["D4"] = "0391-2345678"
    path = tmp_path / "w.xlsx"
    wb.save(path)
    frame = read_table(path)
    assert list(frame.columns) == ["编号", "姓名", "手机", "座机"]
    assert list(frame.index) == [4, 5]
    assert frame.loc[5, "座机"] == "0391-2345678"  # a merged data cell reads in every row it spans


def test_read_table_xlsx_formulas_are_not_evaluated(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["编号", "单位", "日期"])
    ws.append(["W001", '=HYPERLINK("http://x","单位")', None])
    ws["C2"] = "=cmd|' /C calc'!A0"
    path = tmp_path / "f.xlsx"
    wb.save(path)
    frame = read_table(path)
    assert frame.loc[2, "单位"] == '=HYPERLINK("http://x","单位")'
    assert frame.loc[2, "日期"].startswith("=cmd|")


def test_header_mapping_chinese_synonyms_and_english() -> None:
    mapping, unknown, duplicates = map_headers(
        "workers", ["*姓名（必填）", "所在单位", "手机", "Sector", "经度", "lat", "备注", "联系电话"])
    assert mapping == {"*姓名（必填）": "name", "所在单位": "employer", "手机": "phone", "Sector": "sector",
                       "经度": LON, "lat": LAT}
    assert unknown == ["备注"] and duplicates == [("联系电话", "phone")]
    assert map_headers("incidents", ["类型", "发生日期", "乡镇代码"])[0] == {
        "类型": "type", "发生日期": "date", "乡镇代码": "ward_code"}
    assert map_headers("wards", ["county_cod"])[0] == {"county_cod": "county_code"}  # cut by a Shapefile


def test_value_parsers() -> None:
    assert honours("全国劳动模范(全国,2015);焦作工匠（市级，2020年）") == [
        {"title": "全国劳动模范", "level": "全国", "year": 2015}, {"title": "焦作工匠", "level": "市", "year": 2020}]
    assert honours('[{"title": "工匠", "level": "县区", "year": 2021}]') == [
        {"title": "工匠", "level": "县区", "year": 2021}]
    assert [parse_date(x).isoformat() for x in ("2026-01-05", "2026/1/5", "2026年1月5日", "20260105")] == [
        "2026-01-05"] * 4
    assert phone(13803911234.0) == "13803911234"
    assert phone("+86 138-0391-1234") == "13803911234"
    assert phone("(0391)1234567") == "0391-1234567"


@pytest.mark.parametrize("text", ["2026-01-05 08:30:00", "2026/1/5 0:00", "2026年1月5日 8:30", "2026 / 1 / 5",
                                  "2026-01-05T08:30", "46027", 46027, 46027.0])
def test_dates_with_a_time_or_as_excel_day_numbers(text) -> None:
    """What Excel, WPS and hotline systems write: a time after the date, or the day number of a
    date cell that lost its format (46027 is 2026-01-05)."""
    assert parse_date(text).isoformat() == "2026-01-05"


@pytest.mark.parametrize("text", ["12345", "20265", "2026-13-01", "2026-01-0508:30", "5/1/2026"])
def test_dates_still_refused(text) -> None:
    with pytest.raises(ValueProblem):
        parse_date(text)


def _gbk_shapefile(folder: Path) -> Path:
    """A Shapefile as Chinese Windows software writes it: GBK text, no .cpg, no code page byte."""
    import geopandas as gpd
    from shapely.geometry import box

    folder.mkdir(parents=True)
    shp = folder / "grids.shp"
    gpd.GeoDataFrame({"code": ["410802001001001"], "name": ["焦作花园社区第1网格"], "kind": ["基础"]},
                     geometry=[box(113.20, 35.20, 113.205, 35.21)], crs="EPSG:4490").to_file(shp, encoding="gbk")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = bytearray(shp.with_suffix(".dbf").read_bytes())
    dbf[29] = 0
    shp.with_suffix(".dbf").write_bytes(bytes(dbf))
    return shp


def test_gbk_shapefile_without_cpg_reads_as_chinese(tmp_path: Path) -> None:
    shp = _gbk_shapefile(tmp_path / "plain")
    assert list(read_features(shp)["name"]) == ["焦作花园社区第1网格"]


def test_zipped_shapefile_in_a_folder_reads(tmp_path: Path) -> None:
    """Right-click a folder, compress: the files sit in 网格数据/ inside the zip."""
    import zipfile

    shp = _gbk_shapefile(tmp_path / "网格数据")
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp.parent.iterdir():
            zf.write(part, f"网格数据/{part.name}")
    frame = read_features(archive)
    assert list(frame["name"]) == ["焦作花园社区第1网格"] and list(frame["kind"]) == ["基础"]
    lacking = tmp_path / "lacking.zip"
    with zipfile.ZipFile(lacking, "w") as zf:
        zf.write(shp, "网格数据/grids.shp")
        zf.write(shp.with_suffix(".shx"), "网格数据/grids.shx")
    with pytest.raises(ValidationError) as err:
        read_features(lacking)
    assert "grids.dbf" in err.value.problems[0].message


def test_gbk_shapefile_with_brackets_in_its_name_and_chinese_only_in_field_names(tmp_path: Path) -> None:
    """网格[修改版].shp: glob's brackets; 名称 as a GBK field name over ASCII values."""
    import geopandas as gpd
    from shapely.geometry import box

    folder = tmp_path / "x"
    folder.mkdir()
    shp = folder / "网格[修改版].shp"
    gpd.GeoDataFrame({"名称": ["G1"], "code": ["410802001001001"]}, geometry=[box(113.2, 35.2, 113.21, 35.21)],
                     crs="EPSG:4490").to_file(shp, encoding="gbk")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = bytearray(shp.with_suffix(".dbf").read_bytes())
    dbf[29] = 0
    shp.with_suffix(".dbf").write_bytes(bytes(dbf))
    assert "名称" in read_features(shp).columns


def test_a_zip_that_unpacks_to_too_much_is_refused_unread(tmp_path: Path, monkeypatch) -> None:
    import zipfile

    import gridgov.io.readers as readers

    shp = _gbk_shapefile(tmp_path / "g")
    archive = tmp_path / "g.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in shp.parent.iterdir():
            zf.write(part, part.name)
    monkeypatch.setattr(readers, "_MAX_UNZIPPED_BYTES", 100)  # the real limit is 512 MB
    with pytest.raises(ValidationError) as err:
        read_features(archive)
    assert "unpacks to" in err.value.problems[0].message_en
    with pytest.raises(ValidationError) as err:
        read_features(tmp_path / "g.zip", layer="nope")
    assert "no Shapefile named “nope”" in err.value.problems[0].message_en


def test_xlsx_whose_first_sheet_is_instructions_reads_the_data_sheet(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "填表说明"
    wb.active.append(["请按模板填写，编号不可重复"])
    data = wb.create_sheet("劳模名册")
    data.append(["编号", "姓名", "手机", "居住街道", "经度", "纬度"])
    data.append(["W001", "张卫国", "13803911234", "410802001", 113.2021, 35.2032])
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    frame = read_table(path)
    assert list(frame.columns[:2]) == ["编号", "姓名"] and frame.iloc[0]["姓名"] == "张卫国"
    with pytest.raises(ValidationError):  # a named sheet is still the one read: no data there
        read_table(path, sheet="填表说明")


def test_names_lose_their_alignment_padding() -> None:
    from gridgov.io.values import person_name

    assert [person_name(x) for x in ("张　三", "张 三", " 欧阳　娜娜 ", "Wang Fang", "李四")] == [
        "张三", "张三", "欧阳娜娜", "Wang Fang", "李四"]


def test_excel_unicode_text_saved_as_txt_is_read(tmp_path: Path) -> None:
    """Excel's "Unicode text" save is UTF-16 with tabs and the suffix .txt: it was refused as
    an unsupported type while the same bytes named .csv were read."""
    from gridgov.io.readers import read_table

    path = tmp_path / "名册.txt"
    path.write_bytes("编号\t姓名\t手机\nW1\t张三\t13800000000\n".encode("utf-16"))
    table = read_table(path)
    assert list(table.iloc[0]) == ["W1", "张三", "13800000000"]
