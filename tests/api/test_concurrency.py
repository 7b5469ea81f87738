"""Concurrent requests: a second solve of a busy ward is 409; readers during publishes see one whole plan."""

from __future__ import annotations

import threading

from api_city import W1, W2, make_client, token

from gridgov.api.jobs import JobRunner
from gridgov.plans.versions import plan_assignment, published_assignment, published_plan, save_plan
from gridgov.store import open_store


def test_solve_request_for_a_ward_being_solved_is_409(city):
    other = open_store(city)  # another app instance's solve, holding W1 in the database
    with make_client(city) as client:
        h = {"Authorization": f"Bearer {token(client, 'planner')}"}
        with other.ward_locks([W1], owner="planner"):
            r = client.post("/api/plans/solve", json={"wards": [W1]}, headers=h)
            assert r.status_code == 409
            detail = r.json()["detail"]
            assert "另一个求解" in detail["message"] and W1 in detail["message"]
            assert "another solve" in detail["message_en"]
            assert client.post("/api/plans/solve", json={}, headers=h).status_code == 409  # city scope
            r = client.post("/api/plans/solve", json={"wards": [W2]}, headers=h)
            assert r.status_code == 202
        assert client.post("/api/plans/solve", json={"wards": [W1]}, headers=h).status_code == 202
    other.close()


def test_queued_job_whose_wards_got_busy_waits_instead_of_failing(city):
    other = open_store(city)
    with make_client(city) as client:
        h = {"Authorization": f"Bearer {token(client, 'planner')}"}
        job_id = client.post("/api/plans/solve", json={"wards": [W1]}, headers=h).json()["job_id"]
        runner = JobRunner(client.app.state.pool, poll_s=0.1, stale_s=60)
        with other.ward_locks([W1], owner="elsewhere"):  # another instance started solving W1 meanwhile
            assert runner.run_once() is False
            job = client.get(f"/api/jobs/{job_id}", headers=h).json()
            assert job["status"] == "queued" and "another solve" in job["message"]
        assert runner.run_once()
        assert client.get(f"/api/jobs/{job_id}", headers=h).json()["status"] == "done"
    other.close()


def _two_plans(store) -> tuple[int, dict, int, dict]:
    """The published plan and a draft that differs from it in every covered grid."""
    old = published_plan(store)
    a = plan_assignment(store, int(old["plan_id"]))
    workers = sorted({w for w in a.values() if w})
    swap = {w: workers[(i + 1) % len(workers)] for i, w in enumerate(workers)}
    b = {g: (swap[w] if w else None) for g, w in a.items()}
    assert all(a[g] != b[g] for g in a if a[g])
    b_id = save_plan(store, kind="grid", rule="several", params={}, scope=None, assignment=b, reasons={},
                     solver_status="feasible", objective=None, bound=None, summary={}, actor="test")
    return int(old["plan_id"]), a, b_id, b


def test_readers_during_publishes_see_the_old_plan_or_the_new_one_never_a_mix(city):
    with open_store(city) as store:
        a_id, a, b_id, b = _two_plans(store)
    expected = {a_id: a, b_id: b}
    done = threading.Event()
    seen: list[dict] = []
    errors: list[BaseException] = []

    with make_client(city) as client:
        h = {"Authorization": f"Bearer {token(client, 'planner')}"}

        def read_api() -> None:
            try:
                while not done.is_set():
                    r = client.get("/api/grids", headers=h)
                    assert r.status_code == 200, r.text
                    seen.append({f["properties"]["code"]: f["properties"]["worker_id"] for f in r.json()["features"]})
            except BaseException as exc:
                errors.append(exc)

        def read_store() -> None:  # the use-case read: plan and assignment in one snapshot
            try:
                with open_store(city) as reader:
                    while not done.is_set():
                        plan, held = published_assignment(reader)
                        assert held == expected[int(plan["plan_id"])], plan["plan_id"]
                        seen.append(held)
            except BaseException as exc:
                errors.append(exc)

        readers = [threading.Thread(target=f) for f in (read_api, read_api, read_store)]
        for t in readers:
            t.start()
        try:
            for i in range(12):  # publish b, a, b, … through the API while the readers read
                # Deliberate roll-backs back and forth (each plan was solved from another).
                r = client.post(f"/api/plans/{b_id if i % 2 == 0 else a_id}/publish?force=true", headers=h)
                assert r.status_code == 200, r.text
        finally:
            done.set()
            for t in readers:
                t.join(60)
    assert not errors, errors
    assert seen and all(s == a or s == b for s in seen)


def test_a_job_waiting_for_busy_wards_does_not_hold_up_the_next(city):
    other = open_store(city)
    with make_client(city) as client:
        h = {"Authorization": f"Bearer {token(client, 'planner')}"}
        first = client.post("/api/plans/solve", json={"wards": [W1]}, headers=h).json()["job_id"]
        second = client.post("/api/plans/solve", json={"wards": [W2]}, headers=h).json()["job_id"]
        assert first < second
        runner = JobRunner(client.app.state.pool, poll_s=0.1, stale_s=60)
        with other.ward_locks([W1], owner="elsewhere"):
            assert runner.run_once() is True  # the W2 job ran although the older W1 job waits
            assert client.get(f"/api/jobs/{second}", headers=h).json()["status"] == "done"
            assert client.get(f"/api/jobs/{first}", headers=h).json()["status"] == "queued"
            assert runner.run_once() is False  # only the waiting job is left
        assert runner.run_once() is True
        assert client.get(f"/api/jobs/{first}", headers=h).json()["status"] == "done"
    other.close()
