"""Edges of the service: 503 with Retry-After when the database is away, the missing-extra message."""

from __future__ import annotations

import importlib.util

import pytest
from api_city import make_client

from gridgov.errors import MissingExtraError


def test_database_away_is_503_not_500():
    with make_client("postgresql://postgres@127.0.0.1:1/nowhere") as client:
        r = client.get("/api/health")
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert "无法连接数据库" in r.json()["detail"]["message"]
        r = client.post("/api/login/access-token", data={"username": "x", "password": "y"})
        assert r.status_code == 503


def test_missing_extra_names_the_package(monkeypatch):
    import gridgov.api as api

    real = importlib.util.find_spec
    monkeypatch.setattr(api, "find_spec", lambda name: None if name == "jwt" else real(name))
    with pytest.raises(MissingExtraError) as err:
        api.require_extra()
    assert err.value.package == "pyjwt" and "gridgov[api]" in err.value.message
