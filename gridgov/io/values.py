"""Cell parsers: text, numbers, dates, phones, honours and type lists, each raising ValueProblem in Chinese and English."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from gridgov.io.problems import ValueProblem
from gridgov.schema import HONOUR_LEVELS

# Cells Chinese spreadsheets use for "nothing here".
PLACEHOLDERS = frozenset({"", "-", "--", "—", "/", "无", "暂无", "n/a", "na", "null", "none", "nan"})
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATORS = re.compile(r"[;；、,，|/\n]+")
HONOUR_SEPARATORS = re.compile(r"[;；\n]+")

HONOUR_LEVEL_SYNONYMS: dict[str, str] = {
    "国家": "全国", "国家级": "全国", "全国级": "全国", "中央": "全国",
    "省": "省部", "省级": "省部", "省部级": "省部", "部": "省部", "部级": "省部",
    "市级": "市", "地市": "市", "地市级": "市",
    "县": "县区", "区": "县区", "县级": "县区", "区级": "县区", "县区级": "县区", "区县": "县区",
}


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and the placeholder texts (空, -, /, 无 …)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in PLACEHOLDERS


def code(value: Any) -> str | None:
    """An identifier or division code: full-width characters made half-width (４１０８ → 4108,
    ＮＷ００５ → NW005) and every space taken out, as people type codes into Excel."""
    s = text(value)
    if s is None:
        return None
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s)) or None


_NAME_PADDING = re.compile(r"(?<=[\u3400-\u9fff])[\s\u3000]+(?=[\u3400-\u9fff])")


def person_name(value: Any) -> str | None:
    """A person's name without the spaces typed to align two-character names (张　三 → 张三);
    spaces between Latin letters stay (Wang Fang)."""
    s = text(value)
    return None if s is None else _NAME_PADDING.sub("", s)


def is_formula(value: Any) -> bool:
    """True for a text cell holding a spreadsheet formula (``=HYPERLINK(…)``, ``=cmd|…``), judged
    on the text it would be stored as: a leading tab, newline or quote does not hide one."""
    if not isinstance(value, str):
        return False
    stored = text(value)
    return stored is not None and stored.startswith("=") and len(stored) > 1


def text(value: Any) -> str | None:
    """Plain text: integral floats lose their ``.0`` (codes read as numbers), blanks become None."""
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()[:10] if isinstance(value, date) and not isinstance(value, datetime) else value.isoformat()
    s = unicodedata.normalize("NFC", str(value)).strip()
    # Our own exports neutralise formulas with a leading quote; take it off again on the way in.
    if len(s) > 1 and s[0] == "'" and s[1] in "=+-@":
        s = s[1:]
    return s


def _number_text(value: Any) -> str:
    s = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
    return s


def number(value: Any) -> float | None:
    """A non-negative number; ``1,234`` and full-width digits accepted."""
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise ValueProblem(f"“{value}”不是数字", f"“{value}” is not a number", "填写数字", "enter a number")
    if isinstance(value, (int, float)):
        x = float(value)
    else:
        try:
            x = float(_number_text(value))
        except ValueError:
            raise ValueProblem(
                f"“{value}”不是数字", f"“{value}” is not a number",
                "只填阿拉伯数字（不要带单位或文字）", "enter digits only (no units or words)",
            ) from None
    if not math.isfinite(x) or x < 0:
        raise ValueProblem(
            f"“{value}”不是非负数", f"“{value}” is not a non-negative number",
            "填写 0 或正数", "enter 0 or a positive number",
        )
    return x


def integer(value: Any) -> int | None:
    """A non-negative whole number (``300``, ``300.0``, ``1,234``)."""
    x = number(value)
    if x is None:
        return None
    if not x.is_integer():
        raise ValueProblem(
            f"“{value}”不是整数", f"“{value}” is not a whole number",
            "填写整数", "enter a whole number",
        )
    return int(x)


def coordinate(value: Any) -> float | None:
    """A coordinate (may be negative in projected systems); None when blank."""
    if is_missing(value):
        return None
    try:
        x = float(value) if isinstance(value, (int, float)) else float(_number_text(value))
    except ValueError:
        raise ValueProblem(
            f"坐标“{value}”不是数字", f"coordinate “{value}” is not a number",
            "填写十进制度数，如 113.2419", "enter decimal degrees, e.g. 113.2419",
        ) from None
    if not math.isfinite(x):
        raise ValueProblem(f"坐标“{value}”无效", f"coordinate “{value}” is invalid", "填写十进制度数", "enter decimal degrees")
    return x


_TRUE = frozenset({"是", "true", "yes", "y", "1", "已建成", "现有", "已建", "t"})
_FALSE = frozenset({"否", "false", "no", "n", "0", "候选", "未建成", "拟建", "新建", "f"})


def boolean(value: Any) -> bool | None:
    """是/否, true/false, 1/0, 已建成/候选."""
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    s = _number_text(value).lower()
    if s.endswith(".0"):
        s = s[:-2]
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueProblem(
        f"“{value}”不是“是/否”", f"“{value}” is not yes/no",
        "填写 是 或 否（已建成 / 候选）", "enter 是 (yes) or 否 (no)",
    )


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?(?: ?\d{1,2}[:时].*)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
DATE_FIX = ("写成 2026-01-05、2026/1/5 或 2026年1月5日，或设为 Excel 日期格式",
            "write 2026-01-05, 2026/1/5 or 2026年1月5日, or use an Excel date cell")


_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (after its 1900 leap-year slip)
_EXCEL_SERIALS = (36526, 54789)  # 2000-01-01 .. 2049-12-31: a typed 20265 is a typo, not 1955


def parse_date(value: Any) -> date | None:
    """A date from an Excel date cell, ``2026-01-05``, ``2026/1/5``, ``2026年1月5日`` or
    ``20260105``, with or without a time after it (``2026-01-05 08:30:00``, as hotline systems
    and Excel write), or an Excel day number (``46027``, a date cell that lost its format)."""
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = unicodedata.normalize("NFKC", text(value) or "").strip()
    s = re.sub(r"\s+", " ", re.sub(r"\s*([-/.年月日])\s*", r"\1", s))  # 2026 / 1 / 5 → 2026/1/5
    serial = _excel_serial(s)
    if serial is not None:
        return serial
    for pattern in _DATE_PATTERNS:
        m = pattern.match(s)
        if m:
            try:
                d = date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                break
            if 1900 <= d.year <= 2100:
                return d
            break
    raise ValueProblem(f"日期“{value}”无法识别", f"date “{value}” is not recognised", *DATE_FIX)


def _excel_serial(s: str) -> date | None:
    """The date of an Excel day number such as ``46027`` or ``46027.0``, within 2000-2049."""
    m = re.fullmatch(r"(\d{5})(?:\.0+)?", s)
    if m is None or not _EXCEL_SERIALS[0] <= int(m[1]) <= _EXCEL_SERIALS[1]:
        return None
    return date.fromordinal(_EXCEL_EPOCH.toordinal() + int(m[1]))


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(0\d{2,3})[-]?(\d{7,8})(?:[-#转](\d{1,6}))?$")


def phone(value: Any) -> str | None:
    """A mainland mobile (11 digits, 1[3-9]…) or a landline with area code, normalised.

    Mobiles come back as 11 digits; landlines as ``0391-1234567`` (``-123`` extension kept).
    """
    if is_missing(value):
        return None
    raw = text(value) or ""
    s = unicodedata.normalize("NFKC", raw)
    s = re.sub(r"[\s()（）]", "", s)
    mobile = re.sub(r"^(\+86|0086|86)(?=1[3-9]\d{9}$)", "", s.replace("-", ""))
    if _MOBILE.match(mobile):
        return mobile
    m = _LANDLINE.match(s)
    if m:
        return f"{m[1]}-{m[2]}" + (f"-{m[3]}" if m[3] else "")
    raise ValueProblem(
        f"电话号码“{raw}”格式不对", f"phone number “{raw}” is malformed",
        "填写 11 位手机号（如 13803911234）或带区号的座机（如 0391-1234567）；电话列请设为文本格式",
        "enter an 11-digit mobile (e.g. 13803911234) or a landline with area code (e.g. 0391-1234567); "
        "format the phone column as text",
    )


def choice(
    value: Any,
    allowed: Sequence[str],
    *,
    synonyms: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> str | None:
    """One of ``allowed`` (synonyms mapped first); the fix lists the allowed values (as ``labels`` shows them)."""
    if is_missing(value):
        return None
    s = text(value) or ""
    key = unicodedata.normalize("NFKC", s).strip()
    if key in allowed:
        return key
    mapped = (synonyms or {}).get(key) or (synonyms or {}).get(key.lower())
    if mapped:
        return mapped
    shown = "、".join((labels or {}).get(a, a) for a in allowed)
    raise ValueProblem(
        f"“{s}”不是可用的取值", f"“{s}” is not an allowed value",
        f"改为以下之一：{shown}", f"use one of: {', '.join(allowed)}",
    )


def choices(value: Any, allowed: Sequence[str], *, synonyms: Mapping[str, str] | None = None) -> list[str] | None:
    """A list of ``allowed`` values from ``劳动争议;邻里`` (also 、 , ， |) or a JSON list."""
    if is_missing(value):
        return None
    items = _json_list(value)
    if items is None:
        items = [p for p in LIST_SEPARATORS.split(text(value) or "") if p.strip()]
    out: list[str] = []
    bad: list[str] = []
    for item in items:
        try:
            got = choice(item, allowed, synonyms=synonyms)
        except ValueProblem:
            bad.append(str(item))
            continue
        if got and got not in out:
            out.append(got)
    if bad:
        shown = "、".join(allowed)
        raise ValueProblem(
            f"“{'、'.join(bad)}”不是可用的取值", f"“{', '.join(bad)}” not allowed",
            f"用分号分隔，每项为以下之一：{shown}", f"separate with ';', each one of: {', '.join(allowed)}",
        )
    return out or None


def _json_list(value: Any) -> list[Any] | None:
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "tolist") and getattr(value, "ndim", 0) == 1:
        return value.tolist()  # GeoJSON and GeoPackage readers hand JSON arrays over as numpy arrays
    s = text(value) or ""
    if s.startswith("["):
        try:
            got = json.loads(s)
        except json.JSONDecodeError:
            # Read as text it would become one item named by the raw JSON (a Shapefile cuts text
            # at 254 bytes, mid-list): refused, so what was typed is not stored garbled.
            raise ValueProblem(
                f"“{s[:40]}…”以 [ 开头，但不是完整的 JSON 列表（可能被截断，如 Shapefile 文本字段只存 254 字节）",
                f"“{s[:40]}…” starts with [ but is not a complete JSON list (cut off? a Shapefile keeps "
                "only 254 bytes of text)",
                "从 GeoPackage、xlsx 或 CSV 导出的原文件导入，或改用“称号(级别,年份);…”的写法",
                "import from the GeoPackage, xlsx or CSV export, or write it as “title(level,year);…”",
            ) from None
        return got if isinstance(got, list) else None
    return None


HONOUR_FORM = "荣誉称号(级别,年份)，多项用分号分隔，如 全国劳动模范(全国,2015);焦作工匠(市,2020)"
HONOUR_FORM_EN = "title(level,year), several separated by ';', e.g. 全国劳动模范(全国,2015);焦作工匠(市,2020)"
_HONOUR = re.compile(r"^(?P<title>[^(（]+?)\s*(?:[(（](?P<inner>[^)）]*)[)）])?$")


def honours(value: Any) -> list[dict[str, Any]] | None:
    """Honours as a list of {title, level, year}.

    Accepted: ``全国劳动模范(全国,2015);焦作工匠(市,2020)`` — title, then level and year in
    brackets (either order, either may be left out; 、，, also separate them) — or a JSON list of
    objects with ``title``, ``level``, ``year``. Levels: 全国, 省部, 市, 县区 (省级, 国家级 … mapped).
    """
    if is_missing(value):
        return None
    items = _json_list(value)
    if items is not None:
        return [_honour_from_mapping(item) for item in items]
    return [_honour_from_text(part.strip()) for part in HONOUR_SEPARATORS.split(text(value) or "") if part.strip()]


def _bad_honour(part: object) -> ValueProblem:
    return ValueProblem(f"荣誉“{part}”格式不对", f"honour “{part}” is malformed", HONOUR_FORM, HONOUR_FORM_EN)


def _honour_from_mapping(item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping) or not item.get("title"):
        raise _bad_honour(item)
    return _honour(str(item["title"]), item.get("level"), item.get("year"))


def _honour_from_text(part: str) -> dict[str, Any]:
    m = _HONOUR.match(unicodedata.normalize("NFKC", part))
    if not m or any(c in m["title"] for c in '[]{}"'):  # JSON fragments, not a title
        raise _bad_honour(part)
    level: Any = None
    year: Any = None
    for bit in re.split(r"[,，、\s]+", m["inner"] or ""):
        if not bit:
            continue
        if re.fullmatch(r"\d{4}年?", bit):
            year = bit.rstrip("年")
        elif level is None:
            level = bit
        else:
            raise _bad_honour(part)
    return _honour(m["title"].strip(), level, year)


def _honour(title: str, level: Any, year: Any) -> dict[str, Any]:
    lvl = None
    if not is_missing(level):
        try:
            lvl = choice(level, HONOUR_LEVELS, synonyms=HONOUR_LEVEL_SYNONYMS)
        except ValueProblem:
            raise ValueProblem(
                f"荣誉“{title}”的级别“{level}”无法识别", f"honour “{title}”: level “{level}” is not recognised",
                f"级别填 {'、'.join(HONOUR_LEVELS)} 之一；{HONOUR_FORM}",
                f"level is one of {', '.join(HONOUR_LEVELS)}; {HONOUR_FORM_EN}",
            ) from None
    yr = None
    if not is_missing(year):
        try:
            yr = integer(year)
        except ValueProblem:
            yr = None
        if yr is None or not 1949 <= yr <= 2100:
            raise ValueProblem(
                f"荣誉“{title}”的年份“{year}”无效", f"honour “{title}”: year “{year}” is invalid",
                f"年份写四位数字；{HONOUR_FORM}", f"write a four-digit year; {HONOUR_FORM_EN}",
            )
    return {"title": title, "level": lvl, "year": yr}


def render_honours(value: Any) -> str:
    """The text form ``title(level,year);…`` that ``honours`` reads back."""
    if not isinstance(value, list):
        return "" if is_missing(value) else str(value)
    parts = []
    for h in value:
        inner = ",".join(str(x) for x in (h.get("level"), h.get("year")) if x not in (None, ""))
        parts.append(f"{h.get('title', '')}({inner})" if inner else str(h.get("title", "")))
    return ";".join(parts)


def render_list(value: Any) -> str:
    """``劳动争议;邻里`` from a list (what ``choices`` reads back)."""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return "" if is_missing(value) else str(value)
