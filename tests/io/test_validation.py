"""Every validation rule, shown by a bad file: the message names file, place, field and fix, and the store is unchanged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gridgov.errors import ValidationError
from gridgov.plans.imports import import_file
from gridgov.store import SqlStore, open_store

DATA = Path(__file__).parents[1] / "data"
BAD = DATA / "bad"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded GeoPackage store, built once and copied per test (the rules only read it)."""
    path = tmp_path_factory.mktemp("seed") / "seed.gpkg"
    with open_store(str(path), create=True) as store:
        import_file(store, "wards", DATA / "good" / "wards.geojson")
        import_file(store, "grids", DATA / "good" / "grids.geojson")
    return path


@pytest.fixture
def seeded(template: Path, tmp_path: Path) -> Iterator[SqlStore]:
    path = tmp_path / "s.gpkg"
    path.write_bytes(template.read_bytes())
    store = open_store(str(path))
    yield store
    store.close()


# file, layer, where, field, a fragment of the Chinese message, a fragment of the fix
CASES: list[tuple[str, str, str, str | None, str, str]] = [
    # unreadable files: one whole-file problem, never a traceback
    ("empty.csv", "workers", "整个文件", None, "空的", "导出"),
    ("header_only.csv", "workers", "整个文件", None, "没有数据行", "数据"),
    ("junk.csv", "workers", "整个文件", None, "不是文本表格", "CSV"),
    ("junk.geojson", "grids", "整个文件", None, "无法读取", "QGIS"),
    ("junk.xlsx", "workers", "整个文件", None, "不是有效的 Excel", ".xlsx"),
    ("workers.doc", "workers", "整个文件", None, "不支持的文件类型", "CSV"),
    ("grids_as_table.csv", "grids", "整个文件", "几何", "面图层", "GeoJSON"),
    # coordinates and CRS
    ("grids_no_crs.zip", "grids", "整个文件", "几何", "没有坐标系", "--crs 4490"),
    ("grids_projected_as_lonlat.geojson", "grids", "要素 1", "几何", "投影坐标", "--crs 4547"),
    ("grids_lonlat_labelled_projected.geojson", "grids", "要素 1", "几何", "是经纬度", "--crs 4490"),
    ("grids_swapped_lonlat.geojson", "grids", "要素 1", "几何", "颠倒", "交换"),
    ("workers_swapped_lonlat.csv", "workers", "第 3 行", "经度/纬度", "颠倒", "交换"),
    ("workers_projected_numbers.csv", "workers", "第 4 行", "经度/纬度", "投影坐标", "--crs 4547"),
    ("grids_outside_city.geojson", "grids", "要素 1", "几何", "焦作市范围之外", "核对坐标"),
    ("incidents_outside_city.csv", "incidents", "第 3 行", "经度/纬度", "焦作市范围之外", "核对坐标"),
    ("incidents_no_lonlat_columns.csv", "incidents", "表头", "经度/纬度", "缺少经度", "经度"),
    # geometry
    ("grids_self_intersecting.geojson", "grids", "要素 1", "几何", "几何无效", "--repair"),
    ("grids_empty_geometry.geojson", "grids", "要素 1", "几何", "几何为空", "补全"),
    ("workers_polygon_geometry.geojson", "workers", "要素 1", "几何", "应为点", "点"),
    # duplicates, overlaps, wards
    ("grids_duplicate_codes.geojson", "grids", "要素 2", "网格编码", "重复", "只保留一行"),
    ("workers_duplicate_ids.csv", "workers", "第 4 行", "编号", "已出现在第 2 行", "只保留一行"),
    ("grids_overlapping.geojson", "grids", "要素 2", "几何", "（要素 1） 重叠", "不重叠"),
    ("grids_overlap_stored.geojson", "grids", "要素 1", "几何", "已导入的网格 410802002001001 重叠", "--replace"),
    ("grids_outside_ward.geojson", "grids", "要素 1", "几何", "位于所属街道 410802001 之外", "街道代码"),
    ("grids_outside_every_ward.geojson", "grids", "要素 1", "几何", "不在任何已导入的街道内", "先导入"),
    ("grids_unknown_ward.geojson", "grids", "要素 1", "街道代码", "410899999", "410802001"),
    ("workers_unknown_ward.csv", "workers", "第 2 行", "居住街道", "410899999", "gridgov import wards"),
    ("wards_bad_code.geojson", "wards", "要素 1", "街道代码", "9 位数字", "410802001"),
    ("wards_unknown_county.geojson", "wards", "要素 1", "区县代码", "不是焦作市的区县", "410802解放区"),
    # values
    ("workers_bad_phone.csv", "workers", "第 3 行", "手机", "1380391123", "0391-1234567"),
    ("workers_landline_lost_zero.csv", "workers", "第 3 行", "手机", "格式不对", "文本格式"),
    ("workers_gbk_odd_headers.csv", "workers", "第 4 行", "联系电话", "0391-12", "区号"),
    ("incidents_bad_date.csv", "incidents", "第 4 行", "发生日期", "2026-02-30", "2026年1月5日"),
    ("incidents_unreadable_date.csv", "incidents", "第 2 行", "发生日期", "上周三", "2026/1/5"),
    ("workers_merged_header_bad_date.xlsx", "workers", "第 5 行", "暂不可用起", "下个月", "Excel 日期"),
    ("workers_missing_name.csv", "workers", "第 3 行", "姓名", "必填项", "填写"),
    ("grids_missing_code.geojson", "grids", "要素 1", "网格编码", "必填项", "填写"),
    ("workers_missing_name_column.csv", "workers", "表头", "姓名", "缺少必填列", "姓名"),
    ("incidents_unknown_type.csv", "incidents", "第 3 行", "纠纷类型", "吵架", "劳动争议"),
    ("workers_unknown_sector.csv", "workers", "第 2 行", "行业", "航天", "社会工作"),
    ("workers_unknown_status.csv", "workers", "第 4 行", "状态", "出差中", "暂不可用"),
    ("grids_unknown_kind.geojson", "grids", "要素 1", "网格类型", "特殊", "基础、专属"),
    ("grids_non_numeric_households.geojson", "grids", "要素 1", "户数", "约300户", "数字"),
    ("workers_non_numeric_capacity.csv", "workers", "第 3 行", "承担网格数", "两个", "数字"),
    ("sites_non_numeric_capacity.csv", "sites", "第 2 行", "容量", "很多", "数字"),
    ("workers_bad_honour.csv", "workers", "第 3 行", "荣誉", "宇宙级", "全国劳动模范(全国,2015)"),
    ("workers_ambiguous_ward_name.csv", "workers", "第 3 行", "居住街道", "410811004（山阳区）、410882003（沁阳市）", "山阳区太行街道"),
    ("grids_code_scientific.geojson", "grids", "要素 1", "网格编码", "科学计数法", "设为文本"),
    ("grids_code_other_ward.geojson", "grids", "要素 1", "网格编码", "不以所属街道代码 410802001 开头", "核对"),
    ("workers_cut_honours.csv", "workers", "第 2 行", "荣誉", "不是完整的 JSON 列表", "称号(级别,年份)"),
    ("workers_formulas.xlsx", "workers", "第 3 行", "姓名", "公式", "粘贴"),
]


