"""Shared fixtures: a store over both backends (PostGIS for real: fails, never skips, when absent)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pandas as pd
import pytest

from gridgov.store import SqlStore, open_store
from gridgov.schema import LAYERS

PG_URL = os.environ.get("GRIDGOV_TEST_PG", "postgresql://postgres@127.0.0.1:5432/gridgov_test")


def _pg_admin():
    import psycopg2

    try:
        conn = psycopg2.connect(PG_URL, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        pytest.fail(
            f"PostGIS test database unreachable at {PG_URL} ({exc}). Run .ci/run or set "
            "GRIDGOV_TEST_PG; PostGIS tests fail rather than skip.",
            pytrace=False,
        )
    conn.autocommit = True
    return conn


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a fresh, empty PostgreSQL schema in the test database, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
        if cur.fetchone() is None:
            pytest.fail(f"the database {PG_URL} has no postgis extension", pytrace=False)
        cur.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema},public')}"
    with admin.cursor() as cur:
        cur.execute(f"DROP SCHEMA {schema} CASCADE")
    admin.close()


@pytest.fixture(params=["gpkg", "postgis"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """The URL of a new store, once per backend."""
    if request.param == "gpkg":
        return str(tmp_path / "store.gpkg")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """An initialised, empty store, once per backend."""
    s = open_store(store_url, create=True)
    yield s
    s.close()


def store_fingerprint(store: SqlStore) -> str:
    """A hash of every row of every layer: equal fingerprints mean an unchanged store."""
    h = hashlib.sha256()
    for name in LAYERS:
        loaded = store.load(name)
        frame = pd.DataFrame(loaded)
        if "geometry" in frame:
            frame["geometry"] = loaded.geometry.to_wkb(hex=True)
        h.update(name.encode())
        values = frame.to_json(orient="values", date_format="iso", force_ascii=False)
        h.update(values.encode())
    return h.hexdigest()


@pytest.fixture
def fingerprint():
    """The ``store_fingerprint`` function, for tests that check a store is unchanged."""
    return store_fingerprint

