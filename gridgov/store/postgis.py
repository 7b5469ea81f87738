"""The server store: PostgreSQL + PostGIS through psycopg2, GIST indexes, one transaction per write."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from gridgov.errors import MissingExtraError, StoreError, StoreUnavailableError
from gridgov.schema import Layer
from gridgov.store.base import GEOM_COL, SqlStore

_SRID = 4490
_SQL_TYPES = {
    "text": "TEXT", "int": "BIGINT", "float": "DOUBLE PRECISION", "bool": "BOOLEAN",
    "date": "DATE", "datetime": "TIMESTAMPTZ", "json": "JSONB",
}
_GEOM_TYPES = {"MULTIPOLYGON": "MultiPolygon", "POINT": "Point"}


def _redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class PostGISStore(SqlStore):
    """A PostgreSQL database with PostGIS; the schema is created and upgraded by migrations."""

    _ph = "%s"

    def __init__(self, url: str, *, create: bool = False) -> None:
        super().__init__()
        try:
            import psycopg2  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise MissingExtraError("psycopg2", "postgis") from exc
        self._dsn = url
        self.url = _redact(url)
        self._conn: Any = None
        self._connect()
        self._migrate(create=create)

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

    def _cursor(self) -> Any:
        if self._conn is None or self._conn.closed:
            if self._depth > 0:
                raise StoreUnavailableError(
                    f"与数据库 {self.url} 的连接在事务中断开；事务已回滚",
                    f"the connection to {self.url} was lost inside a transaction; it was rolled back",
                )
            self._connect()
        return self._conn.cursor()

    def _run(self, fn: Any) -> Any:
        import psycopg2

        try:
            return fn(self._cursor())
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            raise self._unavailable(exc) from exc
        except psycopg2.Error as exc:
            raise StoreError(
                f"数据库 {self.url} 拒绝了写入：{str(exc).strip()}（已回滚）",
                f"the database {self.url} refused the operation: {str(exc).strip()} (rolled back)",
            ) from exc

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
        self._execute("COMMIT")

    def _rollback(self) -> None:
        if self._conn is not None and not self._conn.closed:
            try:
                self._conn.cursor().execute("ROLLBACK")
            except Exception:  # the connection died: the server has rolled back already
                self._conn.close()

    def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            self._conn.close()

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