def test_every_bad_file_has_a_case() -> None:
    covered = {case[0] for case in CASES}
    assert {p.name for p in BAD.iterdir() if p.name != "README.md"} == covered


def test_every_bad_file_is_in_the_readme() -> None:
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    assert all(f"| {case[0]} |" in readme for case in CASES)


@pytest.mark.parametrize(("name", "layer", "where", "field", "message", "fix"), CASES, ids=[c[0] for c in CASES])
def test_bad_file_is_refused_with_a_located_message(
    seeded: SqlStore, fingerprint: Callable[[SqlStore], str],
    name: str, layer: str, where: str, field: str | None, message: str, fix: str,
) -> None:
    before = fingerprint(seeded)
    with pytest.raises(ValidationError) as info:
        import_file(seeded, layer, BAD / name)
    assert fingerprint(seeded) == before
    problems = info.value.problems
    hits = [p for p in problems if p.where == where and p.field == field and message in p.message]
    assert hits, "\n".join(p.render() for p in problems)
    problem = hits[0]
    assert problem.file == name
    assert fix in problem.fix and problem.fix_en and problem.message_en
    rendered = info.value.render("zh")
    assert name in rendered and where in rendered and "未写入任何数据" in rendered
    assert "nothing was written" in info.value.render("en")


def test_all_problems_of_a_file_are_reported_together(seeded: SqlStore, tmp_path: Path) -> None:
    bad = tmp_path / "many.csv"
    bad.write_text(
        "编号,姓名,手机,行业,经度,纬度\n"
        "W1,,123,航天,113.2,35.2\n"
        "W1,李四,13803911234,企业,35.2,113.2\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        import_file(seeded, "workers", bad)
    found = {(p.where, p.field) for p in info.value.problems}
    assert {("第 2 行", "姓名"), ("第 2 行", "手机"), ("第 2 行", "行业"),
            ("第 3 行", "编号"), ("第 3 行", "经度/纬度")} <= found
    rows = [p.where for p in info.value.problems]
    assert rows == sorted(rows)  # down the sheet, as a clerk fixes them (they were column by column)
    bad.write_text("编号,姓名,手机,行业,经度,纬度\n"
                   "W1,张三,13803911234,航天,113.2,35.2\n"
                   "W2,李四,123,企业,113.2,35.2\n"
                   "W3,王五,13803911235,宇宙,113.2,35.2\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        import_file(seeded, "workers", bad)
    assert [(p.where, p.field) for p in info.value.problems] == [("第 2 行", "行业"), ("第 3 行", "手机"), ("第 4 行", "行业")]


def test_repair_fixes_invalid_geometry_and_reports_it(seeded: SqlStore) -> None:
    report = import_file(seeded, "grids", BAD / "grids_self_intersecting.geojson", repair=True)
    assert report.inserted == 1
    assert any(n.where == "要素 1" and "已修复" in n.message for n in report.notices)
    stored = seeded.load("grids", where={"code": "410802002001009"})
    assert stored.geometry.iloc[0].is_valid and stored.geometry.iloc[0].area > 0


def test_declared_crs_fills_in_a_missing_one(seeded: SqlStore) -> None:
    report = import_file(seeded, "grids", BAD / "grids_no_crs.zip", crs="EPSG:4490")
    assert report.inserted == 1


def test_declared_projected_crs_is_transformed(seeded: SqlStore) -> None:
    report = import_file(seeded, "grids", BAD / "grids_projected_as_lonlat.geojson", crs=4547)
    assert report.inserted == 1
    x, y = seeded.load("grids", where={"code": "410802002001009"}).geometry.iloc[0].centroid.coords[0]
    assert x == pytest.approx(113.2175, abs=1e-6) and y == pytest.approx(35.205, abs=1e-6)


def test_small_overlap_within_tolerance_passes(seeded: SqlStore, tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    # 1e-6 degrees (about 0.1 m) into the stored neighbour: a digitising seam, not an overlap.
    path = tmp_path / "seam.geojson"
    gpd.GeoDataFrame({"网格编码": ["410802002001009"], "街道代码": ["410802002"]},
                     geometry=[box(113.215 - 1e-6, 35.2005, 113.2195, 35.2095)], crs="EPSG:4490").to_file(path)
    assert import_file(seeded, "grids", path).inserted == 1


def test_incident_without_ward_gets_the_ward_it_lies_in(seeded: SqlStore) -> None:
    import_file(seeded, "incidents", DATA / "good" / "incidents.csv")
    assert seeded.load("incidents", where={"incident_id": "I002"})["ward_code"].iloc[0] == "410802002"


def test_codes_typed_full_width_or_with_spaces_are_the_codes(seeded: SqlStore, tmp_path: Path) -> None:
    """Excel users type ４１０８０２００１ or ＮＷ００５ with an IME in full-width mode, or 410 802 001."""
    path = tmp_path / "workers.csv"
    path.write_text("编号,姓名,居住街道,经度,纬度\n"
                    "ＮＷ００５,张三,４１０８０２００１,113.2021,35.2032\n"
                    " NW 006 ,李四,410 802 002,113.2072,35.2051\n", encoding="utf-8")
    import_file(seeded, "workers", path)
    rows = seeded.load("workers").set_index("worker_id")
    assert list(rows.index) == ["NW005", "NW006"]
    assert list(rows["home_ward"]) == ["410802001", "410802002"]


@pytest.mark.parametrize(("crs", "fix"), [("4547", "--crs 4526"), (None, "--crs 4526")])
def test_gauss_kruger_eastings_with_the_zone_number_point_to_the_zoned_crs(seeded: SqlStore, tmp_path: Path,
                                                                            crs, fix) -> None:
    """Surveyors' coordinates carry the zone number (38430815 = zone 38): EPSG:4526, not 4547."""
    path = tmp_path / "workers.csv"
    path.write_text("编号,姓名,居住街道,经度,纬度\nG1,张三,410802001,38430815,3900374\n", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        import_file(seeded, "workers", path, crs=crs)
    (problem,) = err.value.problems
    assert problem.where == "第 2 行" and fix in problem.fix_en
    import_file(seeded, "workers", path, crs="4526")
    home = seeded.load("workers").geometry.iloc[0]
    assert abs(home.x - 113.24) < 1e-4 and abs(home.y - 35.23) < 1e-4


def test_an_id_stored_with_a_space_is_updated_not_doubled(seeded: SqlStore, tmp_path: Path) -> None:
    """An older gridgov stored ids as typed: the same file again must update that worker."""
    from shapely.geometry import Point

    seeded.save("workers", [{"worker_id": "LM 0010", "name": "张三", "home_ward": "410802001",
                             "status": "active", "geometry": Point(113.2021, 35.2032)}])
    path = tmp_path / "w.csv"
    path.write_text("编号,姓名,电话\nLM 0010,张三,13912345678\n", encoding="utf-8")
    report = import_file(seeded, "workers", path)
    assert (report.inserted, report.updated) == (0, 1)
    assert list(seeded.load("workers")["worker_id"]) == ["LM 0010"]


def test_eastings_of_the_111e_projection_point_to_it(seeded: SqlStore, tmp_path: Path) -> None:
    """Jiaozuo in CGCS2000 Gauss-Kruger CM 111E has eastings of 640-750 km, not 114E's 360-480 km."""
    from pyproj import Transformer

    x, y = Transformer.from_crs(4490, 4546, always_xy=True).transform(113.2021, 35.2032)
    path = tmp_path / "workers.csv"
    path.write_text(f"编号,姓名,居住街道,经度,纬度\nG1,张三,410802001,{x:.1f},{y:.1f}\n", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        import_file(seeded, "workers", path)
    assert "--crs 4546" in err.value.problems[0].fix_en
    import_file(seeded, "workers", path, crs="4546")
    assert abs(seeded.load("workers").geometry.iloc[0].x - 113.2021) < 1e-5


def test_english_messages_name_places_and_fields_in_english(seeded: SqlStore) -> None:
    with pytest.raises(ValidationError) as info:
        import_file(seeded, "workers", BAD / "workers_duplicate_ids.csv")
    assert "already at row 2" in info.value.render("en") and "第" not in info.value.render("en")
    with pytest.raises(ValidationError) as info:
        import_file(seeded, "grids", BAD / "grids_duplicate_codes.geojson")
    assert "already at feature 1" in info.value.render("en")


def test_the_geometry_field_is_named_in_english(seeded: SqlStore) -> None:
    with pytest.raises(ValidationError) as info:
        import_file(seeded, "grids", BAD / "grids_empty_geometry.geojson")
    assert "几何" not in info.value.render("en") and "geometry" in info.value.render("en")


@pytest.mark.parametrize(("crs", "fix", "not_said"), [
    (None, "--crs 3857", "--crs 4547"), ("4490", "--crs 3857", "--crs 4547"), ("4547", "--crs 3857", "--crs 4547"),
])
def test_web_mercator_metres_point_to_3857_and_the_advice_never_repeats_the_declared_crs(
        seeded: SqlStore, tmp_path: Path, crs, fix, not_said) -> None:
    """Grids digitised over a web basemap (EPSG:3857) without their .prj: the advice went round
    in a circle — 4547, then with --crs 4547 "use --crs 4547" — and never named 3857."""
    path = tmp_path / "workers.csv"
    path.write_text("编号,姓名,居住街道,经度,纬度\nG1,张三,410802001,12604471,4194070\n", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        import_file(seeded, "workers", path, crs=crs)
    fixes = " ".join(p.fix_en for p in err.value.problems)
    assert fix in fixes and not_said not in fixes
    import_file(seeded, "workers", path, crs="3857")
    home = seeded.load("workers").geometry.iloc[0]
    assert abs(home.x - 113.228) < 1e-3 and abs(home.y - 35.222) < 1e-3


def test_an_easting_in_zone_39_is_named_zone_39(seeded: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "workers.csv"
    path.write_text("编号,姓名,居住街道,经度,纬度\nG1,张三,410802001,39156503,3900374\n", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        import_file(seeded, "workers", path, crs="4547")
    assert "--crs 4527" in err.value.problems[0].fix_en


@pytest.mark.parametrize(("metres", "refused"), [(0.5, False), (3.0, True)])
def test_a_sliver_of_digitising_error_passes_and_a_real_overlap_does_not(
        seeded: SqlStore, tmp_path: Path, metres: float, refused: bool) -> None:
    """A grid's edge drawn 0.5 m over its neighbours' (a few hundred m² along a long edge) was
    refused by the area rule alone; what matters for digitising error is the overlap's width."""
    import geopandas as gpd

    grids = gpd.read_file(DATA / "good" / "grids.geojson")
    grown = grids.to_crs(4547)
    grown.loc[0, "geometry"] = grown.geometry.iloc[0].buffer(metres, join_style="mitre")
    grown.to_crs(4490).iloc[[0]].to_file(tmp_path / "edited.geojson", driver="GeoJSON")
    if refused:
        with pytest.raises(ValidationError, match="problem"):
            import_file(seeded, "grids", tmp_path / "edited.geojson")
    else:
        assert import_file(seeded, "grids", tmp_path / "edited.geojson").updated == 1


def test_a_capacity_beyond_fifty_grids_is_refused_by_import_and_roster_change(seeded: SqlStore, tmp_path: Path) -> None:
    """The page refused 承担网格数 20.0 typed for 2.0 beyond 50; the import and the CLI stored 500."""
    from gridgov.errors import UserError
    from gridgov.plans.roster import set_capacity

    path = tmp_path / "workers.csv"
    path.write_text("编号,姓名,承担网格数,经度,纬度\nNW1,张三,50,113.2021,35.2032\nNW2,李四,500,113.2072,35.2051\n"
                    "NW3,王五,0,113.2072,35.2051\n", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        import_file(seeded, "workers", path)
    too_many, none = err.value.problems
    assert (too_many.where, too_many.field) == ("第 3 行", "承担网格数") and "超过 50 个标准网格" in too_many.message
    assert none.where == "第 4 行" and "应大于 0" in none.message  # as `worker capacity` and the page refuse it
    path.write_text("编号,姓名,承担网格数,经度,纬度\nNW1,张三,50,113.2021,35.2032\n", encoding="utf-8")
    import_file(seeded, "workers", path)
    with pytest.raises(UserError, match="at most 50"):
        set_capacity(seeded, "NW1", 500, actor="x")
    assert seeded.load("workers").iloc[0]["capacity"] == 50.0


def test_an_invalid_boundary_is_described_in_chinese_with_where_it_is(seeded: SqlStore) -> None:
    """GEOS says "Self-intersection[113.2175 35.205]"; the Chinese message said it in English."""
    with pytest.raises(ValidationError) as err:
        import_file(seeded, "grids", DATA / "bad" / "grids_self_intersecting.geojson")
    [problem] = err.value.problems
    assert problem.message.startswith("几何无效：边界自相交（约在 ") and "Self-intersection" not in problem.message
    assert "Self-intersection" in problem.message_en
