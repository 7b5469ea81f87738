"""The service with PostGIS "stopped": 503 with Retry-After, nothing half-written, and back by itself without a restart."""

from __future__ import annotations

import pytest
from faultkit import api_city
from pgproxy import PgProxy

from gridgov.api.jobs import JobRunner
from gridgov.errors import StoreUnavailableError
from gridgov.plans.run import solve_plan
from gridgov.plans.versions import published_plan
from gridgov.store import open_store

city = api_city()


def test_requests_get_503_while_the_database_is_away_then_work_again(via_proxy, proxy: PgProxy):
    with city.make_client(via_proxy) as client:
        h = {"Authorization": f"Bearer {city.token(client, 'street1')}"}
        assert client.get("/api/grids", headers=h).status_code == 200
        proxy.refuse()
        for _ in range(3):  # every pooled store finds its connection dead
            r = client.get("/api/grids", headers=h)
            assert r.status_code == 503 and r.headers["retry-after"] == "5"
            assert "数据库暂时无法连接" in r.json()["detail"]["message"]
            assert "the database is unavailable" in r.json()["detail"]["message_en"]
        assert client.post("/api/login/access-token", data={"username": "x", "password": "y"}).status_code == 503
        proxy.allow()
        r = client.get("/api/grids", headers=h)  # same app, no restart
        assert r.status_code == 200 and len(r.json()["features"]) == 3
        assert client.get("/api/health").status_code == 200


def test_publish_request_cut_mid_transaction(via_proxy, pg_city, proxy: PgProxy, fault_on, fingerprint):
    direct = open_store(pg_city)
    draft = solve_plan(direct, wards=[city.W1], actor="t").plan_id
    published = published_plan(direct)["plan_id"]
    before = fingerprint(direct)
    with city.make_client(via_proxy) as client:
        h = {"Authorization": f"Bearer {city.token(client, 'planner')}"}
        fired = fault_on("INSERT INTO ledger", lambda _s: proxy.refuse())
        r = client.post(f"/api/plans/{draft}/publish", headers=h)
        assert fired["n"] == 1 and r.status_code == 503 and r.headers["retry-after"] == "5"
        assert fingerprint(direct) == before and published_plan(direct)["plan_id"] == published
        proxy.allow()
        r = client.post(f"/api/plans/{draft}/publish", headers=h)
        assert r.status_code == 200 and r.json()["status"] == "published"
    direct.close()


def test_solve_job_that_loses_the_database_fails_clearly_and_runs_again(via_proxy, pg_city, proxy: PgProxy,
                                                                         fault_on):
    direct = open_store(pg_city)
    published = published_plan(direct)["plan_id"]
    with city.make_client(via_proxy) as client:  # no runner thread: this test drives it
        h = {"Authorization": f"Bearer {city.token(client, 'planner')}"}
        job_id = client.post("/api/plans/solve", json={"wards": [city.W1]}, headers=h).json()["job_id"]
        runner = JobRunner(client.app.state.pool, poll_s=0.1, stale_s=60)
        fault_on("INSERT INTO plans", lambda _s: proxy.refuse())  # the draft is being saved
        with pytest.raises(StoreUnavailableError):
            runner.run_once()
        # While the database is away the job cannot be written: it still reads "running".
        assert direct.load("jobs", where={"job_id": job_id}).iloc[0]["status"] == "running"
        assert direct.count("plans") == 1 and direct.count("assignments") == 7  # no draft was saved
        with pytest.raises(StoreUnavailableError):
            runner.run_once()  # still away: a clear error again, the runner thread would wait
        proxy.allow()
        assert runner.run_once()  # back: the lost job is settled, its retry runs
        lost = client.get(f"/api/jobs/{job_id}", headers=h).json()
        assert lost["status"] == "failed" and lost["plan_id"] is None
        assert "数据库连接中断" in lost["message"] and "database connection was lost" in lost["message"]
        retry = client.get("/api/jobs", headers=h).json()[0]
        assert retry["job_id"] != job_id and retry["status"] == "done" and retry["plan_id"]
        assert f"job {retry['job_id']}" in lost["message"]
    assert published_plan(direct)["plan_id"] == published  # the published plan was never touched
    direct.close()
