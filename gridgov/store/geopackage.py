"""The embedded default store: one GeoPackage file written through sqlite3 transactions."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sqlite3
import struct
import threading
import uuid
from datetime import timedelta
from collections.abc import Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from gridgov.errors import StoreError
from gridgov.schema import Layer
from gridgov.store.base import GEOM_COL, SqlStore, now_utc

log = logging.getLogger(__name__)

_SRS_ID = 4490
# Below this a solve's draft (a few MB at the city's size) or an import may not fit.
_MIN_FREE_BYTES = 64 * 2**20
_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_USER_VERSION = 10400  # GeoPackage 1.4
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_SQL_TYPES = {
    "text": "TEXT", "int": "INTEGER", "float": "DOUBLE", "bool": "BOOLEAN",
    "date": "DATE", "datetime": "DATETIME", "json": "TEXT",
}


def encode_gpkg_geometry(geom: BaseGeometry, srs_id: int = _SRS_ID) -> bytes:
    """GeoPackage binary: the 'GP' header (little-endian, xy envelope unless a point) + WKB."""
    if geom.is_empty:
        flags = 0b0001_0001  # empty, no envelope, little-endian
        return struct.pack("<2sBBi", b"GP", 0, flags, srs_id) + shapely.to_wkb(geom, byte_order=1)
    with_envelope = geom.geom_type != "Point"
    flags = (1 << 1 if with_envelope else 0) | 1
    head = struct.pack("<2sBBi", b"GP", 0, flags, srs_id)
    if with_envelope:
        minx, miny, maxx, maxy = geom.bounds
        head += struct.pack("<4d", minx, maxx, miny, maxy)
    return head + shapely.to_wkb(geom, byte_order=1, output_dimension=2)


def decode_gpkg_geometry(blob: bytes | None) -> BaseGeometry | None:
    """Parse a GeoPackage geometry blob (any envelope, either byte order)."""
    if blob is None:
        return None
    blob = bytes(blob)
    if blob[:2] != b"GP":
        raise StoreError("几何数据不是 GeoPackage 格式", "geometry blob is not GeoPackage binary")
    flags = blob[3]
    envelope = _ENVELOPE_BYTES[(flags >> 1) & 0b111]
    return shapely.from_wkb(blob[8 + envelope:])


class GeoPackageStore(SqlStore):
    """A GeoPackage file; opens in QGIS. Atomic writes come from SQLite's rollback journal."""

    _ph = "?"

    def __init__(self, path: str | Path, *, create: bool = False, upgrade: bool = True) -> None:
        super().__init__()
        self.path = Path(path)
        self.url = str(self.path)
        self._token = uuid.uuid4().hex  # tells this store's lock rows from every other's
        self._beat: threading.Thread | None = None
        self._beat_stop = threading.Event()
        if not self.path.exists() and not create:
            from gridgov.errors import NotFoundError

            raise NotFoundError(
                f"数据库文件 {self.path} 不存在：请先运行 gridgov init 或 gridgov demo，或用 --db 指定",
                f"the store file {self.path} does not exist: run gridgov init or gridgov demo first, "
                "or name another with --db",
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Autocommit mode: we issue BEGIN/COMMIT ourselves so a transaction means one.
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from exc
        self._migrate(create=create, upgrade=upgrade)

    def _error(self, exc: Exception) -> StoreError:
        return StoreError(
            f"读写 GeoPackage 文件 {self.path} 失败：{exc}（文件未被修改）",
            f"reading or writing the GeoPackage {self.path} failed: {exc} (the file is unchanged)",
        )

    # -- connection hooks -----------------------------------------------------------------------
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from exc

    def _executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from exc

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._execute(sql, params).fetchall())

    def _begin(self) -> None:
        self._execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._execute("COMMIT")

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _begin_snapshot(self) -> None:
        # A deferred read transaction keeps SQLite's shared lock from its first read to its end:
        # a writer cannot commit in between, so every read sees the same state.
        self._execute("BEGIN DEFERRED")

    def close(self) -> None:
        self._stop_heartbeat()
        self._conn.close()

    def write_problem(self) -> str | None:
        """Why a write would fail now, for the administrator's log (None: it would not). Reads
        go on working when the disk fills or the file turns read-only, so only this tells."""
        folder = self.path.resolve().parent
        if not os.access(self.path, os.W_OK):
            return f"the store file {self.path} is read-only for this process"
        if not os.access(folder, os.W_OK):
            # SQLite writes its journal beside the file.
            return f"the folder {folder} is read-only for this process (SQLite's journal goes there)"
        free = shutil.disk_usage(folder).free
        if free < _MIN_FREE_BYTES:
            return f"only {free / 2**20:.1f} MB free on the disk of {folder}"
        return None

    def _keep_before_upgrade(self, version: int) -> Path:
        """``<name>.schema<N>-<time>.gpkg`` beside the store: what the older gridgov can open
        again if the new one must be rolled back."""
        from gridgov.localtime import local

        stamp = local(now_utc()).strftime("%Y%m%d-%H%M%S")
        kept = self.path.with_name(f"{self.path.stem}.schema{version}-{stamp}{self.path.suffix}")
        # Through a connection of its own: this one holds the upgrade's write lock, and SQLite
        # refuses to back up from a connection that is writing (the copy waited for ever).
        # Readers may share the file until the upgrade commits, and nothing is written yet.
        reader = sqlite3.connect(self.path, timeout=30.0)
        try:
            self._copy_to(kept, source=reader)
        except StoreError as exc:
            raise StoreError(
                f"升级数据库结构前无法保留原文件的副本（{exc.message}）：数据库未升级",
                f"could not keep a copy of the store before upgrading its schema ({exc.message_en}): "
                "nothing was upgraded",
            ) from exc
        finally:
            reader.close()
        return kept

    def backup(self, dest: Path) -> None:
        """A consistent copy of the store at ``dest``, safe while others write (SQLite's online
        backup: a file copy taken mid-write can be corrupt, and misses a crashed writer's journal),
        checked, then renamed into place so ``dest`` is never half written."""
        from gridgov.errors import UserError

        dest = Path(dest)
        if dest.resolve() == self.path.resolve():
            raise UserError("备份文件不能是数据库文件本身", "the backup cannot be the store file itself")
        if not dest.parent.is_dir():
            raise UserError(f"备份位置 {dest.parent.resolve()} 不是已有的文件夹：先创建它，或换一个位置",
                            f"the backup's folder {dest.parent.resolve()} does not exist: create it or choose another")
        self._copy_to(dest)

    def _copy_to(self, dest: Path, *, source: sqlite3.Connection | None = None) -> None:
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")
        try:
            target = sqlite3.connect(tmp)
            try:
                (source or self._conn).backup(target)
                verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                target.close()
            if verdict != "ok":
                raise StoreError(f"备份校验失败：{verdict}", f"the backup failed its integrity check: {verdict}")
            # As private as the store (names, phones, password hashes): under umask 022 a store
            # kept at 0600 had a copy every local user could read.
            os.chmod(tmp, self.path.stat().st_mode & 0o777)
            os.replace(tmp, dest)
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from exc
        except OSError as exc:
            raise StoreError(f"无法写入备份 {dest}：{exc}", f"cannot write the backup {dest}: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)

    # -- solve locks ----------------------------------------------------------------------------
    # A lock is a row of the ``locks`` layer, written in its own short BEGIN IMMEDIATE transaction
    # (one writer at a time, so check-then-insert is atomic across processes). SQLite has no
    # session whose end frees the row, so a holder proves it is alive: a thread refreshes
    # ``heartbeat_at`` every LOCK_STALE_S / 4 on its own connection. A row may be taken over
    # when its process is gone (same host, pid not running: a SIGKILL) or its heartbeat is
    # older than LOCK_STALE_S (another host, a hung process).
    LOCK_STALE_S = 120.0

    def _stale(self, row: dict[str, Any]) -> bool:
        beat = row.get("heartbeat_at") or row.get("acquired_at")
        if beat is None or beat < now_utc() - timedelta(seconds=self.LOCK_STALE_S):
            return True
        if row.get("host") == socket.gethostname() and row.get("pid") is not None:
            return not _pid_alive(int(row["pid"]))
        return False

    def _try_locks(self, resources: list[str], *, owner: str) -> tuple[str, str | None] | None:
        token = self._token
        with self.transaction():
            for row in self.load("locks", where={"resource": resources}).to_dict("records"):
                if row["token"] != token and not self._stale(row):
                    return str(row["resource"]), str(row["owner"])
            now = now_utc()
            self.save("locks", [
                {"resource": r, "owner": owner, "token": token, "host": socket.gethostname(),
                 "pid": os.getpid(), "acquired_at": now, "heartbeat_at": now}
                for r in resources
            ])
        self._start_heartbeat()
        return None

    def _release_locks(self, resources: list[str]) -> None:
        if not self._held:
            self._stop_heartbeat()
        try:
            with self.transaction():
                self._execute(
                    f"DELETE FROM locks WHERE token = ? AND resource IN ({', '.join('?' * len(resources))})",
                    (self._token, *resources),
                )
        except StoreError:  # the rows go stale without a heartbeat and are taken over then
            log.warning("ward locks not released; they expire after %s s", self.LOCK_STALE_S)

    def _start_heartbeat(self) -> None:
        if self._beat is not None:
            return
        stop = threading.Event()
        self._beat_stop = stop
        self._beat = threading.Thread(target=self._heartbeat, args=(stop,), name="gridgov-lock-beat", daemon=True)
        self._beat.start()

    def _stop_heartbeat(self) -> None:
        beat = self._beat
        if beat is not None:
            self._beat_stop.set()
            beat.join(timeout=5)
            self._beat = None

    def _heartbeat(self, stop: threading.Event) -> None:
        """Refresh our lock rows on a connection of this thread's own (sqlite3 objects are not shared)."""
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        try:
            while not stop.wait(self.LOCK_STALE_S / 4):
                try:
                    conn.execute("UPDATE locks SET heartbeat_at = ? WHERE token = ?",
                                 (self._encode_datetime(now_utc()), self._token))
                except sqlite3.DatabaseError as exc:
                    log.warning("lock heartbeat not written: %s", exc)
        finally:
            conn.close()

    # -- value coding ---------------------------------------------------------------------------
    def _encode_geom(self, geom: BaseGeometry) -> Any:
        return encode_gpkg_geometry(geom)

    def _decode_geom(self, value: Any) -> BaseGeometry | None:
        return decode_gpkg_geometry(value)

    def _encode_bool(self, value: bool) -> Any:
        return int(value)

    def _encode_date(self, value: date) -> Any:
        return value.isoformat()

    def _encode_datetime(self, value: datetime) -> Any:
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _meta_get(self, key: str) -> str | None:
        exists = self._query("SELECT 1 FROM sqlite_master WHERE type='table' AND name='gridgov_meta'")
        if not exists:
            return None
        rows = self._query("SELECT value FROM gridgov_meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    # -- schema ---------------------------------------------------------------------------------
    def _prepare_schema(self) -> None:
        """The GeoPackage core tables, so the file is a GeoPackage before any layer exists."""
        from pyproj import CRS

        self._execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
        self._execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
        self._execute(
            "CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, "
            "srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL, "
            "organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)"
        )
        srs = [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", None),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", None),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, CRS.from_epsg(4326).to_wkt("WKT1_GDAL"), None),
            ("China Geodetic Coordinate System 2000", _SRS_ID, "EPSG", _SRS_ID,
             CRS.from_epsg(_SRS_ID).to_wkt("WKT1_GDAL"), "CGCS2000"),
        ]
        self._executemany("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", srs)
        self._execute(
            "CREATE TABLE IF NOT EXISTS gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, "
            "data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', "
            "last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), "
            "min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, "
            "CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))"
        )
        self._execute(
            "CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (table_name TEXT NOT NULL, "
            "column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, "
            "z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY "
            "(table_name, column_name), CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES "
            "gpkg_contents(table_name), CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES "
            "gpkg_spatial_ref_sys (srs_id))"
        )

    def _table_columns(self, table: str) -> set[str]:
        return {row[1] for row in self._query(f"PRAGMA table_info({table})")}

    def _sql_type(self, kind: str) -> str:
        return _SQL_TYPES[kind]

    def _ddl(self, layer: Layer) -> list[str]:
        cols: list[str] = []
        if layer.autoincrement:
            cols.append(f"{layer.key[0]} INTEGER PRIMARY KEY AUTOINCREMENT")
        else:
            cols.append("fid INTEGER PRIMARY KEY AUTOINCREMENT")  # GeoPackage wants an integer key
        for c in layer.columns:
            if layer.autoincrement and c.name == layer.key[0]:
                continue
            not_null = " NOT NULL" if c.required or c.name in layer.key else ""
            cols.append(f"{c.name} {_SQL_TYPES[c.kind]}{not_null}")
        if layer.geometry:
            cols.append(f"{GEOM_COL} {layer.geometry}")
        if not layer.autoincrement:
            cols.append(f"UNIQUE ({', '.join(layer.key)})")
        stmts = [f"CREATE TABLE {layer.name} ({', '.join(cols)})"]
        return stmts + self._secondary_indexes(layer)

    def _after_create(self, layer: Layer) -> None:
        data_type = "features" if layer.geometry else "attributes"
        self._execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
            "VALUES (?, ?, ?, ?, ?)",
            (layer.name, data_type, layer.name, layer.label, _SRS_ID if layer.geometry else None),
        )
        if layer.geometry:
            self._execute(
                "INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
                (layer.name, GEOM_COL, layer.geometry, _SRS_ID),
            )


def _pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` runs on this host (signal 0 checks without signalling)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True
