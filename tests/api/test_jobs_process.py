"""A solve job's wards are solved in a child process at the lowest CPU priority; a child killed
with SIGKILL fails the job with a clear message and leaves the published plan as it was."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from api_city import W1, W2, make_client, token

from gridgov.api.jobs import JobRunner
from gridgov.plans.versions import published_plan
from gridgov.store import open_store

PID_FILE = "GRIDGOV_TEST_SOLVER_PID_FILE"


def _stuck_solve(problem):  # runs in the solver process: imported there by name, like solve_ward
    Path(os.environ[PID_FILE]).write_text(str(os.getpid()))
    time.sleep(60)
    raise AssertionError("the test should have killed this process")


def test_job_solves_in_a_child_process_at_lowest_priority(city):
    with make_client(city) as client:
        h = {"Authorization": f"Bearer {token(client, 'planner')}"}
        job_id = client.post("/api/plans/solve", json={"wards": [W1, W2]}, headers=h).json()["job_id"]
        assert JobRunner(client.app.state.pool, poll_s=0.1, stale_s=60).run_once()
        job = client.get(f"/api/jobs/{job_id}", headers=h).json()
        assert job["status"] == "done" and job["plan_id"], job
        pid = job["progress"]["solver_pid"]
        assert isinstance(pid, int) and pid != os.getpid()
        assert job["progress"]["solver_nice"] == 19 or job["progress"]["solver_nice"] > os.nice(0)


def test_solver_process_killed_fails_the_job_and_leaves_the_published_plan(city, monkeypatch, tmp_path):
    pid_file = tmp_path / "solver.pid"
    monkeypatch.setenv(PID_FILE, str(pid_file))  # the spawned child inherits the environment
    import gridgov.plans.allocation as allocation

    with open_store(city) as store:
        before = published_plan(store)["plan_id"]
        plans_before = store.count("plans")
    with make_client(city) as client:
        h = {"Authorization": f"Bearer {token(client, 'planner')}"}
        job_id = client.post("/api/plans/solve", json={"wards": [W1]}, headers=h).json()["job_id"]
        runner = JobRunner(client.app.state.pool, poll_s=0.1, stale_s=60)
        killed: list[int] = []

        def killer() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not pid_file.exists():
                time.sleep(0.05)
            time.sleep(0.1)  # the pid is written before the file is closed
            pid = int(pid_file.read_text())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

        monkeypatch.setattr(allocation, "solve_ward", _stuck_solve)
        t = threading.Thread(target=killer, daemon=True)
        t.start()
        started = time.monotonic()
        assert runner.run_once()
        t.join(5)
        assert killed and killed[0] != os.getpid()
        assert time.monotonic() - started < 50  # the runner did not wait out the stuck child
        job = client.get(f"/api/jobs/{job_id}", headers=h).json()
        assert job["status"] == "failed" and job["plan_id"] is None, job
        assert "求解进程意外终止" in job["message"] and "killed by signal 9" in job["message"]
        assert "published plan is untouched" in job["message"]
        monkeypatch.undo()  # the real solver again: the ward lock was released, W1 solves
        job2 = client.post("/api/plans/solve", json={"wards": [W1]}, headers=h).json()["job_id"]
        assert runner.run_once()
        assert client.get(f"/api/jobs/{job2}", headers=h).json()["status"] == "done"
    with open_store(city) as store:
        assert published_plan(store)["plan_id"] == before
        assert store.count("plans") == plans_before + 1  # the second job's draft only


_ORPHAN = """
import os, sys, time
from gridgov.api.jobs import SolverProcess
solver = SolverProcess(1)
solver.submit(time.sleep, 60)
while not solver.exit_codes() and not getattr(solver._pool, "_processes", None):
    time.sleep(0.05)
print(*solver._pool._processes, flush=True)
time.sleep(60)
"""


def test_solver_process_ends_with_the_web_worker_that_started_it():
    import subprocess
    import sys

    parent = subprocess.Popen([sys.executable, "-c", _ORPHAN], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline().split()[0])
        time.sleep(1.0)  # the child's initializer has run
        parent.kill()  # SIGKILL: nothing in the worker can clean up
        parent.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            if Path(f"/proc/{child}/stat").read_text().split(") ", 1)[1].startswith("Z"):
                break  # a zombie waiting for init to reap it: it has ended
            time.sleep(0.1)
        else:
            os.kill(child, signal.SIGKILL)
            raise AssertionError("the solver process outlived its web worker")
    finally:
        parent.kill()


def test_the_services_solve_threads_setting_reaches_its_jobs(city):
    """The runner read the process-wide settings, not the app's: Settings(api_solve_threads=2)
    given to create_app solved with one."""
    from fastapi.testclient import TestClient

    from gridgov.api.main import create_app
    from gridgov.settings import Settings

    settings = Settings(db=city, api_run_jobs=True, api_solve_threads=2, api_job_poll_s=0.1,
                        api_secret="test-secret-of-at-least-32-bytes-long")
    with TestClient(create_app(settings)) as client:
        h = {"Authorization": f"Bearer {token(client, 'planner')}"}
        job_id = client.post("/api/plans/solve", json={"wards": [W1, W2]}, headers=h).json()["job_id"]
        deadline = time.monotonic() + 120
        while (job := client.get(f"/api/jobs/{job_id}", headers=h).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["status"] == "done" and job["progress"]["solver_threads"] == 2, job
