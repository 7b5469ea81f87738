"""Header mapping: Chinese labels, common synonyms and English column names → schema columns, per layer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from gridgov.schema import LAYERS

# Synonyms seen in street-office spreadsheets, beyond each column's name and Chinese label.
# Per layer, because 编号 / 类型 / 状态 / 所属街道 mean different columns in different layers.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "wards": {
        "code": ("乡镇代码", "街道编码", "乡镇编码", "代码", "编码", "ward_code"),
        "name": ("乡镇名称", "名称", "街道", "乡镇", "街道乡镇"),
        "county_code": ("县区代码", "区县编码", "县区编码", "county"),
    },
    "grids": {
        "code": ("网格代码", "网格编号", "编码", "grid_code", "grid"),
        "ward_code": ("所属街道", "所属街道代码", "乡镇代码", "所属乡镇", "街道", "ward"),
        "name": ("名称",),
        "kind": ("类型", "类别", "网格类别"),
        "households": ("总户数", "住户数"),
        "population": ("人口数", "常住人口", "总人口"),
    },
    "workers": {
        "worker_id": ("劳模编号", "工号", "id"),
        "name": ("劳模姓名", "名字"),
        "honours": ("荣誉称号", "所获荣誉", "称号", "honors"),
        "sector": ("所属行业", "系统", "领域"),
        "employer": ("所在单位", "工作单位", "单位名称"),
        "phone": ("手机", "手机号", "手机号码", "联系电话", "联系方式", "电话号码", "mobile"),
        "home_ward": ("所属街道", "居住街道代码", "街道代码", "乡镇代码", "街道", "ward", "ward_code"),
        "unavailable_from": ("不可用开始", "暂停开始"),
        "unavailable_to": ("不可用结束", "暂停结束"),
        "capacity": ("承担网格数", "容量", "可承担网格数"),
    },
    "incidents": {
        "incident_id": ("事件编号", "纠纷编号", "id"),
        "type": ("类型", "类别", "纠纷类别"),
        "date": ("发生日期", "发生时间", "登记日期", "受理日期"),
        "ward_code": ("所属街道", "所属街道代码", "乡镇代码", "街道", "ward"),
        "status": ("办理状态", "处理状态"),
    },
    "sites": {
        "site_id": ("站点编号", "id"),
        "name": ("站点名称", "工作室名称"),
        "kind": ("类型", "站点类型"),
        "types": ("纠纷类型", "受理类型"),
        "capacity": ("承载量", "承担能力"),
        "existing": ("是否已建成", "现有"),
    },
}

LON_HEADERS = ("经度", "lon", "lng", "long", "longitude", "x", "东经")
LAT_HEADERS = ("纬度", "lat", "latitude", "y", "北纬")
LON, LAT = "__lon__", "__lat__"  # pseudo-columns the point builder reads

# A trailing note in brackets ("户数（户）", "姓名(必填)") and a leading required-marker ("*姓名").
_NOTE = re.compile(r"[(\[（【][^)\]）】]*[)\]）】]\s*$")
_MARK = re.compile(r"^[*＊※]+")
_SHAPEFILE_FIELD_BYTES = 10  # DBF field names are cut to 10 bytes


def normalize_header(text: object) -> str:
    """A header reduced to compare: NFKC, no spaces or markers, no trailing note, lower case."""
    s = unicodedata.normalize("NFKC", str(text)).strip()
    s = _MARK.sub("", s)
    s = _NOTE.sub("", s)
    return re.sub(r"[\s_\-]+", "", s).lower()


def _truncated(name: str) -> str:
    return name.encode("utf-8")[:_SHAPEFILE_FIELD_BYTES].decode("utf-8", errors="ignore")


@lru_cache(maxsize=None)
def aliases(layer: str) -> dict[str, str]:
    """{normalised header: schema column} for ``layer``, plus the lon/lat pseudo-columns."""
    spec = LAYERS[layer]
    out: dict[str, str] = {}
    for col in spec.columns:
        for alias in (col.name, col.label, *SYNONYMS.get(layer, {}).get(col.name, ())):
            out.setdefault(normalize_header(alias), col.name)
    # Shapefiles cut field names; accept the cut form where it names one column only.
    cuts: dict[str, set[str]] = {}
    for col in spec.columns:
        for alias in (col.name, col.label):
            cuts.setdefault(normalize_header(_truncated(alias)), set()).add(col.name)
    for cut, cols in cuts.items():
        if len(cols) == 1 and cut:
            out.setdefault(cut, next(iter(cols)))
    for alias in LON_HEADERS:
        out.setdefault(normalize_header(alias), LON)
    for alias in LAT_HEADERS:
        out.setdefault(normalize_header(alias), LAT)
    return out


@lru_cache(maxsize=1)
def known_headers() -> frozenset[str]:
    """Every header any layer recognises (to find the header row of a table)."""
    return frozenset(h for layer in SYNONYMS for h in aliases(layer))


def map_headers(layer: str, headers: Iterable[object]) -> tuple[dict[str, str], list[str], list[tuple[str, str]]]:
    """({original header: schema column}, unknown headers, [(duplicate header, column)]).

    The first header naming a column wins; later ones are reported as duplicates.
    """
    table = aliases(layer)
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    duplicates: list[tuple[str, str]] = []
    taken: set[str] = set()
    for header in headers:
        original = str(header)
        column = table.get(normalize_header(original))
        if column is None:
            unknown.append(original)
        elif column in taken:
            duplicates.append((original, column))
        else:
            mapping[original] = column
            taken.add(column)
    return mapping, unknown, duplicates
