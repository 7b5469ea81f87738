"""Roster changes (动态管理): add, retire, mark unavailable, change capacity — each on the ledger."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from gridgov.errors import (
    AbsenceReplaceError,
    DeletedWorkerIdError,
    NotFoundError,
    RetiredWorkerError,
    UserError,
    ValidationError,
    WorkerInPlansError,
)
from gridgov.io.values import is_missing
from gridgov.plans.ledger import changed_fields, deleted_worker_ids, record
from gridgov.schema import MAX_CAPACITY
from gridgov.store import SqlStore


def available_workers(workers: gpd.GeoDataFrame, *, on: date | None = None) -> gpd.GeoDataFrame:
    """Workers who can take grids on ``on`` (today where the users are, by default): not retired,
    not in an absence."""
    from gridgov.localtime import today

    on = on or today()
    status = workers["status"].fillna("active")
    day = pd.Timestamp(on)
    start = pd.to_datetime(workers["unavailable_from"])
    end = pd.to_datetime(workers["unavailable_to"])
    # An absence with no start began long ago; one with no end lasts until the status changes back.
    absent = (status == "unavailable") & ~(start > day) & ~(end < day)
    return workers[(status != "retired") & ~absent]


def unavailable_today(workers: gpd.GeoDataFrame) -> dict[str, tuple[str, date | None]]:
    """worker id -> ("retired", None) or ("away", the absence's end or None), for the workers of
    ``workers`` not available today: what a sheet or a map listing them must say."""
    ok = set(available_workers(workers)["worker_id"])
    return {w["worker_id"]: ("retired", None) if w.get("status") == "retired" else ("away", _day(w.get("unavailable_to")))
            for w in workers.to_dict("records") if w["worker_id"] not in ok}


def _load_worker(store: SqlStore, worker_id: str) -> dict[str, Any]:
    """The worker's row; inside a transaction it stays locked until the change commits, so two
    offices changing one worker at once (PostgreSQL) take turns and each sees the other's change."""
    store.lock_rows("workers", {"worker_id": worker_id})
    rows = store.load("workers", where={"worker_id": worker_id})
    if rows.empty:
        raise NotFoundError(f"没有编号为 {worker_id} 的劳模", f"no worker with id {worker_id}")
    return rows.iloc[0].to_dict()


def _change(store: SqlStore, worker_id: str, values: Mapping[str, Any], *, actor: str, action: str) -> dict:
    with store.transaction():
        before = _load_worker(store, worker_id)
        diff = changed_fields(before, values)
        if not diff:
            return {}
        store.update("workers", {"worker_id": worker_id}, values)
        record(
            store, actor=actor, action=action, subject=worker_id,
            before={k: old for k, (old, _new) in diff.items()},
            after={k: new for k, (_old, new) in diff.items()},
        )
    return diff


def retire_worker(store: SqlStore, worker_id: str, *, actor: str) -> dict:
    """The worker leaves the roster for good (退出); their grids need a new worker."""
    return _change(store, worker_id, {"status": "retired"}, actor=actor, action="worker.retire")


def mark_unavailable(
    store: SqlStore, worker_id: str, *, start: date, end: date | None, actor: str, replace: bool = False
) -> dict:
    """The worker is away from ``start`` to ``end`` (inclusive; None = until further notice).

    A retired worker is refused (RetiredWorkerError: booking an absence would bring them back).
    A worker has one absence on record: one not over yet whose days the new one would drop is
    replaced only with ``replace`` (AbsenceReplaceError otherwise); extending it needs nothing.
    """
    if end is not None and end < start:
        raise UserError(
            f"暂不可用的结束日期 {end} 早于开始日期 {start}",
            f"the absence ends ({end}) before it starts ({start})",
        )
    with store.transaction():
        worker = _load_worker(store, worker_id)
        if worker.get("status") == "retired":
            raise RetiredWorkerError(worker_id, action="unavailable")
        if not replace:
            keep_booked_absence(worker, start, end)
        values = {"status": "unavailable", "unavailable_from": start, "unavailable_to": end}
        return _change(store, worker_id, values, actor=actor, action="worker.unavailable")


def keep_booked_absence(worker: Mapping[str, Any], start: date | None, end: date | None) -> None:
    """AbsenceReplaceError when the new absence [start, end] leaves out days, from today on, of the
    worker's absence on record (past days are history: the ledger has them)."""
    from gridgov.localtime import today

    if worker.get("status") != "unavailable":
        return
    now = today()
    old_start, old_end = _day(worker.get("unavailable_from")), _day(worker.get("unavailable_to"))
    if old_end is not None and old_end < now:
        return  # over
    remaining_start = max(old_start or now, now)
    start, end = _day(start), _day(end)  # an import hands over timestamps, or no start (since long ago)
    covered = (start is None or start <= remaining_start) and (end is None or (old_end is not None and end >= old_end))
    if not covered:
        raise AbsenceReplaceError(str(worker["worker_id"]), str(old_start or "—"),
                                  None if old_end is None else str(old_end))


def _day(value: Any) -> date | None:
    if value is None or (not isinstance(value, (date, str)) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def mark_available(store: SqlStore, worker_id: str, *, actor: str, reinstate: bool = False) -> dict:
    """The worker is back: active again, absence cleared. A retired worker comes back only with
    ``reinstate`` (RetiredWorkerError otherwise): 恢复可用 is for absences. A worker who was not
    away changes nothing (no ledger entry, no re-solve)."""
    with store.transaction():  # the retired check and the change as one (a retirement meanwhile is not undone)
        worker = _load_worker(store, worker_id)
        if not reinstate and worker.get("status") == "retired":
            raise RetiredWorkerError(worker_id)
        status = "active" if is_missing(worker.get("status")) else worker["status"]  # older imports left it blank
        away = any(_day(worker.get(k)) is not None for k in ("unavailable_from", "unavailable_to"))
        if status == "active" and not away:
            return {}
        values = {"status": "active", "unavailable_from": None, "unavailable_to": None}
        return _change(store, worker_id, values, actor=actor,
                       action="worker.reinstate" if reinstate else "worker.available")


def set_capacity(store: SqlStore, worker_id: str, capacity: float, *, actor: str) -> dict:
    """How many standard grids (400 households each) the worker takes on."""
    if not 0 < capacity <= MAX_CAPACITY:
        raise UserError(
            f"承担能力应大于 0、不超过 {MAX_CAPACITY:g} 个标准网格（收到 {capacity:g}）",
            f"capacity must be more than 0 and at most {MAX_CAPACITY:g} standard grids (got {capacity:g})",
        )
    return _change(store, worker_id, {"capacity": float(capacity)}, actor=actor, action="worker.capacity")


def add_worker(store: SqlStore, row: Mapping[str, Any], *, actor: str) -> None:
    """A new worker joins the roster (新增)."""
    worker_id = str(row.get("worker_id") or "")
    if not worker_id or not row.get("name"):
        raise UserError("新增劳模需要编号和姓名", "a new worker needs worker_id and name")
    with store.transaction():
        store.lock_keys("workers")  # an import or another office adding the same id waits its turn
        if store.count("workers", where={"worker_id": worker_id}):
            raise UserError(f"编号 {worker_id} 已存在", f"worker id {worker_id} already exists")
        if deleted_worker_ids(store, [worker_id]):
            raise DeletedWorkerIdError(worker_id)
        _refuse_home_outside_ward(store, worker_id, dict(row))
        store.save("workers", [{"status": "active", "capacity": 1.0, **row}])
        after = {k: v for k, v in row.items() if k != "geometry"}
        record(store, actor=actor, action="worker.add", subject=worker_id, after=after)


def remove_worker(store: SqlStore, worker_id: str, *, actor: str) -> list[int]:
    """Take a row imported by mistake off the roster (删除误录). The ledger keeps the whole record,
    so nothing typed is lost. Refused (WorkerInPlansError) for a worker a published or past plan
    names: their history must keep reading, and 退出 (retire) is what a leaver needs. Drafts naming
    the worker can no longer be published; returns their ids."""
    from gridgov.plans.versions import plans_naming

    with store.transaction():
        before = _load_worker(store, worker_id)
        plans = plans_naming(store, worker_id)
        kept = sorted(p for p, status in plans.items() if status != "draft")
        if kept:
            raise WorkerInPlansError(worker_id, kept)
        store.delete("workers", where={"worker_id": worker_id})
        record(store, actor=actor, action="worker.remove", subject=worker_id, before=before)
    return sorted(plans)


def restore_worker(store: SqlStore, worker_id: str, *, actor: str) -> dict[str, Any]:
    """Put back a worker deleted by ``remove_worker``, as the ledger recorded them (恢复误删)."""
    from shapely import wkt

    with store.transaction():
        if store.count("workers", where={"worker_id": worker_id}):
            raise UserError(f"劳模 {worker_id} 在名册中，无需恢复", f"worker {worker_id} is on the roster: nothing to restore")
        removed = store.rows("ledger", where={"action": "worker.remove", "subject": worker_id}, order_by="entry_id")
        if not removed:
            raise NotFoundError(f"工作台账中没有删除劳模 {worker_id} 的记录", f"the ledger records no deletion of worker {worker_id}")
        row = dict(removed[-1]["before"])
        point = row.get("geometry")
        row["geometry"] = wkt.loads(point) if isinstance(point, str) else None
        for key in ("unavailable_from", "unavailable_to"):
            if isinstance(row.get(key), str):
                row[key] = date.fromisoformat(row[key][:10])
        store.save("workers", [row])
        record(store, actor=actor, action="worker.restore", subject=worker_id, after=row)
    return row


def _validated(store: SqlStore, worker_id: str, record: dict[str, Any],
               home: tuple[float, float] | None) -> dict[str, Any]:
    """The changed record as an import of it would store it (phone normalised, a ward name made
    its code, the home checked to lie in Jiaozuo the right way round …), or ValidationError
    naming every bad field: a change must not store what a re-import of the roster would refuse."""
    from gridgov.io.validate import validate
    from gridgov.plans.imports import context_from_store

    row = {k: v for k, v in record.items() if k != "geometry"}
    point = record.get("geometry")
    if home is not None:
        row["lon"], row["lat"] = home
    elif point is not None and not point.is_empty:
        row["lon"], row["lat"] = point.x, point.y
    label = f"劳模 {worker_id} 的修改 / the change to worker {worker_id}"
    try:
        out = validate("workers", pd.DataFrame([row], index=[1]), file=label,
                       context=context_from_store(store, layer="workers"))
    except ValidationError as err:
        raise ValidationError([replace(p, where="修改内容") for p in err.problems], file=label) from None
    clean = out.frame.iloc[0].to_dict()
    return {**record, **{k: clean[k] for k in record if k in clean and k != "geometry"},
            "geometry": clean.get("geometry") if home is not None else point}


def _refuse_home_outside_ward(store: SqlStore, worker_id: str, full: dict[str, Any]) -> None:
    """A new 居住街道 (or home) that does not hold the home point: `worker update --home-ward`
    without the coordinates moved the 人熟、地熟 bonus to a ward 15 km from the home."""
    from gridgov.io.validate import home_ward_mismatches

    if full.get("geometry") is None or not isinstance(full.get("home_ward"), str):
        return
    wards = store.load("wards", columns=["code", "geometry"])  # all: the message names the ward it lies in
    found = home_ward_mismatches(gpd.GeoDataFrame([full], geometry="geometry", crs="EPSG:4490"), wards)
    if found:
        message, message_en, fix, fix_en = next(iter(found.values()))
        raise UserError(f"劳模 {worker_id}：{message}；{fix}（搬家请同时给出新的经纬度）",
                        f"worker {worker_id}: {message_en}; {fix_en} (a move needs the new coordinates too)")


def update_worker(store: SqlStore, worker_id: str, values: dict[str, Any], *, actor: str) -> dict:
    """Change a worker's details or home (``lon``/``lat`` together); on the ledger as worker.update
    with the changed fields only. Returns {field: (before, after)}; {} when nothing changed."""
    values = dict(values)
    lon, lat = values.pop("lon", None), values.pop("lat", None)
    with store.transaction():
        before = _load_worker(store, worker_id)
        if (lon is None) != (lat is None):
            raise UserError("修改住址需同时给出经度和纬度", "a new home needs both lon and lat")
        full = _validated(store, worker_id, {**before, **values}, None if lon is None else (lon, lat))
        # Only a new ward or home: an unchanged ward resent with a phone is not this change's to judge.
        if full.get("home_ward") != before.get("home_ward") or lon is not None:
            _refuse_home_outside_ward(store, worker_id, full)
        values = {k: full[k] for k in values}
        diff = changed_fields(before, values)
        if lon is not None:
            old, home = before.get("geometry"), full["geometry"]
            if old is None or not old.equals(home):
                diff["geometry"] = (None if old is None else old.wkt, home.wkt)
        if not diff:
            return {}
        if "geometry" in diff:
            store.save("workers", [full])  # a new home: the row with its point
        else:
            # Only the changed fields: a retirement committed meanwhile by another office
            # (PostgreSQL reads committed data between statements) is not written back over.
            store.update("workers", {"worker_id": worker_id}, {k: full[k] for k in diff})
        record(store, actor=actor, action="worker.update", subject=worker_id,
               before={k: o for k, (o, _) in diff.items()}, after={k: n for k, (_, n) in diff.items()})
    return diff
