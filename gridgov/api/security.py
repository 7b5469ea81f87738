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


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against a real hash when the user does not exist keeps the answer time the same.
DUMMY_HASH = hash_password("gridgov-no-such-user")


def create_token(username: str, *, secret: str, minutes: int) -> tuple[str, datetime]:
    """A signed token naming the user; returns it with its expiry."""
    expires = datetime.now(timezone.utc) + timedelta(minutes=minutes)
    token = jwt.encode({"sub": username, "exp": expires}, secret, algorithm=ALGORITHM)
    return token, expires


def read_token(token: str, *, secret: str) -> str | None:
    """The user a valid, unexpired token names; None for anything else."""
    try:
        claims: dict[str, Any] = jwt.decode(token, secret, algorithms=[ALGORITHM])
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) and sub else None


class LoginLimiter:
    """Failed sign-ins per (user name, client address): ``max_failures`` within ``window_s`` lock that pair out.

    Kept in this process's memory, on purpose: it needs no table and no write per attempt, and a
    restart forgetting it costs an attacker nothing they could not get by waiting. With several
    processes (uvicorn --workers N) each counts apart, so the effective limit is N x max_failures
    per window; that still turns a password guess into years. Behind a reverse proxy, run
    uvicorn with --proxy-headers (and --forwarded-allow-ips) so the client address is the
    caller's, not the proxy's. A successful sign-in clears the pair. Memory is bounded: expired
    entries are dropped, and past ``max_keys`` pairs the stalest are forgotten first.
    """

    def __init__(self, max_failures: int = 5, window_s: float = 300.0, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_keys = max_keys
        self._clock = clock
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(username: str, client: str) -> tuple[str, str]:
        return username.strip().casefold()[:256], client

    def _recent(self, key: tuple[str, str], now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < self.window_s]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def retry_after(self, username: str, client: str) -> int:
        """Seconds until this pair may try again; 0 when it may now."""
        with self._lock:
            now = self._clock()
            times = self._recent(self._key(username, client), now)
            if len(times) < self.max_failures:
                return 0
            return max(1, math.ceil(times[-self.max_failures] + self.window_s - now))

    def failed(self, username: str, client: str) -> None:
        with self._lock:
            now = self._clock()
            key = self._key(username, client)
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times[-self.max_failures:]
            if len(self._failures) > self.max_keys:
                self._prune(now)

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._failures.pop(self._key(username, client), None)

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._failures.items() if not v or now - v[-1] >= self.window_s]:
            del self._failures[key]
        excess = len(self._failures) - self.max_keys
        if excess > 0:
            for key in sorted(self._failures, key=lambda k: self._failures[k][-1])[:excess]:
                del self._failures[key]
