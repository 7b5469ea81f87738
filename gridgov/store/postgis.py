"""The server store: PostgreSQL + PostGIS through psycopg2, GIST indexes, one transaction per write."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from gridgov.errors import MissingExtraError, StoreError, StoreUnavailableError
from gridgov.schema import LAYERS, Layer
from gridgov.store.base import GEOM_COL, SqlStore, Where

log = logging.getLogger(__name__)

_SRID = 4490
_MIGRATION_LOCK = 0x67726964676F76  # "gridgov": the advisory lock migrations take
_KEYS_LOCK = 0x6767  # with a layer's hash: the advisory lock of adding keys to that layer
# SQLSTATE classes meaning the connection itself is gone: 08 connection exception, 57P01-03
# the server shut down or terminated this backend (pg_terminate_backend).
_LOST_STATES = ("08", "57P01", "57P02", "57P03")
_SQL_TYPES = {
    "text": "TEXT", "int": "BIGINT", "float": "DOUBLE PRECISION", "bool": "BOOLEAN",
    "date": "DATE", "datetime": "TIMESTAMPTZ", "json": "JSONB",
}
_GEOM_TYPES = {"MULTIPOLYGON": "MultiPolygon", "POINT": "Point"}


def _redact(url: str) -> str:
    """The URL without its password (``user:pw@`` or libpq's ``?password=``), for messages and logs."""
    import re
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    query = re.sub(r"(?i)(^|&)(password|sslpassword)=[^&]*", r"\1\2=***", parts.query)
    return urlunsplit(parts._replace(query=query))


class PostGISStore(SqlStore):
    """A PostgreSQL database with PostGIS; the schema is created and upgraded by migrations."""

    _ph = "%s"

    def __init__(self, url: str, *, create: bool = False, upgrade: bool = True) -> None:
        super().__init__()
        try:
            import psycopg2  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise MissingExtraError("psycopg2", "postgis") from exc
        self._dsn = url
        self.url = _redact(url)
        self._conn: Any = None
        self._sticky = False  # True while statements must stay on one session (taking locks)
        self._connect()
        self._migrate(create=create, upgrade=upgrade)

    def _connect(self) -> None:
        import psycopg2

        try:
            self._conn = psycopg2.connect(self._dsn, connect_timeout=10)
        except psycopg2.OperationalError as exc:
            raise self._unavailable(exc) from exc
        # We issue BEGIN/COMMIT ourselves: reads outside a transaction must not hold one open.
        self._conn.autocommit = True

    def _unavailable(self, exc: Exception) -> StoreUnavailableError:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StoreUnavailableError(
            f"无法连接数据库 {self.url}：{detail}。请确认 PostgreSQL 已启动、地址正确；本次操作未写入任何数据",
            f"cannot reach the database {self.url}: {detail}. Check that PostgreSQL is running and "
            "the URL is right; nothing was written",
        )

    def _lost(self, exc: Exception) -> bool:
        """Whether ``exc`` means the connection is gone (not a refused statement, a deadlock …)."""
        import psycopg2

        if isinstance(exc, psycopg2.InterfaceError) or self._conn is None or self._conn.closed:
            return True
        code = getattr(exc, "pgcode", None)
        return code is None or code.startswith(_LOST_STATES)

    def _drop(self) -> None:
        """Forget a dead connection so the next call opens a new one."""
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # closing a broken socket may fail too; it is gone either way
                pass
        self._conn = None

    def _locks_lost(self) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"与数据库 {self.url} 的连接中断，求解持有的街道锁已随之释放；本次求解未保存，请稍后重试",
            f"the connection to {self.url} was lost and with it this solve's ward locks; "
            "nothing was saved: try again later",
        )

    def _cursor(self) -> Any:
        if self._conn is None or self._conn.closed:
            if self._depth > 0:
                raise StoreUnavailableError(
                    f"与数据库 {self.url} 的连接在事务中断开；事务已回滚",
                    f"the connection to {self.url} was lost inside a transaction; it was rolled back",
                )
            if self._held or self._sticky:
                # The advisory locks died with the old session: reconnecting silently would
                # let this solve save while another one may hold its wards.
                raise self._locks_lost()
            self._connect()
        return self._conn.cursor()

    def _run(self, fn: Any) -> Any:
        import psycopg2

        for attempt in (1, 2):
            reused = self._conn is not None and not self._conn.closed
            try:
                return fn(self._cursor())
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                if not self._lost(exc):
                    raise self._refused(exc) from exc
                self._drop()
                # Outside a transaction a statement is a read or the BEGIN of one: nothing was
                # written, so it is safe to try once more on a new connection. That hides a
                # connection that died while idle (database restarted, a pooled store).
                if attempt == 1 and reused and self._depth == 0 and not (self._held or self._sticky):
                    log.warning("database connection lost while idle; reconnecting")
                    continue
                if self._held or self._sticky:
                    raise self._locks_lost() from exc
                raise self._unavailable(exc) from exc
            except psycopg2.Error as exc:
                raise self._refused(exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _refused(self, exc: Exception) -> StoreError:
        return StoreError(
            f"数据库 {self.url} 拒绝了写入：{str(exc).strip()}（已回滚）",
            f"the database {self.url} refused the operation: {str(exc).strip()} (rolled back)",
        )

    # -- connection hooks -----------------------------------------------------------------------
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        def run(cur: Any) -> Any:
            cur.execute(sql, tuple(params))
            return cur

        return self._run(run)

    def _executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        from psycopg2.extras import execute_batch

        self._run(lambda cur: execute_batch(cur, sql, rows, page_size=500))

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._execute(sql, params).fetchall())

    def _begin(self) -> None:
        self._execute("BEGIN")

    def _commit(self) -> None:
        try:
            self._execute("COMMIT")
        except StoreUnavailableError as exc:
            # The server may have committed before the connection died: say so, not "nothing written".
            raise StoreUnavailableError(
                f"提交时与数据库 {self.url} 的连接中断：这次写入可能已生效也可能未生效（不会只生效一半），"
                "请在数据库恢复后查看再决定是否重做",
                f"the connection to {self.url} was lost while committing: the write either happened "
                "whole or not at all; look once the database is back before redoing it",
            ) from exc

    def _rollback(self) -> None:
        if self._conn is not None and not self._conn.closed:
            try:
                self._conn.cursor().execute("ROLLBACK")
            except Exception:  # the connection died: the server has rolled back already
                self._drop()

    def _begin_snapshot(self) -> None:
        # REPEATABLE READ: every statement of the snapshot sees the state at its first read.
        self._execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            self._conn.close()

    def write_problem(self) -> str | None:
        """Why a write would fail now, for the administrator's log (None: it would not): a
        standby or read-only session, or a role that may not write the tables."""
        read_only, standby, may_write = self._query(
            "SELECT current_setting('transaction_read_only'), pg_is_in_recovery(), "
            "has_table_privilege(current_user, to_regclass('ledger'), 'INSERT')")[0]
        if standby:
            return "the server is a standby (in recovery): it takes no writes"
        if read_only == "on":
            return "the session is read-only (default_transaction_read_only is on)"
        if may_write is False:
            return "the database role may not insert into the store's tables"
        return None

    @property
    def alive(self) -> bool:
        """False once the connection is known to be gone (the next call reconnects)."""
        return self._conn is not None and not self._conn.closed

    # -- solve locks ----------------------------------------------------------------------------
    def _lock_key(self, namespace: str, resource: str) -> int:
        """A signed 64-bit advisory lock key; the namespace keeps two schemas' wards apart."""
        digest = hashlib.blake2b(f"gridgov\0{namespace}\0{resource}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def _namespace(self) -> str:
        db, schema = self._query("SELECT current_database(), current_schema()")[0]
        return f"{db}.{schema}"

    def _try_locks(self, resources: list[str], *, owner: str) -> tuple[str, str | None] | None:
        # Session-level advisory locks on the store's own connection: the server drops them
        # when the session ends, so a killed process or a cut connection never leaves one behind.
        ns = self._namespace()
        taken: list[int] = []
        self._sticky = True  # locks taken on one session must not be retried on another
        try:
            for resource in resources:
                key = self._lock_key(ns, resource)
                if not self._query("SELECT pg_try_advisory_lock(%s)", (key,))[0][0]:
                    for k in taken:
                        self._execute("SELECT pg_advisory_unlock(%s)", (k,))
                    return resource, None
                taken.append(key)
        finally:
            self._sticky = False
        return None

    def _release_locks(self, resources: list[str]) -> None:
        if not self.alive:
            return  # the session ended: the server released them
        try:
            ns = self._namespace()
            for resource in resources:
                self._execute("SELECT pg_advisory_unlock(%s)", (self._lock_key(ns, resource),))
        except StoreError:
            self._drop()  # ending the session releases whatever is still held

    # -- value coding ---------------------------------------------------------------------------
    def _geom_param_sql(self) -> str:
        return f"ST_SetSRID(ST_GeomFromWKB(%s), {_SRID})"

    def _geom_select_sql(self) -> str:
        return f"ST_AsBinary({GEOM_COL})"

    def _encode_geom(self, geom: BaseGeometry) -> Any:
        import psycopg2

        return psycopg2.Binary(shapely.to_wkb(geom, output_dimension=2))

    def _decode_geom(self, value: Any) -> BaseGeometry | None:
        return None if value is None else shapely.from_wkb(bytes(value))

    def _meta_get(self, key: str) -> str | None:
        if self._query("SELECT to_regclass('gridgov_meta')")[0][0] is None:
            return None
        rows = self._query("SELECT value FROM gridgov_meta WHERE key = %s", (key,))
        return rows[0][0] if rows else None

    # -- schema ---------------------------------------------------------------------------------
    def _prepare_schema(self) -> None:
        rows = self._query("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
        if not rows:
            self._execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def lock_rows(self, layer: str, where: Where, *, shared: bool = False) -> None:
        spec = LAYERS[layer]
        where_sql, params = self._where_sql(spec, where)
        mode = "SHARE" if shared else "UPDATE"
        # In key order: two transactions locking overlapping sets queue instead of deadlocking.
        self._query(f"SELECT 1 FROM {layer}{where_sql} ORDER BY {', '.join(spec.key)} FOR {mode}", params)

    def lock_keys(self, layer: str) -> None:
        self._query("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_KEYS_LOCK, layer))

    def continue_ids(self, layer: str) -> None:
        key = LAYERS[layer].key[0]
        self._query(f"SELECT setval(pg_get_serial_sequence('{layer}', '{key}'), COALESCE(MAX({key}), 1), "
                    f"MAX({key}) IS NOT NULL) FROM {layer}")

    def _serialise_migrations(self) -> None:
        # Every pooled connection of a service opens the store at once: without this, two of them
        # run the same ALTER TABLE and the second fails ("column … already exists").
        self._query("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))

    def ledger_high_water(self) -> int:
        # An identity id is taken at INSERT and may commit after a larger one has: SHARE mode
        # waits for every transaction writing the ledger to end (and holds new writers for the
        # instant of the read), so no id at or below the answer can appear afterwards.
        with self.transaction():
            self._execute("LOCK TABLE ledger IN SHARE MODE")
            return int(self._query("SELECT COALESCE(MAX(entry_id), 0) FROM ledger")[0][0])

    def _table_columns(self, table: str) -> set[str]:
        rows = self._query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s", (table,),
        )
        return {row[0] for row in rows}

    def _sql_type(self, kind: str) -> str:
        return _SQL_TYPES[kind]

    def _ddl(self, layer: Layer) -> list[str]:
        cols: list[str] = []
        for c in layer.columns:
            if layer.autoincrement and c.name == layer.key[0]:
                cols.append(f"{c.name} BIGINT GENERATED BY DEFAULT AS IDENTITY")
                continue
            not_null = " NOT NULL" if c.required or c.name in layer.key else ""
            cols.append(f"{c.name} {_SQL_TYPES[c.kind]}{not_null}")
        if layer.geometry:
            cols.append(f"{GEOM_COL} geometry({_GEOM_TYPES[layer.geometry]}, {_SRID})")
        cols.append(f"PRIMARY KEY ({', '.join(layer.key)})")
        stmts = [f"CREATE TABLE {layer.name} ({', '.join(cols)})"]
        if layer.geometry:
            stmts.append(f"CREATE INDEX {layer.name}_geom_gist ON {layer.name} USING GIST ({GEOM_COL})")
        return stmts + self._secondary_indexes(layer)
