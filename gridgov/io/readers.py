"""Readers: feature files (GeoJSON, GeoPackage, Shapefile, zipped Shapefile) and tables (CSV, xlsx), as read.

Readers change nothing but the shape: a table comes back with its headers as written and its
index set to the spreadsheet row a user sees (header row = 1 for a plain file); a feature file
comes back with its own property names, its own CRS (or none) and features numbered from 1.
Mapping headers, parsing values and checking everything is ``gridgov.io.validate``'s job.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import pandas as pd

from gridgov.io.headers import known_headers, normalize_header
from gridgov.io.problems import file_problem

FEATURE_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")
# .txt: Excel's "Unicode text" (UTF-16, tab-separated) — read as a CSV whose encoding and
# delimiter are detected, like any other.
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
_HEADER_SEARCH_ROWS = 20  # a title block above the header is at most this tall
_FIX_FORMATS = (
    "另存为 GeoJSON、GeoPackage（.gpkg）、Shapefile（.shp 或压缩为 .zip）、CSV 或 Excel（.xlsx）",
    "save as GeoJSON, GeoPackage (.gpkg), Shapefile (.shp or zipped .zip), CSV or Excel (.xlsx)",
)


def suffix_of(path: str | Path) -> str:
    return Path(path).suffix.lower()


def check_suffix(path: str | Path, allowed: Sequence[str]) -> None:
    """Refuse a file whose extension is not one of ``allowed`` (one clear problem)."""
    suffix = suffix_of(path)
    if suffix not in allowed:
        shown = "、".join(allowed)
        raise file_problem(
            Path(path).name,
            f"不支持的文件类型“{suffix or '无扩展名'}”（可用：{shown}）",
            f"unsupported file type “{suffix or 'no extension'}” (accepted: {', '.join(allowed)})",
            *_FIX_FORMATS,
        )


def _check_exists(path: Path) -> None:
    if not path.is_file():
        raise file_problem(path.name, f"找不到文件 {path}", f"file {path} not found", "检查路径", "check the path")
    if path.stat().st_size == 0:
        raise file_problem(path.name, "文件是空的（0 字节）", "the file is empty (0 bytes)",
                           "确认导出时选对了文件并有数据", "check the export produced data")


# -- features ----------------------------------------------------------------------------------

def read_features(path: str | Path, *, crs: Any = None, layer: str | None = None,
                  names: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """Features of a GeoJSON, GeoPackage, Shapefile or zipped Shapefile.

    A file of several layers is read from ``layer``, else from the one layer called one of
    ``names`` (e.g. grids, 网格), else refused with its layers listed: taking the first layer
    read a project's ward polygons as grids.

    The CRS is the file's own; ``crs`` only fills it in when the file has none (``validate``
    applies an override). Raises ValidationError with one problem when the file cannot be read.
    """
    path = Path(path)
    check_suffix(path, FEATURE_SUFFIXES)
    _check_exists(path)
    if path.suffix.lower() == ".zip":
        with _unzipped_shapefile(path, layer) as shp:
            return _read_features(shp, path.name, crs=crs, layer=None)
    return _read_features(path, path.name, crs=crs, layer=layer, names=names)


def _read_features(path: Path, name: str, *, crs: Any, layer: str | None,
                   names: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """read_features on a file GDAL opens directly; ``name`` is what messages call it."""
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        layers = pyogrio.list_layers(path)
        if layer is not None and layer not in {str(name) for name in layers[:, 0]}:
            shown = ", ".join(str(name) for name in layers[:, 0])
            raise file_problem(name, f"文件中没有图层“{layer}”（可用：{shown}）", f"the file has no layer “{layer}” ({shown})",
                               "指定已有的图层名", "name an existing layer")
        chosen = layer if layer is not None else _only_layer(name, [str(x) for x in layers[:, 0]], names)
        if chosen is None:
            raise file_problem(name, "文件中没有图层", "the file holds no layer",
                               "在 GIS 软件中确认文件有数据", "check the file in a GIS")
        gdf = _read_layer(path, chosen)
    except (DataSourceError, DataLayerError, OSError, ValueError, RuntimeError) as exc:
        raise _unreadable(name, exc) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        raise file_problem(name, "文件没有几何（坐标）数据", "the file has no geometry",
                           "导出时包含几何", "export with geometry")
    if len(gdf) == 0:
        raise file_problem(name, "文件中没有要素", "the file holds no features",
                           "确认导出时选中了要素", "check the export selected features")
    if gdf.crs is None and crs is not None:
        gdf = gdf.set_crs(crs)
    gdf.index = pd.RangeIndex(1, len(gdf) + 1)
    return gdf


def _only_layer(file: str, layers: list[str], names: tuple[str, ...]) -> str | None:
    """The layer to read when none was named (see read_features); None when there is none."""
    if len(layers) <= 1:
        return layers[0] if layers else None
    wanted = {n.casefold() for n in names}
    named = [x for x in layers if x.casefold() in wanted]
    if len(named) == 1:
        return named[0]
    shown = "、".join(layers)
    raise file_problem(file, f"文件有 {len(layers)} 个图层（{shown}），未指定导入哪一个",
                       f"the file has {len(layers)} layers ({', '.join(layers)}) and none was named",
                       f"加 --layer 图层名，如 --layer {layers[0]}（网页上传：sheet 一栏）",
                       f"add --layer NAME, e.g. --layer {layers[0]} (uploads: the sheet field)")


def _read_layer(path: Path, layer: str) -> gpd.GeoDataFrame:
    import pyogrio

    encoding = _dbf_encoding(path) if path.suffix.lower() == ".shp" else None
    try:
        return pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    except UnicodeDecodeError:
        # A UTF-8 Shapefile whose Chinese field names GDAL cut at 10 bytes, mid-character:
        # read the bytes as Latin-1 and decode them again as UTF-8, dropping the cut character.
        gdf = pyogrio.read_dataframe(path, layer=layer, encoding="latin1")
        geometry = gdf.geometry.name
        gdf = gdf.rename(columns={c: _utf8_again(c) for c in gdf.columns if c != geometry})
        for col in gdf.columns.drop(geometry):
            gdf[col] = [_utf8_again(x) if isinstance(x, str) else x for x in gdf[col]]
        return gdf


def _utf8_again(text: str) -> str:
    return text.encode("latin1").decode("utf-8", errors="ignore")


_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
# A city's grids as a Shapefile are tens of MB; a zip that unpacks to more is refused before
# anything is written (a few MB of zip can unpack to gigabytes).
_MAX_UNZIPPED_BYTES = 512 * 2**20
_ENCODING_SAMPLE_BYTES = 4 * 2**20  # of the .dbf read to tell UTF-8 from GB18030


@contextmanager
def _unzipped_shapefile(path: Path, layer: str | None) -> Iterator[Path]:
    """The zipped Shapefile's files extracted to a temporary folder (wherever they sit in the
    archive: "compress this folder" puts them in a subfolder); yields the .shp's path."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            shps = [m for m in members if m.filename.lower().endswith(".shp")]
            if not shps:
                raise file_problem(path.name, "压缩包中没有 .shp 文件", "the zip holds no .shp file",
                                   "把 .shp .shx .dbf .prj 一起压缩", "zip .shp, .shx, .dbf and .prj together")
            named = [m for m in shps if PurePosixPath(m.filename).stem == layer]
            if layer is not None and not named:
                shown = "、".join(PurePosixPath(m.filename).stem for m in shps)
                raise file_problem(path.name, f"压缩包中没有名为“{layer}”的 Shapefile（有：{shown}）",
                                   f"the zip holds no Shapefile named “{layer}” ({shown})",
                                   "用 --layer 指定其中之一", "name one of them with --layer")
            chosen = named[0] if named else shps[0]
            stem = chosen.filename[:-4]
            parts = {m.filename[len(stem):].lower(): m for m in members
                     if m.filename[:len(stem)] == stem and m.filename[len(stem):].lower() in _SHAPEFILE_PARTS}
            missing = [s for s in (".shx", ".dbf") if s not in parts]
            if missing:
                shown = "、".join(PurePosixPath(stem).name + s for s in missing)
                raise file_problem(path.name, f"压缩包中缺少 {shown}", f"the zip lacks {', '.join(missing)} beside the .shp",
                                   "把同名的 .shp .shx .dbf .prj 一起压缩", "zip the .shp with its .shx, .dbf and .prj")
            unpacked = sum(m.file_size for m in parts.values())
            if unpacked > _MAX_UNZIPPED_BYTES:
                raise file_problem(path.name, f"压缩包解压后有 {unpacked / 2**20:,.0f} MB，超过 {_MAX_UNZIPPED_BYTES // 2**20} MB",
                                   f"the zip unpacks to {unpacked / 2**20:,.0f} MB, more than {_MAX_UNZIPPED_BYTES // 2**20} MB",
                                   "按街道分批导出网格后再导入", "export the grids ward by ward and import them in parts")
            with tempfile.TemporaryDirectory() as tmp:
                for suffix, member in parts.items():
                    # Written under a plain name of our own: member names may be anything (../, GBK).
                    # Streamed, and never more than the member says it holds (a forged size).
                    with zf.open(member) as src, open(Path(tmp) / f"layer{suffix}", "wb") as dst:
                        copied = 0
                        while chunk := src.read(1 << 20):
                            copied += len(chunk)
                            if copied > member.file_size:
                                raise zipfile.BadZipFile("a member holds more than it declares")
                            dst.write(chunk)
                yield Path(tmp) / "layer.shp"
    except zipfile.BadZipFile:
        raise file_problem(path.name, "不是有效的 zip 压缩包", "not a valid zip archive",
                           "重新压缩 Shapefile 的全部文件（.shp .shx .dbf .prj）", "zip the shapefile's files again") from None


