"""Fault fixtures: a PostgreSQL proxy that fails on demand, a seeded city behind it, statement-triggered faults."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from faultkit import api_city
from pgproxy import PgProxy

from gridgov.store import open_store
from gridgov.store.postgis import PostGISStore


@pytest.fixture
def proxy() -> Iterator[PgProxy]:
    """A proxy in front of the test server (GRIDGOV_TEST_PG, as in tests/conftest.py)."""
    url = urlsplit(os.environ.get("GRIDGOV_TEST_PG", "postgresql://postgres@127.0.0.1:5432/gridgov_test"))
    p = PgProxy((url.hostname or "127.0.0.1", url.port or 5432))
    yield p
    p.close()


@pytest.fixture
def pg_city(pg_url: str) -> str:
    """The direct (not proxied) URL of a PostGIS schema holding the seeded city with a published plan."""
    with open_store(pg_url, create=True) as store:
        api_city().seed_city(store)
    return pg_url


@pytest.fixture
def via_proxy(pg_city: str, proxy: PgProxy) -> str:
    """The same city reached through the proxy."""
    return proxy.url(pg_city)


@pytest.fixture
def admin_conn(pg_city: str) -> Iterator[Any]:
    import psycopg2

    conn = psycopg2.connect(pg_city, connect_timeout=5)
    conn.autocommit = True
    yield conn
    conn.close()


FaultHook = Callable[[str, Callable[[PostGISStore], None]], dict[str, int]]


@pytest.fixture
def fault_on(monkeypatch: pytest.MonkeyPatch) -> FaultHook:
    """``fault_on(fragment, action)``: run ``action(store)`` once, just before the first statement
    containing ``fragment`` goes to the server — a fault at an exact point of a transaction."""

    def arm(fragment: str, action: Callable[[PostGISStore], None]) -> dict[str, int]:
        fired = {"n": 0}
        execute, executemany = PostGISStore._execute, PostGISStore._executemany

        def fire(store: PostGISStore, sql: str) -> None:
            if fragment in sql and not fired["n"]:
                fired["n"] += 1
                action(store)

        def _execute(self: PostGISStore, sql: str, params: Any = ()) -> Any:
            fire(self, sql)
            return execute(self, sql, params)

        def _executemany(self: PostGISStore, sql: str, rows: Any) -> None:
            fire(self, sql)
            executemany(self, sql, rows)

        monkeypatch.setattr(PostGISStore, "_execute", _execute)
        monkeypatch.setattr(PostGISStore, "_executemany", _executemany)
        return fired

    return arm
