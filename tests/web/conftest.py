"""A real uvicorn server on 127.0.0.1 (random free port) over a seeded city with a draft plan to publish."""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gridgov.plans.roster import retire_worker
from gridgov.plans.run import solve_plan
from gridgov.settings import Settings
from gridgov.store import open_store


def _api_city():
    """The hand-made city of the API tests (no __init__.py in tests/, so loaded by path, once)."""
    if "api_city" not in sys.modules:
        spec = importlib.util.spec_from_file_location("api_city", Path(__file__).resolve().parents[1] / "api" / "api_city.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["api_city"] = module
        spec.loader.exec_module(module)
    return sys.modules["api_city"]


city = _api_city()


@dataclass(frozen=True)
class Served:
    url: str
    draft_id: int
    published_id: int
    password: str
    db: str = ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path) -> Iterator[Served]:
    import uvicorn

    from gridgov.api.main import create_app

    db = str(tmp_path / "city.gpkg")
    with open_store(db, create=True) as store:
        published = city.seed_city(store)
        retire_worker(store, "A", actor="test")
        draft = solve_plan(store, changed=True, actor="test").plan_id
    port = _free_port()
    settings = Settings(db=db, api_secret="browser-test-secret-of-32-bytes-or-more", api_run_jobs=False)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start", pytrace=False)
        time.sleep(0.05)
    yield Served(f"http://127.0.0.1:{port}", int(draft), int(published), city.PASSWORD, db)
    server.should_exit = True
    thread.join(10)
