"""PostGIS "stopped" mid-solve, mid-import, mid-publish: a clear error, nothing half-written, recovery by itself.

Faults are real: connections go through a TCP proxy that refuses or cuts them, or the store's
server process is killed with pg_terminate_backend. The shared server itself keeps running.
"""

from __future__ import annotations

import pytest
from faultkit import api_city, terminate, workers_csv
from pgproxy import PgProxy

from gridgov.errors import StoreUnavailableError
from gridgov.plans.imports import import_file
from gridgov.plans.run import solve_plan
from gridgov.plans.versions import publish_plan, published_plan
from gridgov.store import open_store

W1, W2 = api_city().W1, api_city().W2


def test_solve_cut_mid_write_is_rolled_back_and_the_store_recovers(via_proxy, pg_city, proxy: PgProxy,
                                                                   fault_on, fingerprint):
    store = open_store(via_proxy)
    direct = open_store(pg_city)
    before = fingerprint(direct)
    # Once the draft's transaction has begun, the network dies a few hundred bytes later.
    fired = fault_on("INSERT INTO plans", lambda _s: proxy.cut_after(200))
    with pytest.raises(StoreUnavailableError) as err:
        solve_plan(store, wards=[W1], actor="t")
    assert fired["n"] == 1
    assert "未保存" in err.value.message and "nothing was saved" in err.value.message_en
    assert fingerprint(direct) == before  # no half-written draft
    with pytest.raises(StoreUnavailableError):  # still down: still a clear error
        store.count("plans")
    proxy.allow()
    # The same store object works again: no restart. The old session's advisory lock goes with
    # the session, which the server ends as it notices the cut — hence a short wait.
    outcome = solve_plan(store, wards=[W1], actor="t", lock_wait=10)
    assert outcome.plan_id is not None
    assert direct.count("plans") == 2 and published_plan(direct)["plan_id"] != outcome.plan_id
    store.close()
    direct.close()


def test_solve_whose_backend_is_terminated_mid_transaction(pg_city, admin_conn, fault_on, fingerprint):
    store = open_store(pg_city)
    before = fingerprint(store)
    fault_on("INSERT INTO assignments", terminate(admin_conn))
    with pytest.raises(StoreUnavailableError):
        solve_plan(store, wards=[W1, W2], actor="t")
    assert fingerprint(open_store(pg_city)) == before
    assert solve_plan(store, wards=[W1, W2], actor="t").plan_id is not None  # reconnects by itself
    store.close()


def test_import_cut_mid_transaction_writes_nothing(via_proxy, pg_city, proxy: PgProxy, fault_on,
                                                   fingerprint, tmp_path):
    roster = workers_csv(tmp_path / "roster.csv", 40)
    store = open_store(via_proxy)
    direct = open_store(pg_city)
    before = fingerprint(direct)
    # The rows are upserted, then the database "stops" before the ledger entries follow.
    fired = fault_on("INSERT INTO ledger", lambda _s: proxy.refuse())
    with pytest.raises(StoreUnavailableError) as err:
        import_file(store, "workers", roster, actor="t")
    assert fired["n"] == 1 and "无法连接数据库" in err.value.message and "PostgreSQL" in err.value.message_en
    assert fingerprint(direct) == before
    proxy.allow()
    report = import_file(store, "workers", roster, actor="t")
    assert report.inserted == 40 and direct.count("workers") == 6 + 40
    store.close()
    direct.close()


def test_publish_cut_mid_transaction_keeps_the_published_plan(via_proxy, pg_city, proxy: PgProxy, fault_on,
                                                              fingerprint):
    direct = open_store(pg_city)
    draft = solve_plan(direct, wards=[W1], actor="t").plan_id
    published = published_plan(direct)["plan_id"]
    before = fingerprint(direct)
    store = open_store(via_proxy)
    fault_on("INSERT INTO ledger", lambda _s: proxy.refuse())  # after both plan rows were updated
    with pytest.raises(StoreUnavailableError):
        publish_plan(store, draft, actor="t")
    assert fingerprint(direct) == before
    assert published_plan(direct)["plan_id"] == published
    proxy.allow()
    assert publish_plan(store, draft, actor="t")["status"] == "published"
    assert published_plan(direct)["plan_id"] == draft
    store.close()
    direct.close()


def test_publish_whose_backend_is_terminated(pg_city, admin_conn, fault_on, fingerprint):
    store = open_store(pg_city)
    draft = solve_plan(store, wards=[W2], actor="t").plan_id
    before = fingerprint(store)
    fault_on("UPDATE plans", terminate(admin_conn))
    with pytest.raises(StoreUnavailableError):
        publish_plan(store, draft, actor="t")
    assert fingerprint(store) == before
    assert publish_plan(store, draft, actor="t")["status"] == "published"
    store.close()


def test_an_idle_connection_that_died_is_replaced_on_the_next_call(via_proxy, proxy: PgProxy, admin_conn):
    store = open_store(via_proxy)
    assert store.count("wards") == 3
    proxy.cut()  # e.g. the database restarted while this pooled store sat idle
    assert store.count("wards") == 3  # a read (or a BEGIN) is retried once on a new connection
    terminate(admin_conn)(store)
    assert store.count("grids") == 7
    proxy.refuse()
    with pytest.raises(StoreUnavailableError, match="PostgreSQL"):
        store.count("wards")
    proxy.allow()
    assert store.count("wards") == 3
    store.close()


def test_connection_lost_at_commit_is_not_retried_and_says_the_outcome_is_unknown(via_proxy, pg_city,
                                                                                   proxy: PgProxy, fault_on,
                                                                                   fingerprint):
    store = open_store(via_proxy)
    direct = open_store(pg_city)
    before = fingerprint(direct)
    fault_on("COMMIT", lambda _s: proxy.cut())  # the COMMIT never reaches the server
    with pytest.raises(StoreUnavailableError) as err:
        store.update("workers", {"worker_id": "A"}, {"capacity": 9.0})
    assert "可能已生效也可能未生效" in err.value.message and "whole or not at all" in err.value.message_en
    assert fingerprint(direct) == before  # a COMMIT retried on a new session would have "succeeded"
    assert store.load("workers", where={"worker_id": "A"}).iloc[0]["capacity"] == 3.0
    store.close()
    direct.close()
