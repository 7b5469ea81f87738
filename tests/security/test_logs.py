"""No personal data in logs: a realistic session against a real uvicorn (access log included) logs
no worker name, phone number, password or token."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from seckit import city

from gridgov.settings import Settings

SECRET = "log-test-secret-of-at-least-32-bytes"
NEW = {"name": "张三丰", "phone": "13911112222"}
BAD_UPLOAD = ("编号,姓名,荣誉,行业,所在单位,手机,居住街道,状态,承担网格数,经度,纬度\n"
              "W901,钱九,,企业,某单位,13988887777,999999999,在岗,abc,113.2,35.2\n"
              "W902,吴十,,企业,某单位,not-a-phone-13977776666,410802001,在岗,1,999,35.2\n")
# uvicorn's default config stops "uvicorn" and "uvicorn.access" from propagating; the rest reach the root.
LOGGERS = ("", "uvicorn", "uvicorn.access")
CLIENT_SIDE = ("httpx", "httpcore")  # the test's own HTTP client logs its URLs: not the service's logs


class Collect(logging.Handler):
    """Every record, formatted the way uvicorn's own handlers would (access lines included)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        from uvicorn.logging import AccessFormatter, DefaultFormatter

        self.access = AccessFormatter('%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s')
        self.default = DefaultFormatter("%(levelprefix)s %(name)s %(message)s")
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(CLIENT_SIDE):
            return
        fmt = self.access if record.name == "uvicorn.access" else self.default
        text = fmt.format(record)
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + repr(record.exc_info[1])
        self.lines.append(text)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served_logs(tmp_path):
    """A real uvicorn over the city with the job runner on, and every log line it and gridgov write."""
    import uvicorn

    from gridgov.api.main import create_app
    from gridgov.store import open_store

    db = str(tmp_path / "city.gpkg")
    with open_store(db, create=True) as store:
        city.seed_city(store)
    port = _free_port()
    settings = Settings(db=db, api_secret=SECRET, api_run_jobs=True, api_job_poll_s=0.2)
    # uvicorn's default logging config, as `gridgov serve` runs it (access log on, level info).
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="info")
    handler = Collect()
    saved = {}
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = logger.level
        logger.addHandler(handler)
    for name in ("", "gridgov"):
        saved[name] = logging.getLogger(name).level
        logging.getLogger(name).setLevel(logging.DEBUG)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", handler.lines
    finally:
        server.should_exit = True
        thread.join(10)
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def test_a_working_session_logs_no_personal_data(served_logs):
    url, lines = served_logs
    tokens = []
    with httpx.Client(base_url=url, timeout=30) as http:
        def login(user: str, password: str = city.PASSWORD) -> dict[str, str]:
            r = http.post("/api/login/access-token", data={"username": user, "password": password})
            if r.status_code != 200:
                return {}
            tokens.append(r.json()["access_token"])
            return {"Authorization": f"Bearer {tokens[-1]}"}

        assert login("street1", "wrong-password-123") == {}
        planner, street = login("planner"), login("street1")
        assert http.get(f"/api/workers?ward={city.W1}", headers=street).status_code == 200
        assert http.get("/api/workers", headers=planner).status_code == 200
        # A client that puts personal data into a query string: the access log must drop it.
        assert http.get("/api/workers", params={"q": "张三", "phone": "13900000001"}, headers=planner).status_code == 200
        assert http.get(f"/api/exports/wards/{city.W1}.xlsx", headers=street).status_code == 200
        assert http.get("/api/exports/plan.xlsx", headers=planner).status_code == 200
        assert http.patch("/api/workers/A", json=NEW, headers=planner).status_code == 200
        job = http.post("/api/workers/C/retire", headers=planner).json()["job_id"]
        r = http.post("/api/uploads/workers", files={"file": ("名单.csv", BAD_UPLOAD.encode())}, headers=planner)
        assert r.status_code == 422
        assert http.get("/api/workers/Z", headers=street).status_code == 404
        # A roster that uses phone numbers as ids: the id in the path stays out of the log too.
        assert http.get("/api/workers/13966665555", headers=planner).status_code == 404
        deadline = time.monotonic() + 60
        while http.get(f"/api/jobs/{job}", headers=planner).json()["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, "the re-solve did not finish"
            time.sleep(0.2)
    text = "\n".join(lines)
    # The access log and the runner were captured, and the query string went out of the access line.
    assert "GET /api/workers HTTP" in text and "GET /api/workers?… HTTP" in text and "job 1" in text
    assert "PATCH /api/workers/… HTTP" in text and "POST /api/workers/…/retire HTTP" in text
    assert "13966665555" not in text
    secret = [n for _id, n, _w, _p, _x in city.WORKERS] + [p for _id, _n, _w, p, _x in city.WORKERS]
    secret += [NEW["name"], NEW["phone"], "钱九", "吴十", "13988887777", "13977776666", "张三",
               city.PASSWORD, "wrong-password-123", SECRET, *tokens]
    found = sorted({s for s in secret if s in text})
    assert not found, f"personal data or secrets in the logs: {found}\n{text}"
