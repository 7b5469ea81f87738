"""Regenerate the committed import fixtures: good/ (a tiny valid city corner) and bad/ (one broken thing per file).

Run ``python tests/data/make_data.py`` after changing it; the files are committed so tests need
no generator and other tools (CLI, upload) can use the same corpus. bad/README.md says what is
wrong with each file.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
from openpyxl import Workbook
from shapely.geometry import Point, Polygon, box

HERE = Path(__file__).parent
GOOD, BAD = HERE / "good", HERE / "bad"
W1, W2 = "410802001", "410802002"
WARD_BOXES = {W1: box(113.20, 35.20, 113.21, 35.21), W2: box(113.21, 35.20, 113.22, 35.21)}
GRID_BOXES = {
    "410802001001001": (W1, box(113.200, 35.20, 113.205, 35.21)),
    "410802001001002": (W1, box(113.205, 35.20, 113.210, 35.21)),
    "410802002001001": (W2, box(113.210, 35.20, 113.215, 35.21)),
}
# The east strip of ward 2 (113.215-113.22E) holds no stored grid: bad grids go there, so each
# file shows its own fault and not an overlap with what is stored.
FREE = box(113.2155, 35.2005, 113.2195, 35.2095)
FREE_4547 = gpd.GeoSeries([FREE], crs="EPSG:4490").to_crs("EPSG:4547").iloc[0]
WORKER_HEADER = ["编号", "姓名", "荣誉", "行业", "所在单位", "手机", "居住街道", "状态", "承担网格数", "经度", "纬度"]
WORKER_ROWS = [
    ["W001", "张卫国", "全国劳动模范(全国,2015);焦作工匠(市,2020)", "企业", "焦作煤业集团", "13803911234", W1, "在岗", "2", "113.2021", "35.2032"],
    ["W002", "李秀英", "河南省五一劳动奖章(省部,2018)", "医疗", "焦作市人民医院", "0391-2345678", W1, "active", "1", "113.2072", "35.2051"],
    ["W003", "王建军", "", "司法", "解放区司法局", "139 0391 5678", W2, "", "1.5", "113.2133", "35.2077"],
]
INCIDENT_HEADER = ["编号", "纠纷类型", "发生日期", "所属街道", "状态", "经度", "纬度"]
INCIDENT_ROWS = [
    ["I001", "邻里纠纷", "2026-01-05", W1, "已调解", "113.2031", "35.2041"],
    ["I002", "劳动争议", "2026/1/6", "", "受理", "113.2141", "35.2061"],
    ["I003", "婚姻家庭", "2026年1月7日", W2, "", "113.2171", "35.2091"],
]


def write_geojson(path: Path, features: list[dict], *, crs: str | None = None) -> None:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")


def feature(props: dict, geom: object) -> dict:
    return {"type": "Feature", "properties": props,
            "geometry": None if geom is None else json.loads(gpd.GeoSeries([geom]).to_json())["features"][0]["geometry"]}


def grid(code: str, ward: str, geom: object, **extra: object) -> dict:
    return feature({"网格编码": code, "街道代码": ward, "网格类型": "基础", "户数": 300, "人口": 900, **extra}, geom)


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, encoding: str = "utf-8") -> None:
    lines = [",".join(header), *(",".join(r) for r in rows)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))


def write_xlsx(path: Path, rows: list[list[object]], *, merges: tuple[str, ...] = ()) -> None:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for rng in merges:
        ws.merge_cells(rng)
    wb.save(path)


def shapefile_zip(path: Path, gdf: gpd.GeoDataFrame, *, keep_prj: bool) -> None:
    tmp = path.with_suffix("")
    tmp.mkdir(exist_ok=True)
    gdf.to_file(tmp / "grids.shp", engine="pyogrio", encoding="UTF-8")
    with zipfile.ZipFile(path, "w") as zf:
        for part in sorted(tmp.iterdir()):
            if part.suffix != ".prj" or keep_prj:
                zf.write(part, part.name)
            part.unlink()
    tmp.rmdir()


def good() -> None:
    GOOD.mkdir(exist_ok=True)
    names = {W1: "民生街道", W2: "民主街道"}
    write_geojson(GOOD / "wards.geojson", [
        feature({"街道代码": c, "街道名称": names[c], "区县代码": "410802"}, g) for c, g in WARD_BOXES.items()])
    write_geojson(GOOD / "grids.geojson", [grid(c, w, g) for c, (w, g) in GRID_BOXES.items()])
    write_csv(GOOD / "workers.csv", WORKER_HEADER, [[f'"{x}"' if "," in x else x for x in r] for r in WORKER_ROWS])
    write_csv(GOOD / "incidents.csv", INCIDENT_HEADER, INCIDENT_ROWS)
    write_geojson(GOOD / "sites.geojson", [
        feature({"编号": "S1", "名称": "民生街道劳模调解工作室", "类型": "劳模工作室", "受理纠纷类型": "劳动争议;邻里",
                 "容量": 40, "已建成": "是"}, Point(113.205, 35.205)),
        feature({"编号": "S2", "名称": "民主街道候选点", "受理纠纷类型": "婚姻家庭、物业", "已建成": "否"}, Point(113.215, 35.205)),
    ])


def workers_with(row: int, column: str, value: str) -> list[list[str]]:
    """The good worker rows with one cell changed (``row`` counts data rows from 0)."""
    rows = [list(r) for r in WORKER_ROWS]
    rows[row][WORKER_HEADER.index(column)] = value
    return [[f'"{x}"' if "," in x else x for x in r] for r in rows]


def incidents_with(row: int, column: str, value: str) -> list[list[str]]:
    rows = [list(r) for r in INCIDENT_ROWS]
    rows[row][INCIDENT_HEADER.index(column)] = value
    return rows


def bad() -> None:
    BAD.mkdir(exist_ok=True)
    g1 = FREE
    new = "410802002001009"
    bowtie = Polygon([(113.216, 35.201), (113.219, 35.209), (113.219, 35.201), (113.216, 35.209)])
    geo = {
        "grids_no_crs.zip": None,
        "grids_projected_as_lonlat.geojson": [grid(new, W2, FREE_4547)],
        "grids_lonlat_labelled_projected.geojson": ("EPSG:4547", [grid(new, W2, FREE)]),
        "grids_swapped_lonlat.geojson": [grid(new, W2, box(35.201, 113.216, 35.204, 113.219))],
        "grids_outside_city.geojson": [grid(new, W2, box(116.30, 39.90, 116.31, 39.91))],
        "grids_self_intersecting.geojson": [grid(new, W2, bowtie)],
        "grids_empty_geometry.geojson": [grid(new, W2, None)],
        "grids_duplicate_codes.geojson": [grid(new, W2, box(113.216, 35.201, 113.217, 35.202)),
                                          grid(new, W2, box(113.218, 35.206, 113.219, 35.207))],
        "grids_overlapping.geojson": [grid("410802002001008", W2, box(113.216, 35.201, 113.219, 35.204)),
                                      grid(new, W2, box(113.217, 35.202, 113.219, 35.204))],
        "grids_overlap_stored.geojson": [grid(new, W2, box(113.212, 35.201, 113.219, 35.209))],
        "grids_outside_ward.geojson": [grid(new, W1, FREE)],
        "grids_outside_every_ward.geojson": [grid("410802003001001", "410802003", box(113.30, 35.30, 113.31, 35.31))],
        "grids_unknown_ward.geojson": [grid(new, "410899999", FREE)],
        "grids_unknown_kind.geojson": [grid(new, W2, FREE, 网格类型="特殊")],
        "grids_non_numeric_households.geojson": [grid(new, W2, FREE, 户数="约300户")],
        "grids_missing_code.geojson": [grid("", W2, FREE)],
        "wards_bad_code.geojson": [feature({"街道代码": "41080201", "街道名称": "测试街道", "区县代码": "410802"},
                                           box(113.3, 35.3, 113.31, 35.31))],
        "wards_unknown_county.geojson": [feature({"街道代码": "410899001", "街道名称": "测试街道", "区县代码": "110101"},
                                                 box(113.3, 35.3, 113.31, 35.31))],
        "workers_polygon_geometry.geojson": [feature({"编号": "W009", "姓名": "赵六"}, box(113.201, 35.201, 113.204, 35.204))],
    }
    for name, spec in geo.items():
        if spec is None:
            continue
        crs, feats = spec if isinstance(spec, tuple) else (None, spec)
        write_geojson(BAD / name, feats, crs=crs)
    grids = gpd.GeoDataFrame({"code": [new], "ward_code": [W2]}, geometry=[g1], crs="EPSG:4490")
    shapefile_zip(BAD / "grids_no_crs.zip", grids, keep_prj=False)

    write_csv(BAD / "workers_swapped_lonlat.csv", WORKER_HEADER,
              [r if i != 1 else r[:-2] + [r[-1], r[-2]] for i, r in enumerate(workers_with(0, "编号", "W001"))])
    write_csv(BAD / "workers_projected_numbers.csv", WORKER_HEADER, workers_with(2, "经度", "518000"))
    write_csv(BAD / "incidents_outside_city.csv", INCIDENT_HEADER, incidents_with(1, "经度", "116.3"))
    write_csv(BAD / "workers_duplicate_ids.csv", WORKER_HEADER, workers_with(2, "编号", "W001"))
    write_csv(BAD / "workers_bad_phone.csv", WORKER_HEADER, workers_with(1, "手机", "1380391123"))
    write_csv(BAD / "workers_landline_lost_zero.csv", WORKER_HEADER, workers_with(1, "手机", "3912345678"))
    write_csv(BAD / "incidents_bad_date.csv", INCIDENT_HEADER, incidents_with(2, "发生日期", "2026-02-30"))
    write_csv(BAD / "incidents_unreadable_date.csv", INCIDENT_HEADER, incidents_with(0, "发生日期", "上周三"))
    write_csv(BAD / "workers_missing_name.csv", WORKER_HEADER, workers_with(1, "姓名", ""))
    write_csv(BAD / "workers_missing_name_column.csv", ["编号", *WORKER_HEADER[2:]],
              [[r[0], *r[2:]] for r in workers_with(0, "编号", "W001")])
    write_csv(BAD / "incidents_unknown_type.csv", INCIDENT_HEADER, incidents_with(1, "纠纷类型", "吵架"))
    write_csv(BAD / "workers_unknown_sector.csv", WORKER_HEADER, workers_with(0, "行业", "航天"))
    write_csv(BAD / "workers_unknown_status.csv", WORKER_HEADER, workers_with(2, "状态", "出差中"))
    write_csv(BAD / "workers_non_numeric_capacity.csv", WORKER_HEADER, workers_with(1, "承担网格数", "两个"))
    write_csv(BAD / "workers_bad_honour.csv", WORKER_HEADER, workers_with(1, "荣誉", "劳动模范(宇宙级,2015)"))
    write_csv(BAD / "workers_unknown_ward.csv", WORKER_HEADER, workers_with(0, "居住街道", "410899999"))
    write_csv(BAD / "incidents_no_lonlat_columns.csv", INCIDENT_HEADER[:-2], [r[:-2] for r in INCIDENT_ROWS])
    write_csv(BAD / "grids_as_table.csv", ["网格编码", "街道代码"], [["410802001001009", W1]])
    write_csv(BAD / "sites_non_numeric_capacity.csv", ["编号", "名称", "容量", "经度", "纬度"],
              [["S9", "候选点", "很多", "113.203", "35.203"]])
    odd = ["*编号", "*姓名（必填）", "荣誉称号", "所属行业", "工作单位", "联系电话", "所属街道", "状态", "承担网格数", "经度", "纬度"]
    write_csv(BAD / "workers_gbk_odd_headers.csv", odd, workers_with(2, "手机", "0391-12"), encoding="gbk")
    (BAD / "empty.csv").write_bytes(b"")
    write_csv(BAD / "header_only.csv", WORKER_HEADER, [])
    (BAD / "junk.csv").write_bytes(bytes(range(256)) * 8)
    (BAD / "junk.geojson").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (BAD / "junk.xlsx").write_bytes(b"PK\x03\x04 this is not really a zip" + bytes(range(64)))
    (BAD / "workers.doc").write_text("编号,姓名\nW001,张卫国\n", encoding="utf-8")

    write_xlsx(BAD / "workers_formulas.xlsx", [
        WORKER_HEADER,
        ["W001", "张卫国", "", "企业", '=HYPERLINK("http://example.com","单位")', "13803911234", W1, "", 1, 113.2021, 35.2032],
        ["W002", "=cmd|' /C calc'!A0", "", "医疗", "焦作市人民医院", "13903912345", W1, "", 1, 113.2072, 35.2051],
    ])
    write_xlsx(BAD / "workers_merged_header_bad_date.xlsx", [
        ["焦作市劳模名单（2026年）"] + [None] * 10,
        ["编号", "姓名", "基本信息", None, None, "电话", "居住街道", "状态", "暂不可用起", "经度", "纬度"],
        [None, None, "荣誉", "行业", "单位", None, None, None, None, None, None],
        ["W001", "张卫国", "", "企业", "焦作煤业集团", "13803911234", W1, "在岗", "2026-01-05", 113.2021, 35.2032],
        ["W002", "李秀英", "", "医疗", "焦作市人民医院", "13903912345", W1, "暂不可用", "下个月", 113.2072, 35.2051],
    ], merges=("A1:K1", "A2:A3", "B2:B3", "C2:E2", "F2:F3", "G2:G3", "H2:H3", "I2:I3", "J2:J3", "K2:K3"))


if __name__ == "__main__":
    good()
    bad()
