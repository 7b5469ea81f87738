"""The CLI with PostGIS away: exit code 3 and a bilingual "database unavailable" message, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from faultkit import api_city
from pgproxy import PgProxy

GRIDGOV = Path(sys.executable).parent / "gridgov"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GRIDGOV_DEBUG", "GRIDGOV_DB")}
    return subprocess.run([str(GRIDGOV), *args], capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize("command", [["status"], ["solve", "--ward", api_city().W1], ["plan", "list"]])
def test_cli_exits_3_when_the_database_is_down(pg_city, proxy: PgProxy, command):
    url = proxy.url(pg_city)
    proxy.close()  # nothing listens on that port any more: connection refused
    done = _run(*command, "--db", url)
    assert done.returncode == 3, done.stderr
    text = " ".join(done.stderr.split())  # rich wraps long lines
    assert "无法连接数据库" in text and "cannot reach the database" in text
    assert "Traceback" not in done.stderr + done.stdout


def test_cli_works_through_the_proxy_when_it_is_up(via_proxy, proxy: PgProxy):
    done = _run("status", "--db", via_proxy)
    assert done.returncode == 0, done.stderr
    assert proxy.connections >= 1
