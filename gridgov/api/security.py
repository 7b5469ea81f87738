"""Password hashes (argon2) and expiring signed tokens (JWT, HS256)."""

from __future__ import annotations

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
