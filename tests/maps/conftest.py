"""Map test fixtures: the hand-made lattice store (GeoPackage), built once per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lattice import build_store

from gridgov.store import SqlStore


@pytest.fixture(scope="module")
def map_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlStore]:
    """GeoPackage store: plan 1 published (G01 uncovered), plan 2 a draft, a published studio plan."""
    store = build_store(tmp_path_factory.mktemp("maps") / "maps.gpkg")
    yield store
    store.close()
