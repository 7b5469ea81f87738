"""``gridgov jobs``: the job runner as its own process beside web workers started with --no-jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from api_city import W1, make_client, token


def test_jobs_process_runs_queued_solves_and_stops_on_sigterm(city):
    proc = subprocess.Popen([sys.executable, "-m", "gridgov", "--db", city, "jobs", "--nice", "5"],
                            env={**os.environ, "GRIDGOV_API_JOB_POLL_S": "0.2"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with make_client(city) as client:  # a web app that runs no jobs itself
            assert client.app.state.runner is None
            h = {"Authorization": f"Bearer {token(client, 'planner')}"}
            job_id = client.post("/api/plans/solve", json={"wards": [W1]}, headers=h).json()["job_id"]
            deadline = time.monotonic() + 120
            job = {}
            while time.monotonic() < deadline:
                job = client.get(f"/api/jobs/{job_id}", headers=h).json()
                if job["status"] in ("done", "failed"):
                    break
                time.sleep(0.2)
            assert job["status"] == "done" and job["plan_id"], job
            # The plan is in the store the web app reads: the runner shares nothing else with it.
            assert client.get(f"/api/plans/{job['plan_id']}", headers=h).status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()


def test_jobs_command_refuses_a_missing_store(tmp_path):
    done = subprocess.run([sys.executable, "-m", "gridgov", "--db", str(tmp_path / "none.gpkg"), "jobs"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "gridgov init" in done.stdout + done.stderr
