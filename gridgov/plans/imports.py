"""Import and export use cases: validate a file whole, then upsert it in one store transaction with ledger entries."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gridgov.errors import ChangedMeanwhileError, Problem, UserError, ValidationError
from gridgov.geo.shipped import load_townships
from gridgov.io.problems import Unit, where_label
from gridgov.io.readers import FEATURE_SUFFIXES, TABLE_SUFFIXES, check_suffix, read_features, read_table
from gridgov.io.validate import ValidationContext, validate
from gridgov.io.values import is_missing
from gridgov.io.writers import write_layer
from gridgov.localtime import local
from gridgov.plans.ledger import ROW_ACTION_PREFIX, changed_fields, deleted_worker_ids, readable, record
from gridgov.schema import IMPORTABLE, LAYERS, WORKER_STATUS_ZH, Layer
from gridgov.store import SqlStore
from gridgov.store.base import Where

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    layer: str
    file: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    notices: tuple[Problem, ...] = ()
    dry_run: bool = False

    def render(self, lang: str = "zh") -> str:
        label = LAYERS[self.layer].label
        if lang == "en":
            head = (f"{self.file}: {self.rows} {self.layer} read; {self.inserted} added, "
                    f"{self.updated} updated, {self.unchanged} unchanged")
            head += " (dry run: nothing written)" if self.dry_run else ""
        else:
            head = (f"{self.file}：读取{label} {self.rows} 条；新增 {self.inserted}，更新 {self.updated}，"
                    f"未变 {self.unchanged}")
            head += "（试运行：未写入任何数据）" if self.dry_run else ""
        return "\n".join([head, *("  * " + n.render(lang) for n in self.notices)])


def context_from_store(
    store: SqlStore, *, repair: bool = False, crs: Any = None, layer: str | None = None
) -> ValidationContext:
    """Validation context: stored and real ward codes and names, ward polygons, stored grids (for grids)."""
    wards = store.load("wards")
    townships = load_townships()
    names = _ward_names(zip(townships["name"], townships["code"]), zip(wards["name"], wards["code"]))
    grids = None
    if layer in (None, "grids"):
        grids = store.load("grids")[["code", "geometry"]]
    stored: frozenset[str] = frozenset()
    if layer is not None:
        key = LAYERS[layer].key[0]
        stored = frozenset(str(k) for k in store.load(layer, columns=[key])[key])
    return ValidationContext(
        ward_codes=frozenset(wards["code"]) | frozenset(townships["code"]),
        ward_names=names,
        wards=wards[["code", "geometry"]],
        grids=grids,
        repair=repair,
        crs=crs,
        stored_keys=stored,
    )


def _ward_names(*pairs: Any) -> dict[str, tuple[str, ...]]:
    """Ward name -> its codes, also under the county's name before it (山阳区太行街道): Jiaozuo
    has two 太行街道, and a name that means two wards must be refused, not resolved to either."""
    from gridgov.geo.shipped import COUNTY_NAMES

    codes: dict[str, set[str]] = {}
    for name, code in (pair for group in pairs for pair in group):
        if is_missing(name) or is_missing(code):
            continue
        county = COUNTY_NAMES.get(str(code)[:6], "")
        for key in {str(name), county + str(name)}:
            codes.setdefault(key, set()).add(str(code))
    return {name: tuple(sorted(found)) for name, found in codes.items()}


def read_any(path: str | Path, *, layer_name: str | None = None, layer: str | None = None) -> pd.DataFrame:
    """A feature file or a table, by extension (the readers raise one problem for a bad file);
    ``layer`` (grids …) lets a file of several layers be read from the one named like it."""
    check_suffix(path, (*FEATURE_SUFFIXES, *TABLE_SUFFIXES))
    if Path(path).suffix.lower() in TABLE_SUFFIXES:
        return read_table(path, sheet=layer_name)
    names = (layer, LAYERS[layer].label, *_LAYER_NAMES.get(layer, ())) if layer in LAYERS else ()
    return read_features(path, layer=layer_name, names=names)


# What a QGIS project tends to call each layer, beside gridgov's own name and label.
_LAYER_NAMES = {"wards": ("街道", "乡镇", "街道乡镇"), "grids": ("网格",), "workers": ("劳模", "名册"),
                "incidents": ("纠纷",), "sites": ("站点", "工作室")}


def _declared_crs(crs: Any, file: str) -> Any:
    """``--crs`` as given (4490, "4490", "EPSG:4547", a WKT …), or a ValidationError naming it."""
    if crs is None or crs == "":
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    text = str(crs).strip()
    candidate = f"EPSG:{text}" if text.isdigit() else text
    try:
        CRS.from_user_input(candidate)
    except CRSError:
        raise ValidationError([Problem(
            file, "整个文件", "--crs", f"无法识别的坐标系“{text}”", f"unknown coordinate system “{text}”",
            "填写 EPSG 代码，如 4490（CGCS2000）、4326（WGS84）、4547", "give an EPSG code, e.g. 4490 (CGCS2000), 4326 (WGS84), 4547",
        )], file=file) from None
    return candidate


def import_file(
    store: SqlStore,
    layer: str,
    path: str | Path,
    *,
    crs: Any = None,
    repair: bool = False,
    dry_run: bool = False,
    actor: str = "cli",
    layer_name: str | None = None,
    replace: bool = False,
    force: bool = False,
) -> ImportReport:
    """Validate ``path`` whole, then upsert its rows by key in one transaction (nothing on any error).

    ``layer_name`` picks a GeoPackage layer or an xlsx sheet. Workers get one ledger entry per
    added or changed worker (changed fields only); other layers one ``import`` entry.

    ``replace`` (grids only): the file holds all grids of the wards it names, after a split, a
    merge or a renumbering; stored grids of those wards missing from it are removed, each on the
    ledger with its whole record, and the file's grids are not checked for overlap against them.

    A workers file that would set back what a roster change put there since (an old export:
    a retired worker active again) is refused, naming each such value, unless ``force``; a dry
    run lists them as notices.
    """
    if layer not in IMPORTABLE:
        raise UserError(f"不能导入“{layer}”：可导入 {'、'.join(IMPORTABLE)}",
                        f"cannot import “{layer}”: importable layers are {', '.join(IMPORTABLE)}")
    if replace and layer != "grids":
        raise UserError("--replace 只用于网格（按街道整体替换）", "--replace is for grids only (whole wards replaced)")
    file = Path(path).name
    crs = _declared_crs(crs, file)
    raw = read_any(path, layer_name=layer_name, layer=layer)
    context = context_from_store(store, repair=repair, crs=crs, layer=layer)
    removed: pd.DataFrame | None = None
    if replace:
        context, removed = _replacing(store, raw, file, context)
    checked = validate(layer, raw, file=file, context=context)
    spec = LAYERS[layer]
    before = _existing(store, spec, checked.frame)
    changes, kept = _classify(spec, checked.frame, before, carried=checked.columns)
    inserted = sum(1 for _, old, _ in changes if old is None)
    notices = checked.notices + _blanks_kept_notice(file, kept)
    if layer == "workers":
        unit = "feature" if isinstance(raw, gpd.GeoDataFrame) else "row"
        _refuse_deleted_ids(store, checked.frame, changes, file, unit=unit)
        notices += _moved_wards_without_homes(checked.frame, changes, context, file, unit=unit)
        refused, noted = _undoes(store, spec, checked.frame, changes, file, unit=unit, written=not dry_run, forced=force)
        if refused and not (dry_run or force):
            raise ValidationError(refused, file=file)
        if refused and dry_run and not force:  # say so now, not when the real import is refused
            notices += (Problem(file, "整个文件", None,
                                f"正式导入将被拒绝：文件会改回 {len(refused)} 处名册变动（退出、暂不可用、恢复或承担能力，见下）",
                                f"the real import will be refused: the file sets back {len(refused)} roster changes "
                                "(retirements, absences, returns or capacities; listed below)", *_CHANGE_UNDONE_FIX),)
        notices += _roster_notices(store, spec, checked.frame, changes, file, dry_run=dry_run, unit=unit)
        notices += tuple(refused + noted)
        notices += _twin_notices(store, checked.frame, changes, file, unit=unit)
        notices += _absence_notices(checked.frame, changes, file, unit=unit)
    if removed is not None:
        notices += _removed_notice(file, removed, dry_run=dry_run)
    if layer == "grids":
        notices += _gap_notices(store, checked.frame, file, removed=removed)
    report = ImportReport(layer, file, len(checked.frame), inserted, len(changes) - inserted,
                          len(checked.frame) - len(changes), notices, dry_run)
    if not dry_run:
        _write(store, spec, checked.frame, changes, report, actor=actor, removed=removed, read=before)
    log.info("import %s from %s: %d read, %d inserted, %d updated, %d unchanged%s", layer, file,
             report.rows, report.inserted, report.updated, report.unchanged, " (dry run)" if dry_run else "")
    return report


Record = dict[str, Any]


_LISTED_CHANGES = 20  # changed workers listed one by one in the report
_ROSTER_ACTIONS = ["worker.retire", "worker.unavailable", "worker.available", "worker.reinstate", "worker.capacity",
                   "worker.update"]


def _roster_notices(store: SqlStore, spec: Layer, frame: pd.DataFrame,
                    changes: list[tuple[Record, Record | None, dict[str, Any]]], file: str, *,
                    dry_run: bool, unit: Unit) -> tuple[Problem, ...]:
    """What a roster file changes, worker by worker (the first 20)."""
    row_of = _row_numbers(frame)
    updated = [(rec, old, diff) for rec, old, diff in changes if old is not None]
    if not updated:
        return ()
    out: list[Problem] = []
    for rec, old, diff in updated[:_LISTED_CHANGES]:
        worker = str(rec["worker_id"])
        fields = changed_fields({k: old.get(k) for k in diff}, diff)
        zh = "；".join(_change_text(spec, k, o, v, zh=True) for k, (o, v) in fields.items())
        en = "; ".join(_change_text(spec, k, o, v) for k, (o, v) in fields.items())
        verb_zh, verb_en = ("将更新", "will change") if dry_run else ("已更新", "changed")
        out.append(Problem(file, where_label(unit, row_of.get(worker, 0)), None, f"{worker} {verb_zh}：{zh}",
                           f"{worker} {verb_en}: {en}"))
    if len(updated) > _LISTED_CHANGES:
        rest = len(updated) - _LISTED_CHANGES
        out.append(Problem(file, "整个文件", None, f"另有 {rest} 名劳模{'将' if dry_run else '已'}更新",
                           f"{rest} more workers {'will change' if dry_run else 'changed'}"))
    return tuple(out)


def _undoes(store: SqlStore, spec: Layer, frame: pd.DataFrame,
            changes: list[tuple[Record, Record | None, dict[str, Any]]], file: str, *, unit: Unit,
            written: bool, forced: bool) -> tuple[list[Problem], list[Problem]]:
    """(refused, noted): one problem for each value the file would set back from what a roster
    change put there since. An old export imported again must not quietly undo a retirement (a
    year's old sheet set back 364 workers, retired ones active again): undoing a retirement,
    absence, return or capacity change is refused unless forced; undoing an edit (a phone, a
    home, a value an earlier file set) is noted, as files legitimately set values back."""
    updated = [(rec, old, diff) for rec, old, diff in changes if old is not None]
    if not updated:
        return [], []
    row_of = _row_numbers(frame)
    ids = sorted(str(rec["worker_id"]) for rec, _, _ in updated)
    ledger = store.load("ledger", where={"action": _ROSTER_ACTIONS, "subject": ids}, order_by="entry_id")
    # (worker, field) -> (value it was set to, value before, when, action), by the latest change
    last_set: dict[tuple[str, str], tuple[Any, Any, Any, str]] = {}
    for subject, before, after, at, action in zip(ledger["subject"], ledger["before"], ledger["after"], ledger["at"],
                                                  ledger["action"]):
        for name, value in (after or {}).items():
            last_set[(str(subject), name)] = (value, (before or {}).get(name), at, action)
    refused: list[Problem] = []
    noted: list[Problem] = []
    for rec, old, diff in updated:
        worker = str(rec["worker_id"])
        for name, (old_value, new_value) in changed_fields({k: old.get(k) for k in diff}, diff).items():
            set_by_roster = last_set.get((worker, name))
            # Only a true undo: the stored value came from that change and the file brings back
            # the value it replaced (a new phone in a newer file is no undo).
            if set_by_roster is not None and set_by_roster[0] == old_value and set_by_roster[1] == new_value:
                when = local(pd.Timestamp(set_by_roster[2]).to_pydatetime()).strftime("%Y-%m-%d %H:%M")
                edit = set_by_roster[3] == "worker.update"
                done = written and (edit or forced)
                (noted if edit else refused).append(Problem(
                    file, where_label(unit, row_of.get(worker, 0)), _label(spec, name),
                    f"{worker} 的{_label(spec, name)}在 {when} 由名册变动改为 {_shown(old_value, zh=True)}，"
                    f"此文件{'已把它' if done else '会把它'}改回 {_shown(new_value, zh=True)}",
                    f"{worker}'s {name} was set to {_shown(old_value)} by a roster change at {when}; this file "
                    f"{'set' if done else 'sets'} it back to {_shown(new_value)}",
                    *(_EDIT_UNDONE_FIX if edit else _CHANGE_UNDONE_FIX)))
    return refused, noted


_EDIT_UNDONE_FIX = ("文件可能是在那次修改之前导出的：请重新导出最新名册再修改",
                    "the file may predate that edit: export the roster again and edit that")
_CHANGE_UNDONE_FIX = ("文件可能是在那次变动之前导出的：请重新导出最新名册再修改；确要改回时加 --force（网页上传：force）",
                      "the file may predate that change: export the roster again and edit that; to set it back on "
                      "purpose, add --force (upload: force)")


def _moved_wards_without_homes(frame: pd.DataFrame, changes: list[tuple[Record, Record | None, dict[str, Any]]],
                               context: ValidationContext, file: str, *, unit: Unit) -> tuple[Problem, ...]:
    """A notice per row that changes 居住街道 but not the home point (the file has no coordinates)
    when the stored home lies outside the new ward: validation could only check points in the file."""
    from gridgov.io.validate import home_ward_mismatches

    moved = [(rec, old) for rec, old, diff in changes
             if old is not None and "home_ward" in diff and "geometry" not in diff and old.get("geometry") is not None]
    if not moved:
        return ()
    rows = gpd.GeoDataFrame({"worker_id": [str(rec["worker_id"]) for rec, _ in moved],
                             "home_ward": [rec["home_ward"] for rec, _ in moved]},
                            geometry=[old["geometry"] for _, old in moved], crs="EPSG:4490")
    row_of = _row_numbers(frame)
    return tuple(Problem(file, where_label(unit, row_of.get(rows.loc[i, "worker_id"], 0)), "居住街道", *found)
                 for i, found in home_ward_mismatches(rows, context.wards).items())


def _row_numbers(frame: pd.DataFrame) -> dict[str, int]:
    """Worker id -> the row or feature number a message names it by."""
    return {str(key): int(i) for key, i in zip(frame["worker_id"], frame.index)}


def _refuse_deleted_ids(store: SqlStore, frame: pd.DataFrame,
                        changes: list[tuple[Record, Record | None, dict[str, Any]]], file: str, *, unit: Unit) -> None:
    """ValidationError naming each new row whose id belongs to a row deleted by mistake (see
    DeletedWorkerIdError): restore that one, or give the new person another id."""
    new_ids = [str(rec["worker_id"]) for rec, old, _ in changes if old is None]
    deleted = deleted_worker_ids(store, new_ids)
    if not deleted:
        return
    row_of = _row_numbers(frame)
    raise ValidationError([
        Problem(file, where_label(unit, row_of[worker]), "编号",
                f"编号 {worker} 属于已删除的误录记录（工作台账保留其信息）",
                f"worker id {worker} belongs to a row deleted as entered by mistake (the ledger keeps it)",
                f"恢复用 gridgov worker restore {worker}（网页：工作台账 → 恢复）；新人员请换一个编号",
                f"restore it with gridgov worker restore {worker} (恢复 on the page's ledger); give a new person another id")
        for worker in sorted(deleted, key=lambda w: row_of[w])], file=file)


def _twin_notices(store: SqlStore, frame: pd.DataFrame, changes: list[tuple[Record, Record | None, dict[str, Any]]],
                  file: str, *, unit: Unit) -> tuple[Problem, ...]:
    """A warning for each new worker who looks like one already on the roster or earlier in the
    file under another id (same phone, or same name and employer): one person with two ids gets
    two territories."""
    added = [rec for rec, old, _ in changes if old is None]
    if not added:
        return ()
    row_of = _row_numbers(frame)
    known: dict[tuple[str, str], str] = {}
    for w in store.rows("workers", columns=["worker_id", "name", "phone", "employer"]) + added:
        for sign in _signs(w):
            known.setdefault(sign, str(w["worker_id"]))
    out = []
    for rec in added:
        worker = str(rec["worker_id"])
        twins: dict[str, tuple[str, str]] = {}
        for sign in _signs(rec):  # the phone first: the surest sign
            if known.get(sign, worker) != worker:
                twins.setdefault(known[sign], sign)
        for twin, (kind, value) in twins.items():
            same_zh, same_en = ("电话", "phone") if kind == "phone" else ("姓名和单位", "name and employer")
            out.append(Problem(
                file, where_label(unit, row_of.get(worker, 0)), None,
                f"新劳模 {worker} 与 {twin} 的{same_zh}相同（{value}），可能是同一人",
                f"new worker {worker} has the same {same_en} as {twin} ({value}): maybe the same person",
                f"如是同一人，请删除多出的一条（gridgov worker remove {worker}）",
                f"if so, delete the extra row (gridgov worker remove {worker})"))
    return tuple(out)


def _absence_notices(frame: pd.DataFrame, changes: list[tuple[Record, Record | None, dict[str, Any]]],
                     file: str, *, unit: Unit) -> tuple[Problem, ...]:
    """Warnings for what ``worker unavailable`` would refuse without a confirmation: a retired
    worker brought back, an absence not over yet replaced (an import is how many are changed at
    once, so it warns rather than refuses)."""
    from gridgov.errors import AbsenceReplaceError
    from gridgov.plans.roster import keep_booked_absence

    row_of = _row_numbers(frame)
    out = []
    for rec, old, diff in changes:
        if old is None:
            continue
        worker = str(rec["worker_id"])
        where = where_label(unit, row_of.get(worker, 0))
        if old.get("status") == "retired" and rec.get("status") != "retired":
            out.append(Problem(file, where, None, f"{worker} 已退出名册，此文件把状态改为{_shown(rec.get('status'), zh=True)}：此人会回到名册、重新安排网格",
                               f"{worker} had retired; this file sets the status to {rec.get('status')}: they are back on the roster and get grids",
                               "若非本意，把状态改回“退出”后重新导入", "if not meant, set the status back to retired and import again"))
        elif rec.get("status") == "unavailable" and set(_ABSENCE) & set(diff):
            try:
                keep_booked_absence(old, rec.get("unavailable_from"), rec.get("unavailable_to"))
            except AbsenceReplaceError as exc:
                out.append(Problem(file, where, None, exc.message, exc.message_en,
                                   "若原登记应保留，请改回原日期后重新导入", "if the booked absence should stay, restore its dates and import again"))
    return tuple(out)


def _signs(worker: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What identifies a person across ids: the phone; the name with the employer."""
    signs = []
    if not is_missing(worker.get("phone")) and worker.get("phone"):
        signs.append(("phone", str(worker["phone"])))
    if not is_missing(worker.get("name")) and not is_missing(worker.get("employer")) and worker.get("employer"):
        signs.append(("name", f"{worker['name']}，{worker['employer']}"))
    return signs


def _label(spec: Layer, name: str) -> str:
    return spec.column(name).label if name in spec.column_names else ("住址坐标" if name == "geometry" else name)


def _change_text(spec: Layer, name: str, old: Any, new: Any, *, zh: bool = False) -> str:
    """One changed field as a clerk reads it: values before → after; a home by how far it moved."""
    if name == "geometry" and isinstance(old, str) and isinstance(new, str):
        metres = _moved_m(old, new)
        return f"{_label(spec, name)}移动 {metres:,.0f} 米" if zh else f"home moved {metres:,.0f} m"
    if zh:
        return f"{_label(spec, name)} {_shown(old, zh=True)} → {_shown(new, zh=True)}"
    return f"{name} {_shown(old)} → {_shown(new)}"


def _moved_m(old_wkt: str, new_wkt: str) -> float:
    from shapely import wkt

    from gridgov.geo.crs import STORAGE_CRS, to_metric

    both = to_metric(gpd.GeoSeries([wkt.loads(old_wkt), wkt.loads(new_wkt)], crs=STORAGE_CRS))
    return float(both.iloc[0].distance(both.iloc[1]))


def _shown(value: Any, *, zh: bool = False) -> str:
    if value is None:
        return "（空）" if zh else "(empty)"
    if isinstance(value, list):  # honours, as the clerk typed them: 全国劳动模范(全国,2015);…
        from gridgov.io.values import render_honours

        return render_honours(value) if all(isinstance(h, Mapping) for h in value) else "、".join(map(str, value))
    text = str(value)
    if text.startswith(("POINT", "MULTI")):
        return "（新坐标）" if zh else "(a new point)"
    return WORKER_STATUS_ZH.get(text, text) if zh else text


def _records(spec: Layer, frame: pd.DataFrame) -> dict[tuple[Any, ...], Record]:
    names = spec.column_names + (["geometry"] if spec.geometry else [])
    out: dict[tuple[Any, ...], Record] = {}
    for rec in frame[names].to_dict("records"):
        out[tuple(rec[k] for k in spec.key)] = rec
    return out


def _existing(store: SqlStore, spec: Layer, frame: pd.DataFrame) -> dict[tuple[Any, ...], Record]:
    """Stored rows with the keys the file carries."""
    if frame.empty:
        return {}
    where: Where = {spec.key[0]: sorted({k for k in frame[spec.key[0]].tolist() if k is not None})}
    return _records(spec, store.load(spec.name, where=where))


# About 0.1 m in stored degrees: a CSV saved by Excel keeps 10 significant digits of a coordinate
# and many GIS tools write GeoJSON with 7 decimals; neither moves a home or a boundary.
_SAME_PLACE_DEG = 1e-6


def _same(a: Any, b: Any) -> bool:
    if is_missing(a) or is_missing(b):
        return is_missing(a) and is_missing(b)
    if hasattr(a, "equals_exact") and hasattr(b, "equals_exact"):
        return bool(a.geom_type == b.geom_type and a.equals_exact(b, _SAME_PLACE_DEG))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return bool(a == b)


def _promoted(spec: Layer, rec: Record) -> Record:
    from shapely.geometry import MultiPolygon, Polygon

    geom = rec.get("geometry")
    if spec.geometry == "MULTIPOLYGON" and isinstance(geom, Polygon):
        return {**rec, "geometry": MultiPolygon([geom])}
    return rec


def _classify(spec: Layer, frame: pd.DataFrame, before: Mapping[tuple[Any, ...], Record], *,
              carried: tuple[str, ...]) -> tuple[list[tuple[Record, Record | None, dict[str, Any]]], int]:
    """(record to save, stored record or None, {field: new value}) for each added or changed row,
    and how many blank cells kept a stored value.

    A column the file does not carry keeps its stored value: a roster sheet without 状态 must
    not wipe the statuses set since. So does a blank cell: an update sheet leaves the cells that
    did not change empty, and what a user entered before is never wiped by an empty cell.
    """
    out: list[tuple[Record, Record | None, dict[str, Any]]] = []
    kept = 0
    for key, rec in _records(spec, frame).items():
        rec = _promoted(spec, rec)
        old = before.get(key)
        typed_status = rec.get("status") if "status" in carried else None
        if spec.name == "workers":
            rec, old = _status_blank_is_active(rec, old)
        if old is None:
            out.append((rec, None, {k: v for k, v in rec.items() if not is_missing(v)}))
            continue
        taken = {k: v for k, v in rec.items() if k in carried or k in spec.key}
        blanks = {k for k, v in taken.items() if is_missing(v) and not is_missing(old.get(k))}
        if spec.name == "workers":
            blanks = _absence_as_typed(taken, old, blanks, typed_status=typed_status, carried=carried)
        kept += len(blanks)
        rec = {**old, **{k: v for k, v in taken.items() if k not in blanks}}
        diff = {k: v for k, v in rec.items() if not _same(v, old.get(k))}
        if diff:
            out.append((rec, old, diff))
    return out, kept


_ABSENCE = ("unavailable_from", "unavailable_to")


def _absence_as_typed(taken: Record, old: Record, blanks: set[str], *, typed_status: Any,
                      carried: tuple[str, ...]) -> set[str]:
    """A worker row's status and absence dates read as one thing (changes ``taken``; returns the
    blanks that keep stored values):

    - dates typed beside 在岗 or a blank status book an absence (status 暂不可用, as
      ``worker unavailable`` does; availability goes by the dates);
    - a status changed to 在岗 or 退出 clears the dates it leaves blank (or does not carry);
    - a status changed to 暂不可用 takes its dates as typed (a blank end: until further notice);
    - a status typed as it is stored keeps the stored dates its blank cells leave out.
    """
    start = taken.get("unavailable_from")
    if not is_missing(start) and (is_missing(typed_status) or typed_status == "active") \
            and old.get("status") != "retired":
        taken["status"] = "unavailable"
        return blanks - set(_ABSENCE)
    if is_missing(typed_status) or typed_status == old.get("status"):
        return blanks
    if typed_status in ("active", "retired"):
        taken.update({k: None for k in _ABSENCE})
    return blanks - set(_ABSENCE)


def _status_blank_is_active(rec: Record, old: Record | None) -> tuple[Record, Record | None]:
    """A blank 状态 is 在岗: stored and compared as such (older imports stored it blank)."""
    if old is not None and is_missing(old.get("status")):
        old = {**old, "status": "active"}
    if is_missing(rec.get("status")):
        rec = {**rec, "status": old["status"] if old is not None else "active"}
    return rec, old


def _blanks_kept_notice(file: str, kept: int) -> tuple[Problem, ...]:
    if not kept:
        return ()
    return (Problem(file, "整个文件", None, f"{kept} 个空白单元格保留了数据库中的原值（空白不会清除已有信息）",
                    f"{kept} blank cells kept their stored values (a blank never wipes what is stored)",
                    "确需清空某项时，请用 gridgov worker update 或在网页上修改（暂不可用的日期随“状态”一列：填“在岗”即清除）",
                    "to clear a value on purpose, change it with gridgov worker update or on the page (absence dates "
                    "follow the status column: 在岗/active clears them)"),)


def _replacing(store: SqlStore, raw: pd.DataFrame, file: str,
               context: ValidationContext) -> tuple[ValidationContext, pd.DataFrame]:
    """For ``--replace``: the stored grids the file removes (those of its wards it does not hold),
    and a context that does not check the file's grids for overlap against them."""
    from dataclasses import replace as with_fields

    # The file's wards and codes, as validation reads them (a first pass that checks no stored grid).
    first = validate("grids", raw, file=file, context=with_fields(context, grids=None))
    wards = {w for w in first.frame["ward_code"].tolist() if isinstance(w, str)}
    codes = {c for c in first.frame["code"].tolist() if isinstance(c, str)}
    stored = store.load("grids", where={"ward_code": sorted(wards)}) if wards else store.load("grids").iloc[0:0]
    removed = stored[~stored["code"].isin(codes)]
    kept = context.grids[~context.grids["code"].isin(set(removed["code"]))] if context.grids is not None else None
    return with_fields(context, grids=kept), removed


def _removed_notice(file: str, removed: pd.DataFrame, *, dry_run: bool) -> tuple[Problem, ...]:
    if removed.empty:
        return ()
    codes = sorted(removed["code"])
    shown = "、".join(codes[:10]) + (f" 等 {len(codes)} 个" if len(codes) > 10 else "")
    verb_zh, verb_en = ("将撤销", "will be removed") if dry_run else ("已撤销", "removed")
    return (Problem(file, "整个文件", None, f"{verb_zh}文件中没有的旧网格：{shown}（原记录保存在工作台账中）",
                    f"stored grids of these wards missing from the file {verb_en}: {', '.join(codes[:10])}"
                    f"{f' and {len(codes) - 10} more' if len(codes) > 10 else ''} (the ledger keeps their records)",
                    "运行 gridgov solve --changed 为新网格安排劳模", "run gridgov solve --changed to place workers on the new grids"),)


_GAP_SHARE = 0.01  # of a ward's area in no grid, beyond slivers, before the import says so


def _gap_notices(store: SqlStore, frame: pd.DataFrame, file: str, *,
                 removed: pd.DataFrame | None) -> tuple[Problem, ...]:
    """A notice per ward of the file whose grids, once imported, leave part of it in no grid
    (网格化管理 covers the whole ward; a grid left out of an export, or drawn short, would
    leave its people without a worker and nothing would say so)."""
    from gridgov.geo.measure import uncovered_m2

    codes = sorted({w for w in frame["ward_code"].tolist() if isinstance(w, str)})
    wards = store.load("wards", where={"code": codes}) if codes else None
    if wards is None or wards.empty:
        return ()
    gone = set(frame["code"]) | (set(removed["code"]) if removed is not None else set())
    stored = store.load("grids", where={"ward_code": codes}, columns=["code", "ward_code", "geometry"])
    after = pd.concat([stored[~stored["code"].isin(gone)], frame[["code", "ward_code", "geometry"]].to_crs(stored.crs)])
    notices = []
    for ward in wards.itertuples():
        grids = gpd.GeoSeries(after.loc[after["ward_code"] == ward.code, "geometry"], crs=stored.crs)
        gap, whole = uncovered_m2(gpd.GeoSeries([ward.geometry], crs=wards.crs), grids)
        if whole > 0 and gap / whole >= _GAP_SHARE:
            notices.append(Problem(
                file, "整个文件", None,
                f"{ward.name}（{ward.code}）有 {gap / 1e6:.2f} 平方公里（{gap / whole:.0%}）不在任何网格内",
                f"{gap / 1e6:.2f} km² ({gap / whole:.0%}) of {ward.name} ({ward.code}) lies in no grid",
                "网格应覆盖街道全部辖区：补齐缺少的网格后再导入（分批导入的，其余网格导入后此提示即消失）",
                "grids should cover the whole ward: add the missing grids (importing in parts, this goes once the rest are in)",
            ))
    return tuple(notices)


def _write(store: SqlStore, spec: Layer, frame: pd.DataFrame,
           changes: list[tuple[Record, Record | None, dict[str, Any]]], report: ImportReport, *, actor: str,
           removed: pd.DataFrame | None = None, read: Mapping[tuple[Any, ...], Record]) -> None:
    rows = [rec for rec, _, _ in changes]
    with store.transaction():
        _unchanged_since_read(store, spec, frame, read, file=report.file)
        if removed is not None and not removed.empty:
            store.delete("grids", where={"code": sorted(removed["code"])})
            for grid in removed.to_dict("records"):
                record(store, actor=actor, action="grid.remove", subject=str(grid["code"]), before=grid)
        if rows:
            store.save(spec.name, gpd.GeoDataFrame(rows, geometry="geometry", crs=frame.crs)
                       if spec.geometry else pd.DataFrame(rows))
        if spec.name in ROW_ACTION_PREFIX:  # each change with its old values, to review or undo
            for rec, old, diff in changes:
                _record_row(store, ROW_ACTION_PREFIX[spec.name], spec, rec, old, diff, actor=actor)
        # Roster files are roster changes only; other files are also an event, unless unchanged.
        if spec.name != "workers" and (changes or (removed is not None and not removed.empty)):
            record(store, actor=actor, action="import", subject=f"{spec.name}:{report.file}",
                   after={"file": report.file, "rows": report.rows, "inserted": report.inserted,
                          "updated": report.updated, "unchanged": report.unchanged})


def _record_row(store: SqlStore, prefix: str, spec: Layer, rec: Record, old: Record | None,
                diff: Mapping[str, Any], *, actor: str) -> None:
    """One added or changed row: the changed fields only, before → after (geometry as WKT)."""
    subject = "/".join(str(rec[k]) for k in spec.key)
    if old is None:
        record(store, actor=actor, action=f"{prefix}.add", subject=subject, after=dict(diff))
        return
    changed = changed_fields({k: old.get(k) for k in diff}, diff)
    record(store, actor=actor, action=f"{prefix}.update", subject=subject,
           before={k: o for k, (o, _) in changed.items()}, after={k: n for k, (_, n) in changed.items()})


def _unchanged_since_read(store: SqlStore, spec: Layer, frame: pd.DataFrame,
                          read: Mapping[tuple[Any, ...], Record], *, file: str) -> None:
    """Inside the write's transaction: the file's stored rows as they were when it was compared,
    held until the write commits (ChangedMeanwhileError otherwise). Rows are written whole, so
    without this a retirement committed while a large roster file was being checked would be
    undone by the import of an unrelated column."""
    if frame.empty:
        return
    store.lock_keys(spec.name)  # first: a new key another import is adding becomes visible below
    store.lock_rows(spec.name, {spec.key[0]: sorted({k for k in frame[spec.key[0]].tolist() if k is not None})})
    now = _existing(store, spec, frame)
    names = spec.column_names + (["geometry"] if spec.geometry else [])
    changed = sorted("/".join(map(str, key)) for key in set(read) | set(now)
                     if key not in read or key not in now
                     or not all(_same(read[key].get(n), now[key].get(n)) for n in names))
    if changed:
        raise ChangedMeanwhileError(file, changed)


def export_layer(store: SqlStore, layer: str, path: str | Path, *, where: Where | None = None) -> int:
    """Write a stored layer (optionally filtered) to .geojson/.gpkg/.xlsx/.csv; returns rows written."""
    if layer not in LAYERS:
        raise UserError(f"没有名为“{layer}”的图层：可用 {'、'.join(LAYERS)}",
                        f"no layer “{layer}”: layers are {', '.join(LAYERS)}")
    frame = store.load(layer, where=where)
    if layer == "ledger" and Path(path).suffix.lower() in (".xlsx", ".csv"):
        frame = readable(frame)  # for people: 劳模退出, 状态：在岗 → 退出 (GeoJSON/GPKG keep the codes)
    if layer == "workers" and "status" in frame:
        frame["status"] = frame["status"].fillna("active")  # imports leave it blank for 在岗
    return write_layer(frame, path, layer=layer)
