"""Validation: map headers, parse every cell and check every rule, collecting all problems before raising once."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from gridgov.errors import Problem
from gridgov.geo.crs import STORAGE_CRS, to_metric, to_storage
from gridgov.geo.validity import repaired_polygon
from gridgov.geo.shipped import COUNTY_NAMES, city_extent
from gridgov.io import values as v
from gridgov.io.headers import LAT, LON, map_headers
from gridgov.io.problems import HEADER, WHOLE_FILE, Problems, ValueProblem, where_label
from gridgov.settings import get_settings
from gridgov.schema import (
    DISPUTE_TYPES, GRID_KINDS, LAYERS, MAX_CAPACITY, SECTORS, WORKER_STATUSES, Layer,
)

Extent = tuple[float, float, float, float]
GEOMETRY_FIELD = "几何"
_SWAP_MARGIN_DEG = 0.5  # a swapped point still lands near the city once swapped back

SECTOR_SYNONYMS = {"其它": "其他", "社工": "社会工作", "人力资源和社会保障": "人社", "卫生": "医疗", "卫健": "医疗",
                   "律师": "司法", "司法行政": "司法", "人民法院": "法院", "检察院": "检察", "公安局": "公安"}
STATUS_SYNONYMS = {"在岗": "active", "正常": "active", "可用": "active", "在职": "active", "启用": "active",
                   "暂不可用": "unavailable", "请假": "unavailable", "暂停": "unavailable", "外出": "unavailable",
                   "退出": "retired", "退休": "retired", "离职": "retired", "停用": "retired"}
STATUS_LABELS = {"active": "在岗(active)", "unavailable": "暂不可用(unavailable)", "retired": "退出(retired)"}
KIND_SYNONYMS = {"基础网格": "基础", "专属网格": "专属", "basic": "基础", "dedicated": "专属"}
DISPUTE_SYNONYMS = {
    **{f"{t}纠纷": t for t in DISPUTE_TYPES}, "其他": "其它", "其他纠纷": "其它", "婚姻": "婚姻家庭",
    "家庭": "婚姻家庭", "邻里关系": "邻里", "宅基地": "房屋宅基地", "交通事故": "道路交通事故",
    "劳资": "劳动争议", "劳资纠纷": "劳动争议", "医患": "医疗", "医患纠纷": "医疗", "消费者": "消费",
}


@dataclass(frozen=True, eq=False)
class ValidationContext:
    """What validation checks against: known wards (codes, names, polygons), stored grids, the city extent.

    ``overlap_tolerance_m2`` and ``overlap_ratio`` together bound how much two grids may share:
    an overlap counts only above max(tolerance m², ratio × the smaller grid's area) and when it
    is more than a metre wide on average, so the slivers of hand-digitised shared edges pass
    while a grid drawn twice does not. A grid may lie
    outside its ward by max(tolerance m², ``outside_ratio`` × its area) for the same reason.
    """

    ward_codes: frozenset[str] = frozenset()  # stored and real (shipped) 9-digit codes
    ward_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # ward name -> its code(s)
    wards: gpd.GeoDataFrame | None = None  # stored wards: code, geometry (EPSG:4490)
    grids: gpd.GeoDataFrame | None = None  # stored grids: code, geometry (EPSG:4490)
    extent: Extent = field(default_factory=city_extent)
    repair: bool = False
    crs: Any = None  # declared CRS (--crs): fills in or overrides the file's
    # Keys already stored for the layer being checked: a table without coordinate columns may
    # update those rows (their stored points stay) but cannot add new ones.
    stored_keys: frozenset[str] = frozenset()
    overlap_tolerance_m2: float = field(default_factory=lambda: get_settings().overlap_tolerance_m2)
    overlap_ratio: float = 0.001
    outside_ratio: float = 0.01


@dataclass(frozen=True)
class Validated:
    """A clean frame in the schema's columns (geometry in EPSG:4490) and the notices (repairs, ignored columns)."""

    frame: pd.DataFrame
    notices: tuple[Problem, ...] = ()
    columns: tuple[str, ...] = ()  # the schema columns the file carried (others are left as stored)


Parser = Callable[[Any], Any]


def _parsers(spec: Layer, ctx: ValidationContext) -> dict[str, Parser]:
    """The cell parser of each column: by kind, then the columns with rules of their own."""
    by_kind: dict[str, Parser] = {
        "text": v.text, "int": v.integer, "float": v.number, "bool": v.boolean, "date": v.parse_date,
        "datetime": v.parse_date, "json": v.text,
    }
    parsers = {c.name: by_kind[c.kind] for c in spec.columns}
    parsers.update({key: _key_parser(ctx) for key in spec.key})  # ids as typed: full-width, spaces
    ward = _ward_code_parser(ctx)
    special: dict[str, dict[str, Parser]] = {
        "wards": {"code": _nine_digit_code, "county_code": _county_code},
        "grids": {"ward_code": ward, "kind": lambda x: v.choice(x, GRID_KINDS, synonyms=KIND_SYNONYMS)},
        "workers": {
            "capacity": _capacity, "name": v.person_name, "home_ward": ward, "phone": v.phone, "honours": v.honours,
            "sector": lambda x: v.choice(x, SECTORS, synonyms=SECTOR_SYNONYMS),
            "status": lambda x: v.choice(x, WORKER_STATUSES, synonyms=STATUS_SYNONYMS, labels=STATUS_LABELS),
        },
        "incidents": {"ward_code": ward, "type": lambda x: v.choice(x, DISPUTE_TYPES, synonyms=DISPUTE_SYNONYMS)},
        "sites": {"types": lambda x: v.choices(x, DISPUTE_TYPES, synonyms=DISPUTE_SYNONYMS)},
    }
    parsers.update(special.get(spec.name, {}))
    return parsers


def _key_parser(ctx: ValidationContext) -> Parser:
    """Ids normalised (４１０８… → 4108…, spaces out), unless the id is stored as typed (an
    older gridgov kept ``LM 0010``): the row then updates that record, not a twin of it."""
    # Stored ids with leading zeros, by their digits without them: Excel reads 0013 as the number 13.
    padded = {k.lstrip("0"): k for k in ctx.stored_keys if k.isdigit() and k.startswith("0")}

    def parse(value: Any) -> str | None:
        raw = v.text(value)
        if raw in ctx.stored_keys:
            return raw
        code = v.code(value)
        if code is not None and code not in ctx.stored_keys and code.isdigit() and code.lstrip("0") in padded:
            was = padded[code.lstrip("0")]
            raise ValueProblem(
                f"编号 {code} 不在库中，可能是已有的 {was}（Excel 把编号当成数字，去掉了开头的 0）",
                f"id {code} is not stored; it may be the stored {was} (Excel read the id as a number and dropped its leading zeros)",
                f"把该列设为文本，填写 {was}", f"set the column to Text and enter {was}")
        return code
    return parse


def _capacity(value: Any) -> float | None:
    x = v.number(value)
    if x == 0:  # as the roster commands and the page refuse it
        raise ValueProblem("承担能力应大于 0", "capacity must be more than 0",
                           "暂时不能承担网格的，请登记暂不可用（状态填“暂不可用”）", "for a worker who cannot take grids for now, book an absence (status 暂不可用)")
    if x is not None and x > MAX_CAPACITY:
        raise ValueProblem(f"承担能力 {x:g} 超过 {MAX_CAPACITY:g} 个标准网格（每个 400 户）",
                           f"capacity {x:g} is more than {MAX_CAPACITY:g} standard grids (400 households each)",
                           "填写该劳模能承担的标准网格数，如 1 或 2.5", "enter how many standard grids the worker takes on, e.g. 1 or 2.5")
    return x


def _nine_digit_code(value: Any) -> str | None:
    s = v.code(value)
    if s is not None and not (len(s) == 9 and s.isdigit()):
        raise ValueProblem(f"街道代码“{s}”应为 9 位数字", f"ward code “{s}” must be 9 digits",
                           "填写 9 位乡级区划代码，如 410802001", "enter the 9-digit township code, e.g. 410802001")
    return s


def _county_code(value: Any) -> str | None:
    s = v.code(value)
    if s is not None and s not in COUNTY_NAMES:
        shown = "、".join(f"{k}{n}" for k, n in COUNTY_NAMES.items())
        raise ValueProblem(f"区县代码“{s}”不是焦作市的区县", f"county code “{s}” is not a Jiaozuo county",
                           f"改为以下之一：{shown}", f"use one of: {', '.join(COUNTY_NAMES)}")
    return s


def _one_ward(name: str, codes: tuple[str, ...]) -> str:
    if len(codes) == 1:
        return codes[0]
    listed = [(c, COUNTY_NAMES.get(c[:6], "")) for c in codes]
    raise ValueProblem(
        f"街道名称“{name}”对应 {len(codes)} 个街道：" + "、".join(f"{c}（{county}）" for c, county in listed),
        f"the ward name “{name}” names {len(codes)} wards: " + ", ".join(f"{c} ({county})" for c, county in listed),
        f"填写 9 位街道代码，或在名称前加上区县名，如“{listed[0][1]}{name}”",
        f"enter the 9-digit ward code, or put the county's name before it, e.g. “{listed[0][1]}{name}”",
    )


def _ward_code_parser(ctx: ValidationContext) -> Parser:
    def parse(value: Any) -> str | None:
        s = v.text(value)
        if s is None or s in ctx.ward_codes:
            return s
        if s in ctx.ward_names:
            return _one_ward(s, ctx.ward_names[s])
        typed = v.code(value)  # ４１０８０２００１, 410 802 001
        if typed in ctx.ward_codes or typed in ctx.ward_names:
            return typed if typed in ctx.ward_codes else _one_ward(typed, ctx.ward_names[typed])
        raise ValueProblem(
            f"街道代码“{s}”不存在（既未导入，也不是焦作市的乡级区划代码）",
            f"ward code “{s}” is unknown (not in the store and not a Jiaozuo township code)",
            "填写 9 位街道/乡镇代码（如 410802001）或街道名称，或先导入街道（gridgov import wards）",
            "enter the 9-digit ward code (e.g. 410802001) or the ward's name, or import the wards first",
        )
    return parse


def validate(layer: str, frame: pd.DataFrame, *, file: str, context: ValidationContext) -> Validated:
    """Check ``frame`` (as a reader returned it) for ``layer``; raise ValidationError with every problem.

    A GeoDataFrame's index numbers features (要素 N), a table's index numbers spreadsheet rows
    (第 N 行). Tables give points from lon/lat columns, read in ``context.crs`` or EPSG:4490.
    """
    spec = LAYERS[layer]
    is_features = isinstance(frame, gpd.GeoDataFrame)
    problems = Problems(file, "feature" if is_features else "row")
    notices = Problems(file, problems.unit)
    attributes = [c for c in frame.columns if not (is_features and c == frame.geometry.name)]
    mapping, unknown, duplicates = map_headers(layer, attributes)
    _report_headers(spec, mapping, unknown, duplicates, problems, notices, is_features=is_features)
    header_of = {col: original for original, col in mapping.items()}
    cleaned = _parse_cells(spec, frame, mapping, header_of, _parsers(spec, context), problems)
    _check_required(spec, cleaned, header_of, problems)
    _check_duplicate_keys(spec, cleaned, header_of, problems)
    if layer == "workers":
        _check_unavailable_span(cleaned, header_of, problems)
    if layer == "grids":
        _check_grid_codes(cleaned, header_of, context, problems)
    geometry = _geometry(spec, frame, cleaned, header_of, context, problems, notices, is_features=is_features)
    if layer == "grids" and geometry is not None:
        _check_grid_overlaps(cleaned, geometry, context, problems)
        _check_grids_in_wards(cleaned, geometry, context, problems)
    problems.raise_if_any()
    out = pd.DataFrame({c.name: cleaned.get(c.name, pd.Series(None, index=frame.index, dtype=object))
                        for c in spec.columns}, index=frame.index)
    if spec.geometry:
        out = gpd.GeoDataFrame(out, geometry=geometry, crs=STORAGE_CRS)
        _fill_wards_from_points(spec, out, context)
        if layer == "workers":
            for number, problem in home_ward_mismatches(out, context.wards).items():
                notices.add(int(number), header_of.get("home_ward", "居住街道"), *problem)
    present = tuple(c for c in spec.column_names if c in cleaned)
    if spec.geometry and not _keeps_stored_points(spec, header_of, context, is_features=is_features):
        present += ("geometry",)  # the file gave locations
    return Validated(out, tuple(notices.items), present)


# -- headers and cells -------------------------------------------------------------------------

def _report_headers(
    spec: Layer,
    mapping: Mapping[str, str],
    unknown: list[str],
    duplicates: list[tuple[str, str]],
    problems: Problems,
    notices: Problems,
    *,
    is_features: bool,
) -> None:
    present = set(mapping.values())
    for col in spec.columns:
        if col.required and col.name not in present:
            problems.add(HEADER, col.label, f"缺少必填列“{col.label}”", f"required column “{col.name}” is missing",
                         f"添加表头为“{col.label}”（或 {col.name}）的列", f"add a column headed “{col.label}” or “{col.name}”")
    if unknown:
        shown = "、".join(unknown)
        notices.add(HEADER, None, f"已忽略未识别的列：{shown}", f"ignored unrecognised columns: {', '.join(unknown)}",
                    "如需导入，请改用标准表头（见 gridgov 文档）", "rename them to the standard headers to import them")
    for original, col in duplicates:
        label = spec.column(col).label if col not in (LON, LAT) else ("经度" if col == LON else "纬度")
        notices.add(HEADER, original, f"列“{original}”与已有的“{label}”列重复，已忽略",
                    f"column “{original}” repeats “{col}” and was ignored")


def _field(spec: Layer, col: str, header_of: Mapping[str, str]) -> str:
    if col in header_of:
        return header_of[col]
    return spec.column(col).label if col in spec.column_names else col


def _parse_cells(
    spec: Layer,
    frame: pd.DataFrame,
    mapping: Mapping[str, str],
    header_of: Mapping[str, str],
    parsers: Mapping[str, Parser],
    problems: Problems,
) -> dict[str, pd.Series]:
    """Parsed columns (schema name → Series); lon/lat keep their raw cells for the point builder."""
    out: dict[str, pd.Series] = {}
    for original, col in mapping.items():
        raw = frame[original]
        if col in (LON, LAT):
            parser: Parser = v.coordinate
        else:
            parser = parsers[col]
        parsed: list[Any] = []
        for number, cell in zip(frame.index, raw.tolist()):
            parsed.append(_parse_one(number, original, cell, parser, problems))
        out[col] = pd.Series(parsed, index=frame.index, dtype=object)
    return out


def _parse_one(number: Hashable, header: str, cell: Any, parser: Parser, problems: Problems) -> Any:
    if v.is_formula(cell):
        problems.add(int(number), header, f"单元格是公式“{str(cell)[:40]}”，gridgov 不计算公式",
                     f"the cell holds a formula “{str(cell)[:40]}”; gridgov does not evaluate formulas",
                     "复制该列后“选择性粘贴 → 数值”，再保存", "copy the column and paste as values, then save")
        return None
    try:
        return parser(cell)
    except ValueProblem as exc:
        problems.add_value(int(number), header, exc)
        return None


def _check_required(spec: Layer, cleaned: Mapping[str, pd.Series], header_of: Mapping[str, str],
                    problems: Problems) -> None:
    for col in spec.columns:
        if not col.required or col.name not in cleaned:
            continue
        series = cleaned[col.name]
        raw_missing = series.isna()
        for number in series.index[raw_missing]:
            if _already_reported(problems, number, _field(spec, col.name, header_of)):
                continue
            problems.add(int(number), _field(spec, col.name, header_of), f"必填项“{col.label}”为空",
                         f"required field “{col.name}” is empty", f"填写“{col.label}”", f"fill in “{col.name}”")


def _already_reported(problems: Problems, number: Hashable, field_name: str) -> bool:
    place = where_label(problems.unit, int(number))
    return any(p.where == place and p.field == field_name for p in problems.items)


def _check_duplicate_keys(spec: Layer, cleaned: Mapping[str, pd.Series], header_of: Mapping[str, str],
                          problems: Problems) -> None:
    if any(k not in cleaned for k in spec.key):
        return
    first: dict[tuple[Any, ...], Hashable] = {}
    keys = zip(*(cleaned[k].tolist() for k in spec.key))
    for number, key in zip(cleaned[spec.key[0]].index, keys):
        if any(x is None for x in key):
            continue
        if key in first:
            shown = "/".join(str(x) for x in key)
            label = _field(spec, spec.key[0], header_of)
            earlier = where_label(problems.unit, int(first[key]))
            earlier_en = f"{problems.unit} {int(first[key])}"
            problems.add(int(number), label, f"“{label}”重复：{shown} 已出现在{earlier}",
                         f"duplicate {spec.key[0]} {shown}: already at {earlier_en}",
                         "每个编码只保留一行（删除或改正重复的一行）", "keep one row per code (delete or correct the repeat)")
        else:
            first[key] = number


def _check_unavailable_span(cleaned: Mapping[str, pd.Series], header_of: Mapping[str, str],
                            problems: Problems) -> None:
    if "unavailable_from" not in cleaned or "unavailable_to" not in cleaned:
        return
    for number, start, end in zip(cleaned["unavailable_from"].index, cleaned["unavailable_from"], cleaned["unavailable_to"]):
        if start is not None and end is not None and start > end:
            problems.add(int(number), header_of.get("unavailable_to", "暂不可用止"),
                         f"暂不可用止 {end} 早于起始日 {start}", f"unavailable_to {end} is before unavailable_from {start}",
                         "把结束日期改为不早于开始日期", "make the end date on or after the start date")


def _check_grid_codes(cleaned: Mapping[str, pd.Series], header_of: Mapping[str, str], ctx: ValidationContext,
                      problems: Problems) -> None:
    """A new grid's code is its village/community's 12-digit code and a 3-digit number, so it
    starts with its ward's 9 digits. An Excel-mangled code (4.10802E+14) or a typo would
    otherwise be stored as a grid — and, with --replace, remove the real grids it should have
    updated. Codes already stored pass as they are (an older store may hold other forms)."""
    codes, wards = cleaned.get("code"), cleaned.get("ward_code")
    if codes is None:
        return
    field_name = header_of.get("code", "网格编码")
    for number, code in codes.items():
        if code is None or code in ctx.stored_keys or _already_reported(problems, number, field_name):
            continue
        ward = None if wards is None else wards.get(number)
        if re.fullmatch(r"\d(\.\d+)?[eE]\+?\d+", code):
            problems.add(int(number), field_name, f"网格编码“{code}”是 Excel 的科学计数法，原编码已丢失",
                         f"grid code “{code}” is Excel's scientific notation: the code itself is lost",
                         "在原始文件中把该列设为文本后重新填写编码", "set the column to Text in the source file and enter the codes again")
        elif not (len(code) == 15 and code.isdigit()):
            problems.add(int(number), field_name, f"网格编码“{code}”应为 15 位数字（村/社区 12 位代码 + 3 位序号）",
                         f"grid code “{code}” must be 15 digits (the village/community's 12-digit code + a 3-digit number)",
                         "填写 15 位网格编码，如 410802001001001", "enter the 15-digit grid code, e.g. 410802001001001")
        elif ward is not None and not code.startswith(str(ward)):
            problems.add(int(number), field_name, f"网格编码“{code}”不以所属街道代码 {ward} 开头",
                         f"grid code “{code}” does not start with its ward code {ward}",
                         "核对网格编码或街道代码", "check the grid code or the ward code")


# -- geometry ----------------------------------------------------------------------------------

def _geometry(
    spec: Layer,
    frame: pd.DataFrame,
    cleaned: dict[str, pd.Series],
    header_of: Mapping[str, str],
    ctx: ValidationContext,
    problems: Problems,
    notices: Problems,
    *,
    is_features: bool,
) -> gpd.GeoSeries | None:
    """The geometry in EPSG:4490 (index as ``frame``), or None when it cannot be had; problems added."""
    if spec.geometry is None:
        return None
    if is_features:
        raw = frame.geometry
        declared = ctx.crs if ctx.crs is not None else frame.crs
        field_name = GEOMETRY_FIELD
    else:
        if spec.geometry != "POINT":
            problems.add(WHOLE_FILE, GEOMETRY_FIELD, f"{spec.label}是面图层，表格（CSV/Excel）不能提供边界",
                         f"{spec.name} are polygons; a table (CSV/Excel) cannot carry their boundaries",
                         "使用 GeoJSON、GeoPackage 或 Shapefile（可压缩为 .zip）", "use GeoJSON, GeoPackage or a (zipped) Shapefile")
            return None
        if _keeps_stored_points(spec, header_of, ctx, is_features=is_features):
            return _keep_stored_points(spec, frame, cleaned, ctx, problems)
        raw = _points_from_columns(cleaned, header_of, problems)
        if raw is None:
            return None
        declared = ctx.crs if ctx.crs is not None else STORAGE_CRS
        field_name = "/".join(header_of.get(c, lab) for c, lab in ((LON, "经度"), (LAT, "纬度")))
    shapes = _check_shapes(spec, raw, ctx, problems, notices, field_name)
    if declared is None:
        problems.add(WHOLE_FILE, field_name, "文件没有坐标系（CRS），无法确定坐标的含义",
                     "the file has no coordinate reference system (CRS)",
                     "确认坐标系后用 --crs 指定：经纬度用 --crs 4490，CGCS2000 3度带(114E)投影用 --crs 4547",
                     "declare it with --crs: lon/lat --crs 4490, CGCS2000 Gauss-Kruger 114E --crs 4547")
        return None
    crs = CRS.from_user_input(declared)
    shapes = _check_coordinates(shapes, crs, ctx, problems, field_name)
    stored = to_storage(gpd.GeoSeries(list(shapes.values()), index=list(shapes.keys()), crs=crs))
    kept = _check_extent(stored, ctx, problems, field_name)
    return gpd.GeoSeries([kept.get(n) for n in frame.index], index=frame.index, crs=STORAGE_CRS)


def _keeps_stored_points(spec: Layer, header_of: Mapping[str, str], ctx: ValidationContext, *,
                         is_features: bool) -> bool:
    """A table of a point layer with no coordinate columns, checked against stored rows."""
    return (not is_features and spec.geometry == "POINT" and bool(ctx.stored_keys)
            and LON not in header_of and LAT not in header_of)


def _keep_stored_points(spec: Layer, frame: pd.DataFrame, cleaned: Mapping[str, pd.Series],
                        ctx: ValidationContext, problems: Problems) -> gpd.GeoSeries:
    """A table without coordinate columns (a union roster of names and phones): its rows update
    stored ones, whose points stay; a row that is not stored yet has no location and is refused."""
    key = spec.key[0]
    keys = cleaned.get(key, pd.Series(None, index=frame.index, dtype=object))
    for number, value in zip(keys.index, keys.tolist()):
        if value is not None and value not in ctx.stored_keys:
            problems.add(int(number), "经度/纬度", f"新增的“{value}”没有位置：表中没有经度、纬度列",
                         f"“{value}” is new and the table has no longitude/latitude columns",
                         "为新增的行添加“经度”“纬度”两列（只更新已有记录时可以不带坐标）",
                         "add columns 经度 and 纬度 for new rows (updates of stored rows may leave them out)")
    return gpd.GeoSeries([None] * len(frame), index=frame.index, crs=STORAGE_CRS)


def _points_from_columns(cleaned: dict[str, pd.Series], header_of: Mapping[str, str],
                         problems: Problems) -> gpd.GeoSeries | None:
    if LON not in cleaned or LAT not in cleaned:
        problems.add(HEADER, "经度/纬度", "缺少经度、纬度列，无法确定位置", "the longitude/latitude columns are missing",
                     "添加“经度”“纬度”两列（十进制度数，如 113.2419、35.2156）",
                     "add columns 经度 (lon) and 纬度 (lat) in decimal degrees")
        return None
    lons, lats = cleaned.pop(LON), cleaned.pop(LAT)
    points: list[BaseGeometry | None] = [
        Point(x, y) if x is not None and y is not None else None for x, y in zip(lons, lats)
    ]
    return gpd.GeoSeries(points, index=lons.index)


def _check_shapes(spec: Layer, raw: gpd.GeoSeries, ctx: ValidationContext, problems: Problems,
                  notices: Problems, field_name: str) -> dict[Hashable, BaseGeometry]:
    """Non-empty, valid (or repaired) geometries of the right type, by row/feature number."""
    wanted = (Point,) if spec.geometry == "POINT" else (Polygon, MultiPolygon)
    wanted_zh = "点" if spec.geometry == "POINT" else "面（多边形）"
    out: dict[Hashable, BaseGeometry] = {}
    for number, geom in zip(raw.index, raw.values):
        if geom is None or geom.is_empty:
            problems.add(int(number), field_name, "几何为空（没有坐标）", "the geometry is empty (no coordinates)",
                         "补全坐标或边界，或删除该行/要素", "add the coordinates or boundary, or delete it")
            continue
        if spec.geometry == "POINT" and geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
            geom = geom.geoms[0]
        if not isinstance(geom, wanted):
            problems.add(int(number), field_name,
                         f"几何类型是{_GEOM_TYPES_ZH.get(geom.geom_type, geom.geom_type)}，{spec.label}应为{wanted_zh}",
                         f"geometry is a {geom.geom_type}; {spec.name} must be {spec.geometry.lower()}",
                         f"导出{wanted_zh}图层", f"export the {spec.geometry.lower()} layer")
            continue
        if not geom.is_valid:
            geom = _repair_or_report(int(number), geom, ctx, problems, notices, field_name)
            if geom is None:
                continue
        out[number] = geom
    return out


def _repair_or_report(number: int, geom: BaseGeometry, ctx: ValidationContext, problems: Problems,
                      notices: Problems, field_name: str) -> BaseGeometry | None:
    reason = shapely.is_valid_reason(geom)
    reason_zh = _validity_reason_zh(reason)
    if not ctx.repair or isinstance(geom, Point):
        problems.add(number, field_name, f"几何无效：{reason_zh}", f"invalid geometry: {reason}",
                     "加 --repair 自动修复（shapely make_valid），或在 QGIS 中修复几何后重新导入",
                     "add --repair to fix it automatically (make_valid), or fix it in QGIS")
        return None
    fixed = repaired_polygon(geom)
    if fixed.is_empty:
        problems.add(number, field_name, f"几何无效且无法修复：{reason_zh}", f"invalid geometry that cannot be repaired: {reason}",
                     "在 QGIS 中重画该要素", "redraw the feature in QGIS")
        return None
    notices.add(number, field_name, f"已修复无效几何（{reason_zh}）", f"repaired invalid geometry ({reason})",
                "请在地图上核对修复后的边界", "check the repaired boundary on the map")
    return fixed


_GEOM_TYPES_ZH = {"Point": "点", "MultiPoint": "多点", "LineString": "线", "MultiLineString": "多线",
                  "LinearRing": "线", "Polygon": "面", "MultiPolygon": "多面", "GeometryCollection": "几何集合"}
# GEOS's reasons (shapely.is_valid_reason), longest first: "Ring Self-intersection" before "Self-intersection".
_VALIDITY_ZH = (("Ring Self-intersection", "边界环自相交"), ("Self-intersection", "边界自相交"),
                ("Too few points in geometry component", "边界的点太少"), ("Hole lies outside shell", "内洞在外边界之外"),
                ("Nested shells", "外边界互相嵌套"), ("Nested holes", "内洞互相嵌套"),
                ("Interior is disconnected", "内部被分隔成不相连的部分"), ("Duplicate Rings", "边界环重复"),
                ("Invalid Coordinate", "坐标无效"), ("Ring is not closed", "边界未闭合"))


def _validity_reason_zh(reason: str) -> str:
    """GEOS's reason in Chinese, with where it is: Self-intersection[113.2175 35.205] → 边界自相交（约在 113.2175, 35.205）."""
    m = re.fullmatch(r"(.*?)\[([-\d.eE+]+) ([-\d.eE+]+)\]", reason.strip())
    text, place = (m[1], f"（约在 {m[2]}, {m[3]}）") if m else (reason, "")
    return next((zh for en, zh in _VALIDITY_ZH if text.strip() == en), text) + place


def _in_box(bounds: tuple[float, float, float, float], box: Extent, margin: float = 0.0) -> bool:
    minx, miny, maxx, maxy = bounds
    return (minx >= box[0] - margin and miny >= box[1] - margin
            and maxx <= box[2] + margin and maxy <= box[3] + margin)


def _xy(geom: BaseGeometry) -> str:
    p = geom.representative_point()
    return f"({p.x:.6g}, {p.y:.6g})"


def _check_coordinates(shapes: dict[Hashable, BaseGeometry], crs: CRS, ctx: ValidationContext,
                       problems: Problems, field_name: str) -> dict[Hashable, BaseGeometry]:
    """Drop (and report) coordinates that contradict the CRS: metres labelled lon/lat, swapped, or the reverse."""
    out: dict[Hashable, BaseGeometry] = {}
    name = crs.to_string()
    for number, geom in shapes.items():
        minx, miny, maxx, maxy = geom.bounds
        lonlat_numbers = -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90
        if crs.is_geographic and _in_box((miny, minx, maxy, maxx), ctx.extent, _SWAP_MARGIN_DEG) \
                and not _in_box((minx, miny, maxx, maxy), ctx.extent, _SWAP_MARGIN_DEG):
            problems.add(int(number), field_name,
                         f"经纬度疑似颠倒：经度位置是 {minx:.6g}，纬度位置是 {miny:.6g}（焦作经度约 113，纬度约 35）",
                         f"lon/lat look swapped: lon {minx:.6g}, lat {miny:.6g} (Jiaozuo is near lon 113, lat 35)",
                         "交换经度和纬度两列（经度约 112.5–113.7，纬度约 34.8–35.5）",
                         "swap the longitude and latitude (lon ~112.5-113.7, lat ~34.8-35.5)")
        elif crs.is_geographic and not lonlat_numbers:
            fix, fix_en = _crs_fix(minx, miny, crs)
            problems.add(int(number), field_name,
                         f"坐标 {_xy(geom)} 是以米为单位的投影坐标，但文件的坐标系是经纬度（{name}）",
                         f"coordinates {_xy(geom)} are projected metres but the CRS is lon/lat ({name})",
                         f"用 --crs 声明实际坐标系：{fix}", f"declare the real CRS with --crs: {fix_en}")
        elif not crs.is_geographic and _zone_prefix_differs(crs, minx):
            fix, fix_en = _crs_fix(minx, miny, crs)
            problems.add(int(number), field_name,
                         f"东坐标 {minx:.0f} 与坐标系 {name} 不符（{'带有' if minx >= 1e7 else '没有'}带号）",
                         f"easting {minx:.0f} does not fit {name} ({'it carries' if minx >= 1e7 else 'it lacks'} a zone number)",
                         fix, fix_en)
        elif not crs.is_geographic and lonlat_numbers:
            problems.add(int(number), field_name,
                         f"坐标 {_xy(geom)} 是经纬度，但文件的坐标系是投影坐标（{name}）",
                         f"coordinates {_xy(geom)} are lon/lat but the CRS is projected ({name})",
                         "用 --crs 4490 声明为经纬度", "declare lon/lat with --crs 4490")
        else:
            out[number] = geom
    return out


def _likely_crs(easting: float, northing: float) -> tuple[int | None, str, str]:
    """The likely projected CRS of coordinates near Jiaozuo: (EPSG code or None, Chinese name,
    English name). Eastings of 12.4-12.8 million with northings near 4.2 million are Web
    Mercator (a QGIS project over a web basemap); 8-digit eastings carry the Gauss-Kruger zone
    number first (3-degree zones 25-45: EPSG 4513-4533; 6-degree 13-23: EPSG 4491-4501)."""
    if 12.4e6 <= easting < 12.8e6 and 4.0e6 <= northing < 4.4e6:
        return 3857, "Web 墨卡托（网络底图）", "Web Mercator (web basemaps)"
    if 1e7 <= easting < 1e8:
        zone = int(easting // 1e6)
        if 25 <= zone <= 45:
            return 4488 + zone, f"CGCS2000 3度带第 {zone} 带（带号在前）", f"CGCS2000 3-degree Gauss-Kruger zone {zone} (zone number first)"
        if 13 <= zone <= 23:
            return 4478 + zone, f"CGCS2000 6度带第 {zone} 带（带号在前）", f"CGCS2000 6-degree Gauss-Kruger zone {zone} (zone number first)"
        return None, f"带号 {zone} 不是中国的高斯-克吕格带", f"zone {zone} is no Chinese Gauss-Kruger zone"
    if 550_000 <= easting < 800_000:  # Jiaozuo lies 1.5-2.7 degrees east of 111E: x of 640-750 km
        return 4546, "CGCS2000 中央经线 111E（无带号）", "CGCS2000 Gauss-Kruger CM 111E (no zone number)"
    if 100_000 <= easting < 550_000:
        return 4547, "CGCS2000 3度带中央经线 114E（无带号）", "CGCS2000 3-degree Gauss-Kruger CM 114E (no zone number)"
    return None, "无法从数值判断", "not recognisable from the numbers"


def _crs_fix(easting: float, northing: float, declared: CRS) -> tuple[str, str]:
    """What to do about coordinates that do not fit ``declared``: the likely CRS, never the
    declared one again (the advice used to name the CRS just given)."""
    code, zh, en = _likely_crs(easting, northing)
    if code is None or code == declared.to_epsg():
        return ("在 GIS 软件中查看数据的实际坐标系（.prj 或图层属性），用 --crs 声明",
                "look up the data's real CRS in a GIS (the .prj or the layer's properties) and declare it with --crs")
    return f"这样的坐标多为{zh}，用 --crs {code}", f"coordinates like these are usually {en}: --crs {code}"


def _zone_prefix_differs(crs: CRS, easting: float) -> bool:
    """An 8-digit easting (zone number first) in a CRS without one, or the other way round."""
    op = crs.coordinate_operation
    if op is None or "Transverse Mercator" not in op.method_name or not 1e5 <= easting < 1e8:
        return False
    false_easting = next((float(p.value) for p in op.params if p.name == "False easting"), 0.0)
    return (easting >= 1e7) != (false_easting >= 1e6)


def _check_extent(stored: gpd.GeoSeries, ctx: ValidationContext, problems: Problems,
                  field_name: str) -> dict[Hashable, BaseGeometry]:
    kept: dict[Hashable, BaseGeometry] = {}
    lo_x, lo_y, hi_x, hi_y = ctx.extent
    for number, geom in zip(stored.index, stored.values):
        if geom is None or geom.is_empty or not _in_box(geom.bounds, ctx.extent):
            problems.add(int(number), field_name,
                         f"位置 {_xy(geom)} 在焦作市范围之外（经度 {lo_x:.2f}–{hi_x:.2f}，纬度 {lo_y:.2f}–{hi_y:.2f}）",
                         f"location {_xy(geom)} is outside Jiaozuo (lon {lo_x:.2f}-{hi_x:.2f}, lat {lo_y:.2f}-{hi_y:.2f})",
                         "核对坐标；若坐标系不对，用 --crs 指定", "check the coordinates; declare the CRS with --crs if wrong")
            continue
        kept[number] = geom
    return kept


# -- grids -------------------------------------------------------------------------------------

def _overlap_tolerance(ctx: ValidationContext, area_a: float, area_b: float) -> float:
    return max(ctx.overlap_tolerance_m2, ctx.overlap_ratio * min(area_a, area_b))


# A hand-digitised shared edge drawn half a metre over its neighbour leaves an overlap a few
# hundred square metres large but under a metre wide: digitising error, not a grid drawn twice.
_SLIVER_WIDTH_M = 1.0


def _overlaps(a: BaseGeometry, b: BaseGeometry, ctx: ValidationContext) -> float:
    """The area two metric grids share when it is an overlap to refuse, else 0: above the area
    tolerance and wider than a sliver (mean width = area / half the perimeter)."""
    shared = a.intersection(b)
    if shared.area <= _overlap_tolerance(ctx, a.area, b.area):
        return 0.0
    width = shared.area / max(shared.length / 2, 1e-9)
    return 0.0 if width <= _SLIVER_WIDTH_M else float(shared.area)


def _metric(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    present = geometry[geometry.notna()]
    return to_metric(present)


def _check_grid_overlaps(cleaned: Mapping[str, pd.Series], geometry: gpd.GeoSeries, ctx: ValidationContext,
                         problems: Problems) -> None:
    """Grids of the file overlapping each other, or a stored grid the file does not replace."""
    codes = cleaned.get("code", pd.Series(None, index=geometry.index, dtype=object))
    mine = _metric(geometry)
    if mine.empty:
        return
    geoms = np.asarray(mine.values)
    numbers = list(mine.index)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left, right):
        if i >= j:
            continue
        shared = _overlaps(geoms[i], geoms[j], ctx)
        if shared:
            _report_overlap(problems, numbers[j], codes.get(numbers[j]), f"{codes.get(numbers[i])}（要素 {numbers[i]}）",
                            f"{codes.get(numbers[i])} (feature {numbers[i]})", shared)
    if ctx.grids is None or ctx.grids.empty:
        return
    file_codes = {c for c in codes.tolist() if c is not None}
    others = ctx.grids[~ctx.grids["code"].isin(file_codes)]
    if others.empty:
        return
    stored = to_metric(others.geometry)
    stored_geoms = np.asarray(stored.values)
    stored_codes = others["code"].tolist()
    left, right = shapely.STRtree(stored_geoms).query(geoms, predicate="intersects")
    for i, j in zip(left, right):
        shared = _overlaps(geoms[i], stored_geoms[j], ctx)
        if shared:
            _report_overlap(problems, numbers[i], codes.get(numbers[i]), f"已导入的网格 {stored_codes[j]}",
                            f"stored grid {stored_codes[j]}", shared, fix=_REPLACE_FIX)


_OVERLAP_FIX = ("在 QGIS 中修正边界使网格互不重叠（可用“捕捉”共边）",
                "fix the boundaries in QGIS so grids do not overlap (snap shared edges)")
# A stored grid the file's grids cover is usually one the street office split or renumbered.
_REPLACE_FIX = ("若此文件是这些街道调整后的全部网格（旧网格已拆分、合并或重新编号），加 --replace 导入，"
                "文件中没有的旧网格将被撤销（记入工作台账）；否则在 QGIS 中修正边界",
                "if the file holds all grids of its wards after a change (old grids split, merged or renumbered), "
                "import it with --replace: stored grids of those wards missing from the file are removed (on the "
                "ledger); otherwise fix the boundaries in QGIS")


def _report_overlap(problems: Problems, number: Hashable, code: Any, other_zh: str, other_en: str, area: float,
                    *, fix: tuple[str, str] = _OVERLAP_FIX) -> None:
    who_zh, who_en = (f"网格 {code}", f"grid {code}") if code is not None and str(code) else ("该网格", "this grid")
    problems.add(int(number), GEOMETRY_FIELD, f"{who_zh} 与 {other_zh} 重叠 {area:,.0f} 平方米",
                 f"{who_en} overlaps {other_en} by {area:,.0f} m²", *fix)


def _check_grids_in_wards(cleaned: Mapping[str, pd.Series], geometry: gpd.GeoSeries, ctx: ValidationContext,
                          problems: Problems) -> None:
    """A grid must lie in its own stored ward (or, when that ward is not stored, in some stored ward)."""
    if ctx.wards is None or ctx.wards.empty:
        return  # nothing to check against yet: wards are imported first
    wards = to_metric(ctx.wards.geometry)
    by_code = dict(zip(ctx.wards["code"].tolist(), wards.values))
    everywhere = shapely.union_all(np.asarray(wards.values))
    ward_codes = cleaned.get("ward_code", pd.Series(None, index=geometry.index, dtype=object))
    mine = _metric(geometry)
    for number, geom in zip(mine.index, mine.values):
        ward_code = ward_codes.get(number)
        ward = by_code.get(ward_code)
        container = ward if ward is not None else everywhere
        outside = geom.difference(container).area
        if outside <= max(ctx.overlap_tolerance_m2, ctx.outside_ratio * geom.area):
            continue
        if ward is not None:
            problems.add(int(number), GEOMETRY_FIELD, f"网格有 {outside:,.0f} 平方米位于所属街道 {ward_code} 之外",
                         f"{outside:,.0f} m² of the grid lies outside its ward {ward_code}",
                         "核对“街道代码”或在 QGIS 中把网格边界收进街道内", "check the ward code, or fit the grid inside its ward")
        else:
            problems.add(int(number), GEOMETRY_FIELD, f"网格有 {outside:,.0f} 平方米不在任何已导入的街道内",
                         f"{outside:,.0f} m² of the grid lies outside every stored ward",
                         "先导入该网格所在的街道，或修正网格边界", "import its ward first, or fix the grid's boundary")


# A home this far outside its 居住街道 is not a digitising or geocoding slip at the boundary.
_HOME_OUTSIDE_WARD_M = 500.0


def home_ward_mismatches(workers: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None) -> dict[Any, tuple[str, str, str, str]]:
    """Per row whose 居住街道 is a stored ward its home point lies more than 500 m outside: the
    (message, English, fix, English fix). The solver gives the 人熟、地熟 bonus by the ward, so a
    ward typed wrong (or changed without the point) favours the worker in the wrong place."""
    if wards is None or wards.empty or workers.empty:
        return {}
    polygons = dict(zip(wards["code"], to_metric(wards.geometry).values))
    rows = workers[workers["home_ward"].isin(set(polygons)) & workers.geometry.notna()]
    if rows.empty:
        return {}
    points = to_metric(gpd.GeoSeries(rows.geometry.values, index=rows.index, crs=STORAGE_CRS))
    within = gpd.sjoin(gpd.GeoDataFrame(geometry=points), gpd.GeoDataFrame(
        {"code": list(polygons)}, geometry=list(polygons.values()), crs=points.crs), how="left", predicate="within")
    actual = within[~within.index.duplicated()]["code"]
    out = {}
    for index, ward, point in zip(rows.index, rows["home_ward"], points.values):
        metres = float(point.distance(polygons[ward]))
        if metres > _HOME_OUTSIDE_WARD_M:
            there = actual.get(index)
            there = None if there is None or pd.isna(there) else str(there)
            out[index] = (
                f"居住街道 {ward} 与住址坐标不符：坐标在{f'街道 {there} 内' if there else '已导入的街道之外'}，距 {ward} {metres:,.0f} 米",
                f"home ward {ward} does not hold the home point: it lies {'in ward ' + there if there else 'outside every stored ward'}, "
                f"{metres:,.0f} m from {ward}",
                "核对居住街道和经纬度，改正其中错的一项", "check the home ward and the coordinates; correct the wrong one")
    return out


def _fill_wards_from_points(spec: Layer, out: gpd.GeoDataFrame, ctx: ValidationContext) -> None:
    """An incident without a ward code, or a worker without a home ward, gets the stored ward it lies in."""
    column = {"incidents": "ward_code", "workers": "home_ward"}.get(spec.name)
    if column is None or ctx.wards is None or ctx.wards.empty:
        return
    missing = out[column].isna() & out.geometry.notna()
    if not missing.any():
        return
    points = gpd.GeoDataFrame(geometry=out.geometry[missing], crs=STORAGE_CRS)
    joined = gpd.sjoin(points, ctx.wards[["code", "geometry"]], how="left", predicate="within")
    found = joined[~joined.index.duplicated()]["code"]
    out.loc[found.index, column] = [None if pd.isna(c) else c for c in found.tolist()]

