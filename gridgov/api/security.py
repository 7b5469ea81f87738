"""Password hashes (argon2), expiring signed tokens (JWT, HS256) and the sign-in rate limit."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
ALGORITHM = "HS256"
# argon2 takes 64 MiB and most of a core per check: a flood of sign-ins must not run one in every
# worker thread at once (gigabytes, and real sign-ins waiting seconds). Two at a time on 2 cores.
_HASHING = threading.BoundedSemaphore(2)


def hash_password(password: str) -> str:
    with _HASHING:
        return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        return False
    try:
        with _HASHING:
            return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against a real hash when the user does not exist keeps the answer time the same.
DUMMY_HASH = hash_password("gridgov-no-such-user")


def create_token(username: str, *, secret: str, minutes: int, version: int = 0) -> tuple[str, datetime]:
    """A signed token naming the user and the token version it is issued under; returns it with its expiry."""
    issued = datetime.now(timezone.utc)
    expires = issued + timedelta(minutes=minutes)
    token = jwt.encode({"sub": username, "iat": issued, "exp": expires, "ver": int(version)}, secret,
                       algorithm=ALGORITHM)
    return token, expires


def read_token(token: str, *, secret: str, max_minutes: int) -> tuple[str, int] | None:
    """(user, token version) of a valid, unexpired token this service could have issued; None for
    anything else: no expiry, no issue time, or a lifetime longer than tokens are given."""
    try:
        claims: dict[str, Any] = jwt.decode(token, secret, algorithms=[ALGORITHM],
                                            options={"require": ["sub", "exp", "iat"]})
    except jwt.PyJWTError:
        return None
    sub, ver = claims.get("sub"), claims.get("ver", 0)
    lifetime = float(claims["exp"]) - float(claims["iat"])
    if not (isinstance(sub, str) and sub) or not isinstance(ver, int) or lifetime > max_minutes * 60 + 1:
        return None
    return sub, ver


_ANY = "\x00any"  # no user name and no client address holds NUL (the service refuses it in names)


def _name(username: str) -> str:
    """How the limiter tells accounts apart: case-blind, trimmed, bounded."""
    return username.strip().casefold()[:256]


def _address_key(client: str) -> tuple[str, str]:
    return (_ANY, client)


def _account_key(username: str) -> tuple[str, str]:
    return (_name(username), _ANY)


class LoginLimiter:
    """Failed sign-ins per (user name, client address): ``max_failures`` within ``window_s`` lock that pair out;
    ``max_per_account`` for one account from any addresses lock the account out for the window,
    except at the addresses it signed in from before (so an attacker cannot lock the owner out).

    Kept in this process's memory, on purpose: it needs no table and no write per attempt, and a
    restart forgetting it costs an attacker nothing they could not get by waiting. With several
    processes (uvicorn --workers N) each counts apart, so the effective limit is N x max_failures
    per window; that still turns a password guess into years. Behind a reverse proxy, run
    uvicorn with --proxy-headers (and --forwarded-allow-ips) so the client address is the
    caller's, not the proxy's. A successful sign-in clears the pair. Memory is bounded: expired
    entries are dropped, and past ``max_keys`` pairs the stalest are forgotten first.
    """

    def __init__(self, max_failures: int = 5, window_s: float = 300.0, *, max_per_client: int = 30,
                 max_per_account: int = 30, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        # Failures from one address whatever the user name: a new name per guess must not get past.
        self.max_per_client = max_per_client
        # Failures for one account whatever the address: guesses from ever new addresses (or a
        # client naming its own in X-Forwarded-For behind a proxy that appends) must not get past.
        self.max_per_account = max_per_account
        self.window_s = window_s
        self.max_keys = max_keys
        self._clock = clock
        self._failures: dict[tuple[str, str], list[float]] = {}
        # Per account, the addresses it signed in from (since the process started): the account
        # limit never holds them back, so guesses from elsewhere cannot lock the owner out.
        self._trusted: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str, client: str) -> tuple[str, str]:
        return _name(username), client

    def _recent(self, key: tuple[str, str], now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < self.window_s]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def retry_after(self, username: str, client: str, *, known: bool = False) -> int:
        """Seconds until this pair may try again; 0 when it may now. A name that is no account
        (``known`` False) also waits for its address: a new invented name per guess must not get
        past, while the offices behind one address keep signing in to their real accounts."""
        with self._lock:
            now = self._clock()
            pair = self._wait(self._key(username, client), self.max_failures, now)
            if known:
                if client in self._trusted.get(_name(username), ()):
                    return pair
                return max(pair, self._wait(_account_key(username), self.max_per_account, now))
            return max(pair, self._wait(_address_key(client), self.max_per_client, now))

    def _wait(self, key: tuple[str, str], limit: int, now: float) -> int:
        times = self._recent(key, now)
        if len(times) < limit:
            return 0
        return max(1, math.ceil(times[-limit] + self.window_s - now))

    def failed(self, username: str, client: str, *, known: bool = False) -> None:
        with self._lock:
            now = self._clock()
            keys = [(self._key(username, client), self.max_failures)]
            if known:
                keys.append((_account_key(username), self.max_per_account))
            else:  # only names that are no account count against the whole address
                keys.append((_address_key(client), self.max_per_client))
            for key, limit in keys:
                times = self._recent(key, now)
                times.append(now)
                self._failures[key] = times[-limit:]
            if len(self._failures) > self.max_keys:
                self._prune(now)

    def succeeded(self, username: str, client: str) -> None:
        """Clears the pair and trusts the address for this account; the account's count stays
        (the owner signing in must not hand an attacker elsewhere 30 fresh guesses)."""
        with self._lock:
            key = self._key(username, client)
            self._failures.pop(key, None)
            trusted = [c for c in self._trusted.pop(key[0], []) if c != client][-15:] + [client]
            self._trusted[key[0]] = trusted  # re-inserted: the dict's order is least recent first
            while len(self._trusted) > self.max_keys:
                del self._trusted[next(iter(self._trusted))]

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._failures.items() if not v or now - v[-1] >= self.window_s]:
            del self._failures[key]
        excess = len(self._failures) - self.max_keys
        if excess > 0:
            # Pairs and addresses go first, stalest first; accounts' counts last (a spray of junk
            # failures from new addresses must not evict the count of the account under attack).
            def order(k: tuple[str, str]) -> tuple[bool, float]:
                return (k[1] == _ANY, self._failures[k][-1])

            for key in sorted(self._failures, key=order)[:excess]:
                del self._failures[key]