def _dbf_encoding(shp: Path) -> str | None:
    """The text encoding of a Shapefile's .dbf when nothing declares it (no .cpg, no code page
    byte), read off its records: UTF-8 if they decode as UTF-8, else GB18030 (files saved by
    Chinese Windows software); None to let GDAL decide."""
    # Siblings by name, not glob: a name like 网格[修改版] holds glob's brackets.
    siblings = {p.suffix.lower(): p for p in shp.parent.iterdir() if p.stem == shp.stem}
    dbf = siblings.get(".dbf")
    if dbf is None or ".cpg" in siblings:
        return None
    with open(dbf, "rb") as fh:
        data = fh.read(_ENCODING_SAMPLE_BYTES)
    if len(data) < 32 or data[29] != 0:
        return None
    # Field names (11 bytes at the start of each 32-byte descriptor; the rest is binary) and
    # records: either may hold the Chinese.
    header = int.from_bytes(data[8:10], "little")
    names = b"".join(data[i:i + 11].split(b"\x00")[0] for i in range(32, min(header, len(data)) - 31, 32)
                     if data[i] != 0x0D)
    text = names + bytes(data[header:])
    if text.isascii():
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            # A sample may end mid-character: judge all but its last few bytes.
            text[:-4 if len(data) == _ENCODING_SAMPLE_BYTES else None].decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return None


