"""Writers: a store layer to GeoJSON, GeoPackage, xlsx or CSV, atomically, with spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gridgov.errors import UserError
from gridgov.localtime import local
from gridgov.io.values import FORMULA_PREFIXES, is_missing, render_honours, render_list
from gridgov.schema import LAYERS, WORKER_STATUS_ZH, Layer

WRITE_SUFFIXES = (".geojson", ".json", ".gpkg", ".xlsx", ".csv")
LON_LABEL, LAT_LABEL = "经度", "纬度"


def neutralise(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def infer_layer(frame: pd.DataFrame) -> str:
    """The schema layer whose columns ``frame`` carries."""
    columns = set(frame.columns)
    for name, spec in LAYERS.items():
        if set(spec.column_names) <= columns:
            return name
    raise ValueError(f"no schema layer matches columns {sorted(columns)}")


def write_layer(frame: pd.DataFrame, path: str | Path, *, layer: str | None = None) -> int:
    """Write ``frame`` (as the store loads it) to .geojson/.gpkg/.xlsx/.csv; returns rows written.

    The file appears whole or not at all: it is written beside the target, then renamed over it.
    """
    path = Path(path)
    spec = LAYERS[layer or infer_layer(frame)]
    suffix = path.suffix.lower()
    writers: dict[str, Callable[[pd.DataFrame, Layer, Path], None]] = {
        ".geojson": _write_geojson, ".json": _write_geojson, ".gpkg": _write_gpkg,
        ".xlsx": _write_xlsx, ".csv": _write_csv,
    }
    if suffix not in writers:
        raise UserError(
            f"不支持导出为“{suffix or '无扩展名'}”：可用 {'、'.join(WRITE_SUFFIXES)}",
            f"cannot export to “{suffix or 'no extension'}”: use {', '.join(WRITE_SUFFIXES)}",
        )
    if suffix in (".geojson", ".json", ".gpkg") and not spec.geometry:
        raise UserError(f"{spec.label}没有几何，请导出为 .xlsx 或 .csv",
                        f"{spec.name} has no geometry: export to .xlsx or .csv")
    with atomic_path(path) as tmp:
        writers[suffix](frame, spec, tmp)
    return len(frame)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (not yet created) that replaces it when the block ends
    without an error; removed otherwise, leaving ``path`` as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # the GDAL drivers want to create the file themselves
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# -- geodata -----------------------------------------------------------------------------------

def _ogr_frame(frame: pd.DataFrame, spec: Layer) -> gpd.GeoDataFrame:
    """Attribute values OGR can store: JSON as text, dates as ISO text, geometry in EPSG:4490."""
    out = pd.DataFrame(index=range(len(frame)))
    for col in spec.columns:
        values = frame[col.name].tolist()
        if col.kind == "json":
            out[col.name] = [None if is_missing(x) else json.dumps(x, ensure_ascii=False) for x in values]
        elif col.kind in ("date", "datetime"):
            out[col.name] = [None if is_missing(x) else x.isoformat() for x in values]
        elif col.kind == "int":
            out[col.name] = pd.array([None if is_missing(x) else int(x) for x in values], dtype="Int64")
        elif col.kind == "float":
            out[col.name] = pd.array([None if is_missing(x) else float(x) for x in values], dtype="Float64")
        elif col.kind == "bool":
            out[col.name] = pd.array([None if is_missing(x) else bool(x) for x in values], dtype="boolean")
        else:
            out[col.name] = pd.array([None if is_missing(x) else str(x) for x in values], dtype=object)
    geometry = frame.geometry.values if isinstance(frame, gpd.GeoDataFrame) else None
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geometry, crs=frame.crs), crs=frame.crs)


def _write_geojson(frame: pd.DataFrame, spec: Layer, path: Path) -> None:
    # The collection's name is the layer's, not the temporary file's that atomic_path writes.
    _ogr_frame(frame, spec).to_file(path, driver="GeoJSON", engine="pyogrio", layer=spec.name)


def _write_gpkg(frame: pd.DataFrame, spec: Layer, path: Path) -> None:
    _ogr_frame(frame, spec).to_file(path, driver="GPKG", layer=spec.name, engine="pyogrio")


# -- tables ------------------------------------------------------------------------------------

def _cell(value: Any, kind: str) -> Any:
    """A spreadsheet value: lists as text, dates kept as dates, formulas neutralised."""
    if is_missing(value):
        return None
    if kind == "json":
        value = _json_text(value)
    elif kind == "bool":
        return "是" if value else "否"
    elif kind == "datetime" and isinstance(value, datetime):
        return local(value).replace(tzinfo=None)  # Excel keeps no zone: the reader's clock
    elif kind == "int":
        return int(value)
    elif isinstance(value, (date, int, float)):
        return value
    return neutralise(str(value))


def _json_text(value: Any) -> str:
    """Honours and type lists in the text form imports read back; anything else as JSON."""
    if isinstance(value, list) and all(isinstance(x, dict) and "title" in x for x in value):
        return render_honours(value)
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return render_list(value)
    if isinstance(value, str):
        return value  # already text for people (the ledger's 状态：在岗 → 退出)
    return json.dumps(value, ensure_ascii=False, default=str)


# Coded values as the sheet's readers say them (imports read both forms back).
_TABLE_WORDS: dict[tuple[str, str], dict[str, str]] = {
    ("workers", "status"): WORKER_STATUS_ZH,
}


def table_rows(frame: pd.DataFrame, spec: Layer) -> tuple[list[str], Iterator[list[Any]]]:
    """Chinese headers and the row values; a point layer gets 经度/纬度 columns, polygons are dropped."""
    headers = [c.label for c in spec.columns]
    points = spec.geometry == "POINT" and isinstance(frame, gpd.GeoDataFrame)
    if points:
        headers += [LON_LABEL, LAT_LABEL]

    def words(name: str, values: list[Any]) -> list[Any]:
        table = _TABLE_WORDS.get((spec.name, name))
        return values if table is None else [table.get(v, v) if isinstance(v, str) else v for v in values]

    def rows() -> Iterator[list[Any]]:
        columns = [words(c.name, frame[c.name].tolist()) for c in spec.columns]
        geoms = frame.geometry.tolist() if points else [None] * len(frame)
        for i, geom in enumerate(geoms):
            row = [_cell(col[i], c.kind) for col, c in zip(columns, spec.columns)]
            if points:
                row += [None, None] if geom is None or geom.is_empty else [geom.x, geom.y]
            yield row

    return headers, rows()


def _write_xlsx(frame: pd.DataFrame, spec: Layer, path: Path) -> None:
    headers, rows = table_rows(frame, spec)
    sheet_workbook(spec.label or spec.name, headers, rows).save(path)


_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in '/\\?*:[]'})


def sheet_title(title: str) -> str:
    """A name Excel accepts for a sheet: none of / \\ ? * : [ ], at most 31 characters, not blank
    ("街道/乡镇" becomes "街道_乡镇")."""
    return title.translate(_SHEET_FORBIDDEN).strip("'")[:31] or "Sheet1"


def sheet_workbook(title: str, headers: list[str], rows: Iterable[list[Any]]) -> Any:
    """One sheet: a bold, frozen header row, dates formatted, and no cell a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(title)
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, (date, datetime)):
                cell.number_format = "yyyy-mm-dd" if not isinstance(cell.value, datetime) else "yyyy-mm-dd hh:mm"
            elif cell.data_type == "f":  # belt and braces: nothing we write may be a formula
                cell.value = "'" + str(cell.value)
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    return wb


def _write_csv(frame: pd.DataFrame, spec: Layer, path: Path) -> None:
    headers, rows = table_rows(frame, spec)
    # utf-8-sig: the BOM makes Excel open Chinese text correctly.
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if x is None else x.isoformat() if isinstance(x, date) else x for x in row])
