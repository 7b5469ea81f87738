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
    for name in ("counties", "wards", "grids", "workers", "incidents", "sites", "plans", "assignments", "ledger"):
        store.create_layer(LAYERS[name])


def _v2_accounts_and_jobs(store: SqlStore) -> None:
    """Accounts for the web service and background jobs that survive a restart."""
    for name in ("users", "jobs"):
        store.create_layer(LAYERS[name])


def _v3_solve_locks(store: SqlStore) -> None:
    """The lock table two solves of one ward meet at (GeoPackage; PostGIS uses advisory locks)."""
    store.create_layer(LAYERS["locks"])


def _v4_revisions(store: SqlStore) -> None:
    """A revision per layer, raised by every committed write to it, so readers (the web
    service's response cache) can tell with one small query whether anything they read changed."""
    store._execute("CREATE TABLE gridgov_revisions (layer TEXT PRIMARY KEY, revision BIGINT NOT NULL)")
    for name in sorted(LAYERS):
        store._execute(f"INSERT INTO gridgov_revisions (layer, revision) VALUES ({store._ph}, 0)", (name,))


def _v5_plan_basis(store: SqlStore) -> None:
    """What a grid plan was solved from: the published plan it carried wards over from and, per
    ward, the last ledger entry its roster reflects (stale wards and the publish check)."""
    store.add_missing_columns(LAYERS["plans"], ("based_on", "ledger_seen"))


def _v6_token_versions(store: SqlStore) -> None:
    """Tokens end with a password change, a disable or a sign-out: users get a token version."""
    store.add_missing_columns(LAYERS["users"], ("token_version",))


# (version reached, step). Append new steps; never edit a released one: a step names the layers
# it creates, so later changes to the data model need a step of their own.
MIGRATIONS: list[tuple[int, Callable[[SqlStore], None]]] = [
    (1, _v1_initial),
    (2, _v2_accounts_and_jobs),
    (3, _v3_solve_locks),
    (4, _v4_revisions),
    (5, _v5_plan_basis),
    (6, _v6_token_versions),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
