"""Sessions end when they should: a new password, a disable (even if re-enabled) and a sign-out end
every token issued before; tokens without an expiry or with a longer life than issued are refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
from api_city import PASSWORD, token

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


def _change(client, tok: str, current: str, new: str):
    return client.post("/api/me/password", json={"current_password": current, "new_password": new},
                       headers={"Authorization": f"Bearer {tok}"})


def test_a_user_changes_their_own_password_and_keeps_working_with_the_new_token(client):
    # An office could only ask the administrator, who typed the password in the first place.
    old = token(client, "street1")
    r = _change(client, old, PASSWORD, "street-new-pass-7")
    assert r.status_code == 200
    assert _me(client, old) == 401  # every session begun before ends, a copied token too
    assert _me(client, r.json()["access_token"]) == 200
    assert client.post("/api/login/access-token", data={"username": "street1", "password": PASSWORD}).status_code == 401
    assert token(client, "street1", "street-new-pass-7")
    entry = client.get("/api/ledger", headers={"Authorization": f"Bearer {token(client, 'planner')}"}).json()
    changes = [e for e in entry if e["action"] == "user.update" and e["subject"] == "street1"]
    assert changes and changes[0]["actor"] == "street1" and "password_hash" not in str(changes[0])


def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failed_sign_in(client):
    tok = token(client, "planner")
    for _ in range(5):
        r = _change(client, tok, "not-the-password", "planner-new-pass-7")
        assert r.status_code == 400 and r.json()["detail"]["message"] == "当前密码不正确"
    assert _change(client, tok, PASSWORD, "planner-new-pass-7").status_code == 429  # locked out, even right
    assert _me(client, tok) == 200  # nothing ended the session
    r = client.post("/api/login/access-token", data={"username": "planner", "password": PASSWORD})
    assert r.status_code == 429  # the same count as signing in


def test_a_new_password_is_checked(client):
    tok = token(client, "street1")
    short = _change(client, tok, PASSWORD, "short")
    assert short.status_code == 422 and "新密码" in str(short.json())
    same = _change(client, tok, PASSWORD, PASSWORD)
    assert same.status_code == 400 and same.json()["detail"]["message_en"] == "the new password is the current one"
    assert _me(client, tok) == 200
