"""The job runner's log while the database is away: once when it starts failing, once when it recovers."""

from __future__ import annotations

import logging
import time

from gridgov.api.jobs import JobRunner
from gridgov.api.pool import StorePool
from gridgov.errors import StoreUnavailableError


def test_an_outage_is_logged_when_it_starts_and_ends_not_every_poll(tmp_path, caplog, monkeypatch):
    """One warning per poll was 86,000 lines a day per runner, each without its cause."""
    runner = JobRunner(StorePool(str(tmp_path / "s.gpkg"), size=1), poll_s=0.01, stale_s=60)
    calls = {"n": 0}

    def away_then_back() -> bool:
        calls["n"] += 1
        if calls["n"] <= 30:
            raise StoreUnavailableError("无法连接数据库", "cannot reach the database postgresql://db/x")
        return False

    monkeypatch.setattr(runner, "run_once", away_then_back)
    with caplog.at_level(logging.WARNING, logger="gridgov.api.jobs"):
        runner.start()
        deadline = time.monotonic() + 20
        while calls["n"] < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        runner.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "gridgov.api.jobs"]
    assert calls["n"] >= 40
    assert lines[0] == "job runner: StoreUnavailableError: cannot reach the database postgresql://db/x"
    assert len(lines) == 2 and lines[1].startswith("job runner: the store answers again after")


def test_the_service_log_lines_carry_their_time(tmp_path):
    """uvicorn's default format has no time; the service's lines, gridgov's included, do."""
    import subprocess
    import sys

    script = ("import logging, logging.config\nfrom gridgov.api.server import log_config\n"
              "logging.config.dictConfig(log_config())\n"
              "logging.getLogger('gridgov.api').error('request failed: StoreError: disk full')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    line = (done.stdout + done.stderr).strip()
    assert line.endswith("request failed: StoreError: disk full")
    assert time.strftime("%Y-%m-%d") in line  # asctime: 2026-11-24 22:30:01,123
