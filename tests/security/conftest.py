"""Fixtures for the security tests: the API tests' hand-made city, seeded once per module and backend.

Seeding solves and publishes a plan, so the fuzz and injection sweeps share one city per module
rather than one per case (they would take minutes on 2 cores otherwise).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

PG_URL = os.environ.get("GRIDGOV_TEST_PG", "postgresql://postgres@127.0.0.1:5432/gridgov_test")


from seckit import city


def _pg_schema_url() -> Iterator[str]:
    """A fresh schema in the PostGIS test database (fails, never skips, when it is away)."""
    import psycopg2

    try:
        admin = psycopg2.connect(PG_URL, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostGIS test database unreachable at {PG_URL} ({exc})", pytrace=False)
    admin.autocommit = True
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema},public')}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


@pytest.fixture(scope="module", params=["postgis", "gpkg"])
def city_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A store holding the seeded city with a published plan, once per backend and module."""
    from gridgov.store import open_store

    if request.param == "gpkg":
        gen: Iterator[str] = iter([str(tmp_path_factory.mktemp("sec") / "store.gpkg")])
    else:
        gen = _pg_schema_url()
    url = next(gen)
    with open_store(url, create=True) as store:
        city.seed_city(store)
    yield url
    for _ in gen:  # drops the PostGIS schema
        pass


@pytest.fixture(scope="module")
def sec_client(city_url: str):
    with city.make_client(city_url) as client:
        yield client


@pytest.fixture(scope="module")
def sec_auth(sec_client) -> dict[str, dict[str, str]]:
    """Authorization headers per user name (signed in through the login route)."""
    return {u: {"Authorization": f"Bearer {city.token(sec_client, u)}"} for u in city.USERS}
