"""Fixtures over the hand-made city (api_city.py), once per store backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_city import USERS, TestClient, make_client, seed_city, token

from gridgov.store import open_store


@pytest.fixture
def city(store_url: str) -> str:
    """The URL of a store holding the seeded city with a published plan."""
    with open_store(store_url, create=True) as store:
        seed_city(store)
    return store_url


@pytest.fixture
def client(city: str) -> Iterator[TestClient]:
    with make_client(city) as c:
        yield c


@pytest.fixture
def auth(client: TestClient) -> dict[str, dict[str, str]]:
    """Authorization headers per user name."""
    return {u: {"Authorization": f"Bearer {token(client, u)}"} for u in USERS}
