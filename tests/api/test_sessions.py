"""Sessions end when they should: a new password, a disable (even if re-enabled) and a sign-out end
every token issued before; tokens without an expiry or with a longer life than issued are refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
from api_city import token

SECRET = "test-secret-of-at-least-32-bytes-long"  # api_city.make_client's


def _me(client, tok: str) -> int:
    return client.get("/api/me", headers={"Authorization": f"Bearer {tok}"}).status_code


def test_a_password_reset_ends_the_sessions_begun_before_it(client, auth):
    old = token(client, "street1")
    assert _me(client, old) == 200
    r = client.patch("/api/users/street1", json={"password": "a-new-password-9"}, headers=auth["admin"])
    assert r.status_code == 200
    assert _me(client, old) == 401
    new = client.post("/api/login/access-token", data={"username": "street1", "password": "a-new-password-9"})
    assert _me(client, new.json()["access_token"]) == 200


def test_re_enabling_an_account_does_not_bring_back_its_old_tokens(client, auth):
    old = token(client, "street1")
    assert client.patch("/api/users/street1", json={"disabled": True}, headers=auth["admin"]).status_code == 200
    assert client.patch("/api/users/street1", json={"disabled": False}, headers=auth["admin"]).status_code == 200
    assert _me(client, old) == 401
    assert _me(client, token(client, "street1")) == 200
    # A change of name or wards keeps the session (the next request reads the new scope).
    fresh = token(client, "street1")
    assert client.patch("/api/users/street1", json={"display_name": "民生"}, headers=auth["admin"]).status_code == 200
    assert _me(client, fresh) == 200


def test_sign_out_ends_the_session_on_the_server(client):
    tok = token(client, "planner")
    assert client.post("/api/logout", headers={"Authorization": f"Bearer {tok}"}).status_code == 204
    assert _me(client, tok) == 401
    assert client.post("/api/logout").status_code == 401


def test_tokens_without_an_expiry_or_with_a_longer_life_are_refused(client):
    now = datetime.now(timezone.utc)
    forged = {
        "no exp": {"sub": "planner", "iat": now, "ver": 0},
        "no iat": {"sub": "planner", "exp": now + timedelta(minutes=5), "ver": 0},
        "centuries": {"sub": "planner", "iat": now, "exp": now + timedelta(days=100_000), "ver": 0},
    }
    for name, claims in forged.items():
        assert _me(client, jwt.encode(claims, SECRET, algorithm="HS256")) == 401, name
    ok = {"sub": "planner", "iat": now, "exp": now + timedelta(minutes=5), "ver": 0}
    assert _me(client, jwt.encode(ok, SECRET, algorithm="HS256")) == 200  # the same, well formed
