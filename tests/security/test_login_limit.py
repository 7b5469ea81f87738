"""Sign-in rate limit: 5 failures per user name and client address, 30 per account from any address,
in 5 minutes → 429 with Retry-After."""

from __future__ import annotations

import pytest
from seckit import city

from gridgov.api.security import LoginLimiter

PASSWORD = city.PASSWORD

# No store logic here: the GeoPackage city only.
GPKG = pytest.mark.parametrize("city_url", ["gpkg"], indirect=True)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(sec_client) -> Clock:
    """A fresh limiter on the shared app, with a clock the test moves (no sleeping)."""
    clock = Clock()
    sec_client.app.state.login_limiter = LoginLimiter(clock=clock)
    return clock


def _login(client, username: str, password: str):
    return client.post("/api/login/access-token", data={"username": username, "password": password})


@GPKG
def test_five_failures_lock_the_pair_out_for_five_minutes(sec_client, clock):
    for _ in range(5):
        assert _login(sec_client, "street1", "wrong-password").status_code == 401
    clock.now += 10
    r = _login(sec_client, "street1", PASSWORD)  # even the right password: nothing is learnt
    assert r.status_code == 429
    assert r.headers["retry-after"] == "290"
    detail = r.json()["detail"]
    assert "登录失败次数过多" in detail["message"] and "too many failed sign-ins" in detail["message_en"]
    assert "5 分钟" in detail["message"] and "5 min" in detail["message_en"]
    # Another account from the same address is not locked out; the name is matched case-blind.
    assert _login(sec_client, "planner", PASSWORD).status_code == 200
    assert _login(sec_client, "STREET1", "wrong-password").status_code == 429
    clock.now += 290  # the oldest failure ages out
    assert _login(sec_client, "street1", PASSWORD).status_code == 200


@GPKG
def test_a_successful_sign_in_clears_the_count(sec_client, clock):
    for _ in range(4):
        assert _login(sec_client, "street1", "wrong-password").status_code == 401
    assert _login(sec_client, "street1", PASSWORD).status_code == 200
    for _ in range(4):
        assert _login(sec_client, "street1", "wrong-password").status_code == 401
    assert _login(sec_client, "street1", PASSWORD).status_code == 200
    for _ in range(5):
        _login(sec_client, "street1", "wrong-password")
    assert _login(sec_client, "street1", PASSWORD).status_code == 429


@GPKG
def test_unknown_user_names_are_limited_too(sec_client, clock):
    for _ in range(5):
        assert _login(sec_client, "nobody", "x").status_code == 401
    assert _login(sec_client, "nobody", "x").status_code == 429


def test_limiter_keys_on_the_client_address_and_stays_bounded():
    clock = Clock()
    limiter = LoginLimiter(max_failures=2, window_s=60, max_keys=100, clock=clock)
    for _ in range(2):
        limiter.failed("street1", "10.0.0.1")
    assert limiter.retry_after("street1", "10.0.0.1") == 60
    assert limiter.retry_after("street1", "10.0.0.2") == 0  # another address is not locked out
    clock.now += 30
    assert limiter.retry_after("street1", "10.0.0.1") == 30
    for i in range(1000):  # a spray of user names cannot grow the table without bound
        limiter.failed(f"user{i}", "10.0.0.3")
    assert len(limiter._failures) <= 100


def test_guesses_at_one_account_from_ever_new_addresses_are_limited_too():
    # Behind a proxy that appends X-Forwarded-For each guess could name a new address: eight
    # wrong passwords in a row were never refused (an operations review).
    clock = Clock()
    limiter = LoginLimiter(max_failures=5, window_s=300, max_per_account=30, clock=clock)
    for i in range(30):
        assert limiter.retry_after("street1", f"10.0.{i}.1", known=True) == 0
        limiter.failed("street1", f"10.0.{i}.1", known=True)
    assert limiter.retry_after("street1", "10.9.9.9", known=True) == 300
    assert limiter.retry_after("planner", "10.9.9.9", known=True) == 0  # other accounts are not locked out
    clock.now += 300
    assert limiter.retry_after("street1", "10.9.9.9", known=True) == 0



def test_guesses_from_elsewhere_do_not_lock_the_owner_out():
    # A review: 30 failures from 6 addresses blocked the owner at her own desk, right password and all.
    clock = Clock()
    limiter = LoginLimiter(max_failures=5, window_s=300, max_per_account=30, clock=clock)
    limiter.succeeded("admin", "10.0.0.7")  # the owner's usual address
    for i in range(30):
        limiter.failed("admin", f"10.9.{i}.1", known=True)
    assert limiter.retry_after("admin", "10.0.0.7", known=True) == 0
    assert limiter.retry_after("admin", "10.8.0.1", known=True) == 300  # a new address still waits
    limiter.succeeded("admin", "10.0.0.7")  # and her sign-in does not reset the attacker's count
    assert limiter.retry_after("admin", "10.8.0.1", known=True) > 0
    for _ in range(5):  # her own address keeps its own limit
        limiter.failed("admin", "10.0.0.7", known=True)
    assert limiter.retry_after("admin", "10.0.0.7", known=True) > 0


def test_a_spray_of_junk_failures_does_not_evict_the_count_of_an_account_under_attack():
    clock = Clock()
    limiter = LoginLimiter(max_failures=5, window_s=300, max_per_account=30, max_keys=100, clock=clock)
    for i in range(30):
        limiter.failed("admin", f"10.9.{i}.1", known=True)
    for i in range(1000):
        limiter.failed(f"junk{i}", f"10.7.{i // 250}.{i % 250}")
    assert limiter.retry_after("admin", "10.6.0.1", known=True) > 0
    assert len(limiter._failures) <= 100


@GPKG
def test_a_new_user_name_per_guess_does_not_get_past_the_limit(sec_client, clock):
    """30 failures under names that are no account: that address waits for such names (argon2 per
    guess is costly), real accounts do not."""
    for i in range(30):
        assert _login(sec_client, f"nobody{i}", "guess").status_code == 401
    r = _login(sec_client, "nobody-new", "guess")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    # Real accounts at that address still sign in (offices behind one proxy share an address).
    assert _login(sec_client, "planner", PASSWORD).status_code == 200
    assert _login(sec_client, "street1", "wrong-password").status_code == 401  # their own 5 tries
    clock.now += 301
    assert _login(sec_client, "nobody-new", "guess").status_code == 401


def test_at_most_two_password_checks_run_at_once(monkeypatch):
    import threading
    import time

    import gridgov.api.security as security

    running, peak, lock = [0], [0], threading.Lock()

    class SlowHasher:
        def verify(self, _hash, _password):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.05)
            with lock:
                running[0] -= 1
            return True

    monkeypatch.setattr(security, "_hasher", SlowHasher())
    threads = [threading.Thread(target=security.verify_password, args=("pw", "hash")) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2
