"""Edges of the service: 503 with Retry-After when the database is away, the missing-extra message."""

from __future__ import annotations

import importlib.util

import pytest
from api_city import make_client

from gridgov.errors import MissingExtraError


def test_database_away_is_503_not_500(caplog):
    """Anyone may ask /api/health: the answer names neither the database's address nor the
    server's words (it did); the administrator's log has the cause, with no password."""
    with make_client("postgresql://postgres@127.0.0.1:1/nowhere?password=WeakPass123") as client:
        r = client.get("/api/health")
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert "数据库暂时无法连接" in r.json()["detail"]["message"]
        assert "127.0.0.1" not in r.text and "nowhere" not in r.text and "WeakPass123" not in r.text
        logged = " ".join(rec.getMessage() for rec in caplog.records)
        assert "StoreUnavailableError" in logged and "nowhere" in logged and "WeakPass123" not in logged
        r = client.post("/api/login/access-token", data={"username": "x", "password": "y"})
        assert r.status_code == 503


def test_missing_extra_names_the_package(monkeypatch):
    import gridgov.api as api

    real = importlib.util.find_spec
    monkeypatch.setattr(api, "find_spec", lambda name: None if name == "jwt" else real(name))
    with pytest.raises(MissingExtraError) as err:
        api.require_extra()
    assert err.value.package == "pyjwt" and "gridgov[api]" in err.value.message


def test_the_logged_cause_of_a_database_refusal_holds_no_row():
    """PostgreSQL quotes the refused row after DETAIL (names, phones): the log keeps the cause only."""
    from gridgov.errors import StoreError, cause_for_log

    exc = StoreError("写入失败", 'writing failed: new row for relation "workers" violates check constraint "c"\n'
                                 "DETAIL:  Failing row contains (W001, 张卫国, 0391-7654321).")
    said = cause_for_log(exc)
    assert said == 'writing failed: new row for relation "workers" violates check constraint "c"'


def test_health_is_503_when_the_store_reads_but_cannot_write(pg_url, caplog):
    """A full disk or a read-only database still answers reads: health said "ok" while every
    write failed. The client learns it cannot write; the log has why."""
    from urllib.parse import quote

    from gridgov.store import open_store

    open_store(pg_url, create=True).close()
    base, options = pg_url.split("options=")
    with make_client(f"{base}options={options}{quote(' -cdefault_transaction_read_only=on')}") as client:
        r = client.get("/api/health")
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert "数据库当前无法写入" in r.json()["detail"]["message"]
        assert "read-only" not in r.text
        logged = " ".join(rec.getMessage() for rec in caplog.records)
        assert "StoreReadOnlyError" in logged and "default_transaction_read_only is on" in logged
    with make_client(pg_url) as client:
        assert client.get("/api/health").json() == {"status": "ok"}
