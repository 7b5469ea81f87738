"""Roster change → queued re-solve → draft → diff → publish; jobs survive restarts; failures leave the published plan."""

from __future__ import annotations

import time
from datetime import timedelta

from api_city import W1, W2, W3, make_client, token

from gridgov.api.jobs import JobRunner, enqueue_solve, recover_stale
from gridgov.plans.versions import published_plan
from gridgov.store import now_utc, open_store


def _run_queued(client) -> None:
    """Run every queued job in this thread (the app was made without its runner)."""
    runner = JobRunner(client.app.state.pool, poll_s=0.1, stale_s=60)
    while runner.run_once():
        pass


def _wait(client, headers, job_id, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_roster_change_to_published_draft(client, auth):
    h = auth["planner"]
    published = client.get("/api/plans", headers=h).json()[0]
    assert published["status"] == "published"
    r = client.post("/api/workers/A/retire", headers=h)
    assert r.status_code == 200 and r.json()["changed"] == {"status": True}
    job_id = r.json()["job_id"]
    # A second change joins the queued re-solve instead of queueing another.
    r2 = client.post("/api/workers/C/unavailable", json={"start": "2026-01-01", "end": "2099-12-31"}, headers=h)
    assert r2.json()["job_id"] == job_id
    assert client.get(f"/api/jobs/{job_id}", headers=h).json()["status"] == "queued"
    _run_queued(client)
    job = client.get(f"/api/jobs/{job_id}", headers=h).json()
    assert job["status"] == "done", job
    assert job["progress"]["done"] == job["progress"]["total"] == 2  # the two wards A and C touched
    assert job["progress"]["summary"]["territories"]  # one job's own endpoint has the detail …
    listed = next(j for j in client.get("/api/jobs", headers=h).json() if j["job_id"] == job_id)
    assert "territories" not in listed["progress"]["summary"] and listed["progress"]["summary"]["covered"]  # … the list not
    draft = client.get(f"/api/plans/{job['plan_id']}", headers=h).json()
    assert draft["status"] == "draft" and draft["scope"] == sorted(draft["scope"])
    moves = client.get(f"/api/plans/{published['plan_id']}/diff/{draft['plan_id']}", headers=h).json()["moves"]
    assert moves and all(m["before"] in ("A", "C") for m in moves)  # only the absent workers' grids move
    assert all(m["after"] not in ("A", "C") for m in moves)
    r = client.post(f"/api/plans/{draft['plan_id']}/publish", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "published"
    rows = client.get("/api/plans", headers=h).json()
    history = {p["plan_id"]: p["status"] for p in rows}
    assert history == {published["plan_id"]: "superseded", draft["plan_id"]: "published"}
    # The history leaves out the per-territory detail; the plan's own endpoint has it.
    assert all("territories" not in p["summary"] and "covered" in p["summary"] for p in rows)
    one = client.get(f"/api/plans/{draft['plan_id']}", headers=h).json()
    assert set(one["summary"]["territories"]) >= {m["after"] for m in moves if m["after"]}
    assert client.post(f"/api/plans/{draft['plan_id']}/publish", headers=h).status_code == 400


def test_solve_job_in_the_app_thread_reports_progress(city):
    with make_client(city, run_jobs=True) as client:
        h = {"Authorization": f"Bearer {token(client, 'planner')}"}
        r = client.post("/api/plans/solve", json={"wards": [W1], "rule": "auto"}, headers=h)
        assert r.status_code == 202 and r.json()["status"] in ("queued", "running")  # the runner is quick
        job = _wait(client, h, r.json()["job_id"])
        assert job["status"] == "done" and job["plan_id"] and job["heartbeat_at"]
        assert job["progress"] == {**job["progress"], "done": 1, "total": 1}


def test_failed_job_leaves_the_published_plan(city, client, auth):
    h = auth["planner"]
    before = client.get("/api/plans", headers=h).json()
    r = client.post("/api/plans/solve", json={"wards": [W3]}, headers=h)
    assert r.status_code == 202  # an unknown ward is refused here; this one goes away while queued
    with open_store(city) as store:
        store.delete("grids", where={"ward_code": W3})
        store.delete("wards", where={"code": W3})
    _run_queued(client)
    job = client.get(f"/api/jobs/{r.json()['job_id']}", headers=h).json()
    assert job["status"] == "failed" and W3 in job["message"] and job["plan_id"] is None
    assert client.get("/api/plans", headers=h).json() == before


def test_queued_job_survives_a_restart(city):
    with make_client(city) as first:  # no runner: the job stays queued when this app stops
        h = {"Authorization": f"Bearer {token(first, 'planner')}"}
        job_id = first.post("/api/plans/solve", json={}, headers=h).json()["job_id"]
    with make_client(city, run_jobs=True) as second:
        h = {"Authorization": f"Bearer {token(second, 'planner')}"}
        job = _wait(second, h, job_id)
        assert job["status"] == "done" and job["plan_id"]


def test_running_job_of_a_dead_process_is_failed_and_queued_again(city):
    with open_store(city) as store:
        job_id = enqueue_solve(store, actor="planner", wards=[W1])
        # As a process killed mid-solve leaves it: running, heartbeat long ago.
        old = now_utc() - timedelta(minutes=10)
        store.update("jobs", {"job_id": job_id}, {"status": "running", "started_at": old, "heartbeat_at": old})
        fresh = enqueue_solve(store, actor="planner", wards=[W1])
        store.update("jobs", {"job_id": fresh}, {"status": "running", "started_at": now_utc(), "heartbeat_at": now_utc()})
        published = published_plan(store)["plan_id"]
        requeued = recover_stale(store, stale_after_s=60)
        assert len(requeued) == 1  # the fresh one belongs to a live process: untouched
        dead = store.load("jobs", where={"job_id": job_id}).iloc[0]
        assert dead["status"] == "failed" and "服务重启中断" in dead["message"] and "restart" in dead["message"]
        again = store.load("jobs", where={"job_id": requeued[0]}).iloc[0]
        assert again["status"] == "queued" and again["params"]["retry_of"] == job_id
        assert again["params"]["wards"] == [W1]
        assert store.load("jobs", where={"job_id": fresh}).iloc[0]["status"] == "running"
        assert published_plan(store)["plan_id"] == published
    with make_client(city, run_jobs=True) as client:
        h = {"Authorization": f"Bearer {token(client, 'planner')}"}
        assert _wait(client, h, requeued[0])["status"] == "done"


def test_add_and_update_worker(client, auth):
    h = auth["planner"]
    body = {"worker_id": "G", "name": "吴九", "home_ward": W1, "lon": 113.205, "lat": 35.205, "phone": "13900000007",
            "honours": [{"title": "全国劳动模范", "level": "全国", "year": 2020}]}
    r = client.post("/api/workers", json=body, headers=h)
    assert r.status_code == 201 and r.json()["job_id"]
    assert client.post("/api/workers", json=body, headers=h).status_code == 400  # duplicate id
    r = client.patch("/api/workers/G", json={"phone": "13900000008"}, headers=h)
    assert r.json() == {"worker_id": "G", "changed": {"phone": True}, "job_id": None,
                        "drafts_unpublishable": []}  # contacts: no re-solve
    got = client.get("/api/workers/G", headers=auth["street1"]).json()
    assert got["phone"] == "13900000008" and got["honours"][0]["level"] == "全国"
    assert client.get("/api/workers/G", headers=auth["street2"]).status_code == 404
    assert client.post("/api/workers/G/capacity", json={"capacity": 0}, headers=h).status_code == 422
    assert client.post("/api/workers/ZZ/retire", headers=h).status_code == 404


def test_a_re_solve_that_moves_no_one_ends_without_a_draft(client, auth):
    h = auth["planner"]
    published = client.get("/api/plans", headers=h).json()[0]
    grids = client.get(f"/api/plans/{published['plan_id']}", headers=h).json()
    assert grids["summary"]["uncovered"] == 0  # so a newcomer takes nothing from anyone
    # W2 already has a worker per grid (一格一劳模 either way), so a third moves no one there.
    body = {"worker_id": "G", "name": "吴九", "home_ward": W2, "lon": 113.215, "lat": 35.205, "phone": "13900000007"}
    job_id = client.post("/api/workers", json=body, headers=h).json()["job_id"]
    _run_queued(client)
    job = client.get(f"/api/jobs/{job_id}", headers=h).json()
    assert job["status"] == "done" and job["plan_id"] is None, job
    assert f"published plan {published['plan_id']} unchanged" in job["message"]
    assert [p["plan_id"] for p in client.get("/api/plans", headers=h).json()] == [published["plan_id"]]
    entries = client.get("/api/ledger", headers=h).json()
    assert any(e["action"] == "plan.confirm" for e in entries)


def test_a_worker_entered_by_mistake_is_deleted_and_restored(client, auth):
    h = auth["planner"]
    body = {"worker_id": "X9", "name": "误录", "home_ward": W2, "lon": 113.215, "lat": 35.205, "phone": "13900000099"}
    assert client.post("/api/workers", json=body, headers=h).status_code == 201
    assert client.post("/api/workers/X9/remove", headers=auth["street2"]).status_code == 403
    r = client.post("/api/workers/X9/remove", headers=h)
    assert r.status_code == 200 and r.json()["changed"] == {"removed": True} and r.json()["job_id"] is None
    assert client.get("/api/workers/X9", headers=h).status_code == 404
    r = client.post("/api/workers/B/remove", headers=h)  # on the published plan
    assert r.status_code == 409 and "retire them instead" in r.json()["detail"]["message_en"]
    r = client.post("/api/workers/X9/restore", headers=h)
    assert r.status_code == 200 and r.json()["job_id"]
    assert client.get("/api/workers/X9", headers=h).json()["phone"] == "13900000099"
    assert client.post("/api/workers/X9/restore", headers=h).status_code == 400
    assert client.post("/api/workers/NOPE/restore", headers=h).status_code == 404


def test_a_solve_takes_the_options_the_cli_takes(client, auth):
    """Balance, contiguity and per-ward rules reach the plan (the API had rule and time limit only)."""
    h = auth["planner"]
    body = {"wards": [W1, W2], "rule": "several", "ward_rules": {W2: "one"}, "contiguity": False, "balance": 0.3,
            "time_limit": 2}
    r = client.post("/api/plans/solve", json=body, headers=h)
    assert r.status_code == 202, r.text
    _run_queued(client)
    job = _wait(client, h, r.json()["job_id"])
    assert job["status"] == "done", job
    params = client.get(f"/api/plans/{job['plan_id']}", headers=h).json()["params"]
    assert (params["rule"], params["ward_rules"], params["contiguity"], params["balance"]) == (
        "several", {W2: "one"}, False, 0.3)
    r = client.post("/api/plans/solve", json={**body, "ward_rules": {W2: "many"}}, headers=h)
    assert r.status_code == 422


def test_a_solve_with_its_own_options_does_not_join_a_queued_roster_re_solve(client, auth):
    h = auth["planner"]
    roster_job = client.post("/api/workers/A/retire", headers=h).json()["job_id"]
    mine = client.post("/api/plans/solve", json={"changed": True, "balance": 0.2}, headers=h).json()["job_id"]
    assert mine != roster_job  # it joined the queued job, whose options are the defaults
    same = client.post("/api/workers/C/capacity", json={"capacity": 2}, headers=h).json()["job_id"]
    assert same == roster_job  # roster changes still join each other
