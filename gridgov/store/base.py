"""The store contract and the SQL shared by both backends; a backend supplies only its dialect."""

from __future__ import annotations

import json
import logging
import math
import re
import time
from pathlib import Path
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Any, Protocol, runtime_checkable

import geopandas as gpd
import pandas as pd
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gridgov.errors import LockedError, NotFoundError, SchemaVersionError, UserError
from gridgov.geo.crs import STORAGE_CRS
from gridgov.schema import LAYERS, Column, Layer
from gridgov.store.migrations import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

Where = Mapping[str, Any]  # column -> value, or a list/tuple/set of values (IN)
Frame = pd.DataFrame | gpd.GeoDataFrame
GEOM_COL = "geom"


@runtime_checkable
class Store(Protocol):
    """What every backend offers. Every write is atomic; ``transaction`` groups several."""

    url: str

    def transaction(self) -> Any: ...
    def load(self, layer: str, *, where: Where | None = None, order_by: str | None = None,
             columns: Sequence[str] | None = None) -> Frame: ...
    def rows(self, layer: str, *, where: Where | None = None, order_by: str | None = None,
             columns: Sequence[str] | None = None) -> list[dict[str, Any]]: ...
    def save(self, layer: str, rows: Frame | Iterable[Mapping[str, Any]]) -> int: ...
    def insert(self, layer: str, row: Mapping[str, Any]) -> int: ...
    def update(self, layer: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> int: ...
    def delete(self, layer: str, *, where: Where | None = None) -> int: ...
    def count(self, layer: str, *, where: Where | None = None) -> int: ...
    def schema_version(self) -> int: ...
    def snapshot(self) -> Any: ...
    def revisions(self) -> dict[str, int]: ...
    def ledger_high_water(self) -> int: ...
    def lock_rows(self, layer: str, where: Where, *, shared: bool = False) -> None: ...
    def lock_keys(self, layer: str) -> None: ...
    def ward_locks(self, codes: Iterable[str], *, owner: str, wait: float = 0.0) -> Any: ...
    def close(self) -> None: ...
    def backup(self, dest: Path) -> None: ...
    def write_problem(self) -> str | None: ...


_REVISIONS_SINCE = 4  # the schema version that added gridgov_revisions


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# A NUL as JSON writes it (\u0000 after an even run of backslashes); PostgreSQL's jsonb refuses it.
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def _no_nul(col: Column, text: str) -> str:
    """PostgreSQL cannot store NUL in text; refuse it on both backends alike, naming the field.
    Text that only reads like one (a backslash and u0000 typed as such) is stored as typed."""
    if "\x00" in text or (col.kind == "json" and _JSON_NUL.search(text)):
        raise UserError(
            f"字段 {col.label}（{col.name}）含有空字符（NUL），请删除后重试",
            f"the field {col.name} contains a NUL character: remove it and try again",
        )
    return text


def _promote(geom: BaseGeometry, layer: Layer) -> BaseGeometry:
    if layer.geometry == "MULTIPOLYGON" and isinstance(geom, Polygon):
        return MultiPolygon([geom])
    return geom


class SqlStore:
    """Everything both backends share: DML, value coding, transactions and migrations.

    A subclass provides the connection and the dialect hooks below (``_ph``, ``_ddl``,
    ``_geom_*``, ``_encode_*``/``_decode_*``); nothing above this class knows which it is.
    """

    url: str
    _ph = "?"

    def __init__(self) -> None:
        self._depth = 0
        self._held: dict[str, int] = {}  # ward lock resource -> how many nested holds
        self._written: set[str] = set()  # layers written in the open transaction
        self._revisioned: bool | None = None  # has gridgov_revisions (schema 4 on); read once
        # (schema version before, the copy kept of the store as it was or None) when opening
        # this store upgraded it; the CLI says so.
        self.upgraded_from: tuple[int, Path | None] | None = None

    # Seconds between two tries while ``ward_locks(wait=…)`` waits for a busy ward.
    LOCK_POLL_S = 0.2

    # -- dialect hooks -------------------------------------------------------------------------
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _begin(self) -> None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def _begin_snapshot(self) -> None:
        """Start a read-only transaction whose reads all see one committed state."""
        raise NotImplementedError

    def _try_locks(self, resources: list[str], *, owner: str) -> tuple[str, str | None] | None:
        """Take every resource or none; None when taken, else (the busy resource, its holder if known)."""
        raise NotImplementedError

    def _release_locks(self, resources: list[str]) -> None:
        """Give the resources back; a lost connection has given them back already."""
        raise NotImplementedError

    def _geom_param_sql(self) -> str:
        return self._ph

    def _geom_select_sql(self) -> str:
        return GEOM_COL

    def _encode_geom(self, geom: BaseGeometry) -> Any:
        raise NotImplementedError

    def _decode_geom(self, value: Any) -> BaseGeometry | None:
        raise NotImplementedError

    def _encode_bool(self, value: bool) -> Any:
        return bool(value)

    def _encode_date(self, value: date) -> Any:
        return value

    def _encode_datetime(self, value: datetime) -> Any:
        return value

    def _meta_get(self, key: str) -> str | None:
        raise NotImplementedError

    def _ddl(self, layer: Layer) -> list[str]:
        raise NotImplementedError

    def _prepare_schema(self) -> None:
        """Backend set-up before the first migration (GeoPackage core tables, the PostGIS extension)."""

    def _after_create(self, layer: Layer) -> None:
        """Backend bookkeeping after a layer's table exists (GeoPackage registers it)."""

    @staticmethod
    def _secondary_indexes(layer: Layer) -> list[str]:
        """CREATE INDEX statements for the lookup columns both backends index."""
        return [
            f"CREATE INDEX {layer.name}_{col} ON {layer.name} ({col})"
            for col in ("ward_code", "county_code", "plan_id")
            if col in layer.column_names and col != layer.key[0]
        ]

    # -- transactions ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them happen or none. Nested calls join the outer transaction."""
        if self._depth == 0:
            self._written.clear()
            self._begin()
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._written.clear()
                self._rollback()
            raise
        if self._depth == 1:
            try:
                self._bump_revisions()
                # Still inside (depth 1): a backend must not retry a COMMIT on a new connection.
                self._commit()
            except BaseException:
                # A COMMIT that failed may leave the transaction open (SQLite when busy):
                # end it, so the next call starts clean instead of joining a dead transaction.
                self._depth = 0
                self._rollback()
                raise
        self._depth -= 1

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Group reads: all of them see one committed state, even while another process writes.

        Inside a transaction the reads already share one (this joins it).
        """
        if self._depth > 0:
            yield
            return
        self._begin_snapshot()
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            self._rollback()  # nothing was written: ending the read transaction is all

    def revisions(self) -> dict[str, int]:
        """layer -> revision: a number that grows with every committed write to the layer."""
        return {str(k): int(v) for k, v in self._query("SELECT layer, revision FROM gridgov_revisions")}

    def _bump_revisions(self) -> None:
        # Last statement before COMMIT, layers in sorted order: two writers wait for each
        # other's revision rows only while committing, never in a cycle.
        written, self._written = sorted(self._written), set()
        if written and self._revisioned is None:
            self._revisioned = self.schema_version() >= _REVISIONS_SINCE
        if not self._revisioned:
            return  # a store written as an older gridgov did (tests of upgrades)
        for layer in written:  # an upsert: a layer added by a later migration gets its row here
            self._execute(f"INSERT INTO gridgov_revisions (layer, revision) VALUES ({self._ph}, 1) "
                          "ON CONFLICT (layer) DO UPDATE SET revision = gridgov_revisions.revision + 1",
                          (layer,))

    # -- solve locks ----------------------------------------------------------------------------
    @contextmanager
    def ward_locks(self, codes: Iterable[str], *, owner: str, wait: float = 0.0) -> Iterator[None]:
        """Hold the wards ``codes`` for one solve, across processes and app instances.

        Raises ``LockedError`` naming a busy ward when another store holds it after ``wait``
        seconds (0: do not wait). Wards are taken in sorted order, all or none, so two solves
        never hold parts of each other's scope. Holding them again on the same store nests.
        Call it outside a transaction: the GeoPackage lock is a row other processes must see.
        """
        resources = [f"ward:{c}" for c in sorted(set(codes))]
        new = [r for r in resources if r not in self._held]
        if new:
            if self._depth > 0:
                raise RuntimeError("ward_locks must be taken outside a transaction")
            deadline = time.monotonic() + max(0.0, wait)
            while True:
                busy = self._try_locks(new, owner=owner)
                if busy is None:
                    break
                if time.monotonic() >= deadline:
                    resource, holder = busy
                    raise LockedError(resource.split(":", 1)[1], holder=holder)
                time.sleep(self.LOCK_POLL_S)
        for r in resources:
            self._held[r] = self._held.get(r, 0) + 1
        try:
            yield
        finally:
            for r in resources:
                self._held[r] -= 1
            done = [r for r in resources if self._held[r] == 0]
            for r in done:
                del self._held[r]
            if done:
                self._release_locks(done)

    # -- migrations -----------------------------------------------------------------------------
    def schema_version(self) -> int:
        value = self._meta_get("schema_version")
        return int(value) if value else 0

    def _migrate(self, *, create: bool, upgrade: bool = True) -> None:
        """Bring the store to this gridgov's schema. ``upgrade=False`` only checks (``gridgov
        backup`` copies an older store as it is: the copy taken before installing a new gridgov
        must still open with the old one). Upgrading an existing store first keeps a copy of it
        where the backend can (``_keep_before_upgrade``) and logs the step."""
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"数据库 {self.url} 的结构版本 {version} 比本程序支持的 {SCHEMA_VERSION} 新，请升级 gridgov",
                f"the store {self.url} has schema version {version}, newer than this gridgov's "
                f"{SCHEMA_VERSION}: upgrade gridgov",
            )
        if version == 0 and not create:
            raise NotFoundError(
                f"数据库 {self.url} 尚未初始化：请先运行 gridgov init 或 gridgov demo",
                f"the store {self.url} is not initialised: run gridgov init or gridgov demo first",
            )
        if version == SCHEMA_VERSION or not upgrade:
            return
        with self.transaction():
            self._serialise_migrations()
            version = self.schema_version()  # another process may have migrated while this one waited
            if version == SCHEMA_VERSION:
                return
            if version == 0:
                self._prepare_schema()
            else:
                self.upgraded_from = (version, self._keep_before_upgrade(version))
            for target, step in MIGRATIONS:
                if target > version:
                    step(self)
            self._execute(
                f"UPDATE gridgov_meta SET value = {self._ph} WHERE key = 'schema_version'",
                (str(SCHEMA_VERSION),),
            )
        if self.upgraded_from is not None:
            before, kept = self.upgraded_from
            log.warning("store %s upgraded from schema version %d to %d; %s", self.url, before, SCHEMA_VERSION,
                        f"the store as it was is kept in {kept}" if kept else "no copy was kept by gridgov")

    def continue_ids(self, layer: str) -> None:
        """After rows were written with their own ids (a copy), new rows of ``layer`` get ids
        after the largest; SQLite's AUTOINCREMENT already follows explicit ids."""

    def _keep_before_upgrade(self, version: int) -> Path | None:
        """Inside the upgrade's transaction, before any change: a copy of the store as it is
        (schema ``version``), or None where gridgov cannot make one (PostgreSQL: pg_dump)."""
        return None

    def _serialise_migrations(self) -> None:
        """Inside the migration's transaction: wait for any other process migrating this store
        (SQLite's IMMEDIATE transaction already does)."""

    def create_layer(self, layer: Layer) -> None:
        """Create a layer's table and indexes (used by migrations)."""
        for stmt in self._ddl(layer):
            self._execute(stmt)
        self._after_create(layer)

    def lock_keys(self, layer: str) -> None:
        """Inside a transaction: hold the right to add rows to ``layer`` until it ends. A row
        another transaction has inserted but not committed is invisible to a check, so two
        imports adding the same new worker id both saw none and the second replaced the first.
        SQLite has one writer at a time: nothing more to do; PostgreSQL takes an advisory lock."""

    def lock_rows(self, layer: str, where: Where, *, shared: bool = False) -> None:
        """Inside a transaction: hold the rows matching ``where`` until it ends, so a check made
        on them stays true until the write that depends on it commits (``shared``: other readers
        that lock too may hold them as well, writers wait). SQLite has one writer at a time and a
        transaction here begins IMMEDIATE, so there is nothing more to do; PostgreSQL locks."""

    def ledger_high_water(self) -> int:
        """The newest committed ledger entry's id such that no smaller id can still commit later
        (0 for an empty ledger). SQLite has one writer at a time, so its largest committed id is
        that already; PostgreSQL waits for the ledger's writers in flight (see PostgisStore)."""
        return int(self._query("SELECT COALESCE(MAX(entry_id), 0) FROM ledger")[0][0])

    def add_missing_columns(self, layer: Layer, names: Sequence[str]) -> None:
        """Add the layer's columns ``names`` that its table lacks (used by migrations: a store
        created by this version already has them, an older one gets them empty)."""
        have = self._table_columns(layer.name)
        for col in layer.columns:
            if col.name in names and col.name not in have:
                self._execute(f"ALTER TABLE {layer.name} ADD COLUMN {col.name} {self._sql_type(col.kind)}")

    def _table_columns(self, table: str) -> set[str]:
        raise NotImplementedError

    def _sql_type(self, kind: str) -> str:
        raise NotImplementedError

    # -- value coding ---------------------------------------------------------------------------
    def _encode(self, col: Column, value: Any) -> Any:
        if _is_missing(value):
            return None
        kind = col.kind
        if kind == "json":
            return _no_nul(col, json.dumps(value, ensure_ascii=False, default=str))
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            return self._encode_bool(bool(value))
        if kind == "date":
            return self._encode_date(_as_date(value))
        if kind == "datetime":
            return self._encode_datetime(_as_datetime(value))
        return _no_nul(col, str(value))

    @staticmethod
    def _decode(col: Column, value: Any) -> Any:
        if value is None:
            return None
        kind = col.kind
        if kind == "json":
            return json.loads(value) if isinstance(value, str) else value
        if kind == "bool":
            return bool(value)
        if kind == "date":
            return _as_date(value)
        if kind == "datetime":
            return _as_datetime(value)
        if kind == "float":
            return float(value)
        return value

    # -- reads ----------------------------------------------------------------------------------
    def _where_sql(self, layer: Layer, where: Where | None) -> tuple[str, list[Any]]:
        if not where:
            return "", []
        parts: list[str] = []
        params: list[Any] = []
        for name, value in where.items():
            col = layer.column(name)  # KeyError for an unknown column is a programming error
            if isinstance(value, (list, tuple, set, frozenset)):
                values = list(value)
                if not values:
                    parts.append("1 = 0")
                    continue
                parts.append(f"{name} IN ({', '.join([self._ph] * len(values))})")
                params.extend(self._encode(col, v) for v in values)
            elif value is None:
                parts.append(f"{name} IS NULL")
            else:
                parts.append(f"{name} = {self._ph}")
                params.append(self._encode(col, value))
        return " WHERE " + " AND ".join(parts), params

    def _select(
        self, layer: str, where: Where | None, order_by: str | None, columns: Sequence[str] | None
    ) -> tuple[list[Column], bool, list[tuple[Any, ...]]]:
        """The columns read, whether geometry is read (last), and the raw rows."""
        spec = LAYERS[layer]
        wanted = [c for c in spec.columns if columns is None or c.name in columns]
        with_geom = spec.geometry is not None and (columns is None or "geometry" in columns)
        select = ", ".join([c.name for c in wanted] + ([self._geom_select_sql()] if with_geom else [])) or "1"
        where_sql, params = self._where_sql(spec, where)
        order = order_by or ", ".join(spec.key)
        return wanted, with_geom, self._query(f"SELECT {select} FROM {layer}{where_sql} ORDER BY {order}", params)

    def load(
        self,
        layer: str,
        *,
        where: Where | None = None,
        order_by: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> Frame:
        """Rows of ``layer`` (a GeoDataFrame in EPSG:4490 for geometry layers), ordered by key.

        ``columns`` reads only those (a plain DataFrame unless "geometry" is among them): hot
        paths that need codes should not decode polygons.
        """
        wanted, with_geom, rows = self._select(layer, where, order_by, columns)
        names = [c.name for c in wanted]
        data = {c.name: [self._decode(c, r[i]) for r in rows] for i, c in enumerate(wanted)}
        frame = pd.DataFrame(data, columns=names)
        for c in wanted:
            if c.kind == "int":
                frame[c.name] = frame[c.name].astype("Int64")
        if not with_geom:
            return frame
        geoms = [self._decode_geom(r[-1]) for r in rows]
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=STORAGE_CRS), crs=STORAGE_CRS)

    def rows(
        self,
        layer: str,
        *,
        where: Where | None = None,
        order_by: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Like ``load`` but plain dicts (geometry under "geometry"): no pandas, for request paths."""
        wanted, with_geom, rows = self._select(layer, where, order_by, columns)
        out = []
        for r in rows:
            rec = {c.name: self._decode(c, r[i]) for i, c in enumerate(wanted)}
            if with_geom:
                rec["geometry"] = self._decode_geom(r[-1])
            out.append(rec)
        return out

    def count(self, layer: str, *, where: Where | None = None) -> int:
        spec = LAYERS[layer]
        where_sql, params = self._where_sql(spec, where)
        return int(self._query(f"SELECT COUNT(*) FROM {layer}{where_sql}", params)[0][0])

    # -- writes ---------------------------------------------------------------------------------
    def _rows_of(self, spec: Layer, rows: Frame | Iterable[Mapping[str, Any]]) -> list[list[Any]]:
        if isinstance(rows, pd.DataFrame):
            if spec.geometry and isinstance(rows, gpd.GeoDataFrame) and rows.crs is not None:
                from gridgov.geo.crs import to_storage

                rows = to_storage(rows)
            records: Iterable[Mapping[str, Any]] = rows.to_dict("records")
            geom_key = rows.geometry.name if isinstance(rows, gpd.GeoDataFrame) else "geometry"
        else:
            records = rows
            geom_key = "geometry"
        out: list[list[Any]] = []
        for rec in records:
            values = [self._encode(c, rec.get(c.name)) for c in spec.columns]
            if spec.geometry:
                geom = rec.get(geom_key)
                values.append(None if geom is None else self._encode_geom(_promote(geom, spec)))
            out.append(values)
        return out

    def _insert_sql(self, spec: Layer, names: list[str], *, upsert: bool) -> str:
        holders = [self._ph] * len(names)
        if spec.geometry:
            names = [*names, GEOM_COL]
            holders.append(self._geom_param_sql())
        sql = f"INSERT INTO {spec.name} ({', '.join(names)}) VALUES ({', '.join(holders)})"
        if upsert:
            updates = [n for n in names if n not in spec.key]
            sets = ", ".join(f"{n} = excluded.{n}" for n in updates)
            sql += f" ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {sets}"
        return sql

    def save(self, layer: str, rows: Frame | Iterable[Mapping[str, Any]]) -> int:
        """Insert or update rows by key, atomically; returns how many rows were written."""
        spec = LAYERS[layer]
        values = self._rows_of(spec, rows)
        if not values:
            return 0
        with self.transaction():
            self._written.add(layer)
            self._executemany(self._insert_sql(spec, spec.column_names, upsert=True), values)
        return len(values)

    def insert(self, layer: str, row: Mapping[str, Any]) -> int:
        """Insert one row into an autoincrement layer (plans, ledger); returns its new id."""
        spec = LAYERS[layer]
        names = [c for c in spec.column_names if c not in spec.key]
        cols = [spec.column(n) for n in names]
        params = [self._encode(c, row.get(c.name)) for c in cols]
        if spec.geometry:
            geom = row.get("geometry")
            params.append(None if geom is None else self._encode_geom(_promote(geom, spec)))
        sql = self._insert_sql(spec, names, upsert=False) + f" RETURNING {spec.key[0]}"
        with self.transaction():
            self._written.add(layer)
            return int(self._query(sql, params)[0][0])

    def update(self, layer: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> int:
        """Set ``values`` on the rows matching ``key``; returns how many rows changed."""
        spec = LAYERS[layer]
        sets = ", ".join(f"{n} = {self._ph}" for n in values)
        params = [self._encode(spec.column(n), v) for n, v in values.items()]
        where_sql, where_params = self._where_sql(spec, key)
        with self.transaction():
            self._written.add(layer)
            cur = self._execute(f"UPDATE {layer} SET {sets}{where_sql}", [*params, *where_params])
        return int(cur.rowcount)

    def delete(self, layer: str, *, where: Where | None = None) -> int:
        """Delete the rows matching ``where`` (all rows when None); returns how many."""
        spec = LAYERS[layer]
        where_sql, params = self._where_sql(spec, where)
        with self.transaction():
            self._written.add(layer)
            cur = self._execute(f"DELETE FROM {layer}{where_sql}", params)
        return int(cur.rowcount)

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError

    def backup(self, dest: Path) -> None:
        """A consistent copy of the whole store in the file ``dest`` (GeoPackage). A PostgreSQL
        database is backed up with its own tools, which keep roles, extensions and indexes."""
        from gridgov.errors import UserError

        raise UserError(
            "PostgreSQL 数据库请用 pg_dump 备份：pg_dump -Fc -f gridgov.dump 数据库地址；恢复到新建的空数据库："
            "createdb 新库名 && pg_restore --no-owner -d 新库地址 gridgov.dump，再把 GRIDGOV_DB 指向它（见 README 部署一节）",
            "back up a PostgreSQL store with pg_dump: pg_dump -Fc -f gridgov.dump URL; restore into a new, empty "
            "database: createdb NEWDB && pg_restore --no-owner -d NEWURL gridgov.dump, then point GRIDGOV_DB at it "
            "(README, Deployment)",
        )
