"""Schema migrations: an ordered list of steps, each run once, in one transaction, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gridgov.schema import LAYERS

if TYPE_CHECKING:
    from gridgov.store.base import SqlStore


def _v1_initial(store: SqlStore) -> None:
    store._execute("CREATE TABLE IF NOT EXISTS gridgov_meta (key TEXT PRIMARY KEY, value TEXT)")
    store._execute("INSERT INTO gridgov_meta (key, value) VALUES ('schema_version', '0')")
    for layer in LAYERS.values():
        store.create_layer(layer)


# (version reached, step). Append new steps; never edit a released one.
MIGRATIONS: list[tuple[int, Callable[[SqlStore], None]]] = [
    (1, _v1_initial),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
