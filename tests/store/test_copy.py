"""Copying a whole store into a new one (GeoPackage ⇄ PostgreSQL): nothing lost, ids go on."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gridgov.demo import generate_demo, save_demo
from gridgov.plans.allocation import AllocationOptions
from gridgov.plans.roster import retire_worker
from gridgov.plans.run import solve_plan
from gridgov.plans.versions import publish_plan
from gridgov.store import open_store
from gridgov.store.copy import COPIED, copy_store


@pytest.fixture
def city_url(store_url: str) -> str:
    """A small demo city with a published plan, a ledger, an account and a job."""
    with open_store(store_url, create=True) as store:
        save_demo(store, generate_demo(seed=7, scale=0.02))
        plan = solve_plan(store, options=AllocationOptions(time_limit=1.0), actor="t")
        publish_plan(store, plan.plan_id, actor="t")
        holder = next(r["worker_id"] for r in store.rows("assignments", where={"plan_id": plan.plan_id}) if r["worker_id"])
        retire_worker(store, holder, actor="t")
        store.save("users", [{"username": "planner1", "role": "planner", "password_hash": "$argon2id$x",
                              "wards": [], "token_version": 3}])
        store.insert("jobs", {"kind": "solve", "status": "done", "params": {"changed": True}, "plan_id": plan.plan_id})
    return store_url


@pytest.fixture
def other_store(request, tmp_path, store_url):
    """A new, empty store on the other backend."""
    if "://" in store_url:
        return str(tmp_path / "copy.gpkg")
    return request.getfixturevalue("pg_url")


def _content(store) -> dict[str, list[dict]]:
    """Every row of every copied layer, by key (PostgreSQL's jsonb orders a JSON value's keys, so
    the stores' byte fingerprints differ where their content does not)."""
    from gridgov.schema import LAYERS

    return {name: store.rows(name, order_by=", ".join(LAYERS[name].key)) for name in COPIED}


def test_a_copy_holds_every_row_with_its_id_and_new_ids_follow(city_url, other_store):
    with open_store(city_url) as source, open_store(other_store, create=True) as target:
        counts = copy_store(source, target)
        assert counts["ledger"] > 0 and counts["plans"] >= 1 and counts["users"] == 1 and counts["jobs"] == 1
        assert _content(target) == _content(source)
        # On PostgreSQL the id counters stayed at 1: the first new ledger entry collided with entry 1.
        top = max(r["entry_id"] for r in target.rows("ledger"))
        retire_worker(target, target.rows("workers", where={"status": "active"})[0]["worker_id"], actor="t")
        assert max(r["entry_id"] for r in target.rows("ledger")) == top + 1
        assert target.insert("plans", {"kind": "grid", "rule": "auto", "status": "draft"}) == counts["plans"] + 1


def test_a_store_holding_data_is_not_copied_into(city_url, other_store, fingerprint):
    with open_store(other_store, create=True) as target:
        target.save("users", [{"username": "someone", "role": "admin", "password_hash": "x", "wards": []}])
        before = fingerprint(target)
    with open_store(city_url) as source, open_store(other_store) as target:
        with pytest.raises(Exception, match="not empty") as caught:
            copy_store(source, target)
        assert "users 1" in str(caught.value)
        assert fingerprint(target) == before


def test_the_copy_command_names_each_layer_and_what_to_do_next(city_url, other_store):
    done = subprocess.run([sys.executable, "-m", "gridgov", "--lang", "en", "--db", city_url, "copy", other_store],
                          capture_output=True, text=True, timeout=300)
    said = " ".join(done.stdout.split())
    assert done.returncode == 0 and "point GRIDGOV_DB at the new store" in said, done.stdout + done.stderr
    assert all(name in said for name in COPIED)