def _unreadable(name: str, exc: Exception) -> Exception:
    return file_problem(
        name, "文件无法读取：不是有效的地理数据文件或已损坏", f"the file cannot be read: not valid geodata or damaged ({exc})",
        "在 QGIS 中打开检查，或重新导出", "open it in QGIS to check, or export it again",
    )


# -- tables ------------------------------------------------------------------------------------

def read_table(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """A CSV (encoding detected) or xlsx sheet as text/values, index = the spreadsheet row number.

    The header row is the row among the first 20 that names the most known columns (a title block
    above it is skipped); merged cells are filled with their top-left value, so a merged header
    or a merged 单位 cell spanning several rows reads as if typed into every cell. Formula cells
    are not evaluated: the formula text is kept (``=HYPERLINK(…)``) and validation refuses it.
    Fully empty rows are dropped.
    """
    path = Path(path)
    check_suffix(path, TABLE_SUFFIXES)
    _check_exists(path)
    rows = _xlsx_rows(path, sheet) if path.suffix.lower() in (".xlsx", ".xlsm") else _csv_rows(path)
    return _frame_from_rows(path.name, rows)


def decode_text(data: bytes, *, file: str) -> str:
    """Text of a CSV: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (covers GBK, GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode(data, "utf-8-sig", file)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode(data, "utf-16", file)
    if b"\x00" in data[:4096]:
        raise _junk(file)
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise _junk(file)
    return str(best)


def _decode(data: bytes, encoding: str, file: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise _junk(file) from None


def _junk(file: str) -> Exception:
    return file_problem(
        file, "文件不是文本表格（可能是二进制文件或已损坏）", "the file is not a text table (binary or damaged)",
        "在 Excel 中打开后另存为“CSV UTF-8”或 .xlsx", "open it in Excel and save as CSV UTF-8 or .xlsx",
    )


def _looks_binary(text: str) -> bool:
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t")
    return controls > max(4, len(text[:4096]) // 100)


def _csv_rows(path: Path) -> list[tuple[int, list[Any]]]:
    text = decode_text(path.read_bytes(), file=path.name)
    if _looks_binary(text):
        raise _junk(path.name)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # Doubled quotes always: the sniffer can guess "none" from a few rows, which splits Excel's
    # "他说""好""" cell, and every spreadsheet writes them. The rest (a space after each comma) as sniffed.
    reader = csv.reader(io.StringIO(text, newline=""), dialect, doublequote=True, escapechar=None)
    rows: list[tuple[int, list[Any]]] = []
    start = 1
    try:
        for record in reader:
            rows.append((start, list(record)))
            start = reader.line_num + 1  # a quoted cell may span lines: report the line it starts on
    except csv.Error as exc:
        raise file_problem(path.name, f"CSV 格式错误：{exc}", f"malformed CSV: {exc}",
                           "在 Excel 中打开后重新保存为 CSV", "open in Excel and save as CSV again") from None
    return rows


def _xlsx_rows(path: Path, sheet: str | None) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # data_only=False: a formula cell gives its formula text, never a value we did not see computed.
        wb = load_workbook(path, data_only=False, read_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise file_problem(
            path.name, "不是有效的 Excel（.xlsx）文件或已损坏", f"not a valid Excel (.xlsx) file or damaged ({exc})",
            "在 Excel 中打开后另存为 .xlsx（旧 .xls 请先另存为 .xlsx）", "open in Excel and save as .xlsx",
        ) from None
    try:
        ws = wb[sheet] if sheet else _data_sheet(wb)
    except KeyError:
        raise file_problem(path.name, f"没有名为“{sheet}”的工作表", f"no sheet named “{sheet}”",
                           f"可用：{'、'.join(wb.sheetnames)}", f"sheets: {', '.join(wb.sheetnames)}") from None
    grid = [[_cell_value(c) for c in row] for row in ws.iter_rows()]
    for merged in ws.merged_cells.ranges:
        top_left = grid[merged.min_row - 1][merged.min_col - 1]
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                grid[r - 1][c - 1] = top_left
    wb.close()
    return [(i + 1, row) for i, row in enumerate(grid)]


def _data_sheet(wb: Any) -> Any:
    """The sheet holding the data when none is named: the one whose early rows name the most
    known columns (offices put a 填表说明 sheet first), the first on a tie."""
    if len(wb.worksheets) == 1:
        return wb.worksheets[0]
    known = known_headers()

    def score(ws: Any) -> int:
        rows = ws.iter_rows(max_row=_HEADER_SEARCH_ROWS, values_only=True)
        return max((_header_score(row, known) for row in rows), default=0)

    scores = [score(ws) for ws in wb.worksheets]
    return wb.worksheets[scores.index(max(scores))]


def _cell_value(cell: Any) -> Any:
    value = cell.value
    if value is not None and not isinstance(value, (str, int, float, bool)) and hasattr(value, "text"):
        return f"={value.text}" if not str(value.text).startswith("=") else value.text  # array formulas
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_score(cells: Iterable[Any], known: frozenset[str]) -> int:
    """How many known columns a row names."""
    return len({normalize_header(c) for c in cells if not _blank(c)} & known)


def _header_index(rows: Sequence[tuple[int, list[Any]]]) -> int:
    """Index in ``rows`` of the header: the early row naming the most known columns."""
    known = known_headers()
    best, best_score = -1, 0
    seen = 0
    for i, (_, cells) in enumerate(rows):
        if all(_blank(c) for c in cells):
            continue
        if best < 0:
            best = i  # the first non-empty row, unless a later one names more columns
        score = _header_score(cells, known)
        # On a tie the row just below wins: the lower row of a two-row (merged) header names the columns.
        if score > best_score or (score == best_score > 0 and i == best + 1):
            best, best_score = i, score
        seen += 1
        if seen >= _HEADER_SEARCH_ROWS:
            break
    return best


def _unique_headers(cells: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for i, c in enumerate(cells):
        name = "" if _blank(c) else str(c).strip()
        name = name or f"列{i + 1}"
        base, k = name, 2
        while name in out:
            name, k = f"{base}.{k}", k + 1
        out.append(name)
    return out


def _frame_from_rows(file: str, rows: list[tuple[int, list[Any]]]) -> pd.DataFrame:
    h = _header_index(rows)
    if h < 0:
        raise file_problem(file, "文件中没有任何内容", "the file has no content",
                           "确认导出时选对了表格并有数据", "check the export produced data")
    _, header_cells = rows[h]
    width = max(len(header_cells), *(len(r) for _, r in rows[h + 1:])) if rows[h + 1:] else len(header_cells)
    headers = _unique_headers(list(header_cells) + [None] * (width - len(header_cells)))
    numbers: list[int] = []
    data: list[list[Any]] = []
    for number, cells in rows[h + 1:]:
        if all(_blank(c) for c in cells):
            continue
        cells = list(cells) + [None] * (width - len(cells))
        numbers.append(number)
        data.append([None if _blank(c) else c for c in cells])
    # Columns with neither a header nor any value are Excel's formatted-but-empty margin.
    keep = [j for j, name in enumerate(headers) if not (_blank(header_cells[j] if j < len(header_cells) else None)
                                                        and all(row[j] is None for row in data))]
    frame = pd.DataFrame([[row[j] for j in keep] for row in data], columns=[headers[j] for j in keep],
                         index=pd.Index(numbers, name="row"), dtype=object)
    if frame.empty:
        raise file_problem(file, "文件只有表头，没有数据行", "the file has a header but no data rows",
                           "在表头下方填写数据", "add data rows below the header")
    return frame
