"""Accounts: create, list, change and authenticate users (the CLI and the API call these)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gridgov.api.security import DUMMY_HASH, hash_password, verify_password
from gridgov.errors import NotFoundError, UserError
from gridgov.plans.ledger import record
from gridgov.schema import ROLES
from gridgov.store import SqlStore, now_utc


@dataclass(frozen=True)
class User:
    """A signed-in user; ``wards`` is None for city-wide roles (admin, planner)."""

    username: str
    role: str
    display_name: str
    wards: frozenset[str] | None
    disabled: bool = False
    token_version: int = 0  # tokens issued under another version no longer sign in

    @property
    def city_wide(self) -> bool:
        return self.wards is None


def _user(row: dict[str, Any]) -> User:
    role = str(row["role"])
    wards = None if role != "street" else frozenset(row.get("wards") or [])
    return User(
        username=str(row["username"]), role=role, display_name=str(row.get("display_name") or ""),
        wards=wards, disabled=bool(row.get("disabled")), token_version=_int(row.get("token_version")),
    )


def _int(value: Any) -> int:
    return 0 if value is None or value != value else int(value)  # NULL in stores older than schema 6


def get_user(store: SqlStore, username: str) -> User | None:
    rows = store.rows("users", where={"username": username})
    return _user(rows[0]) if rows else None


def list_users(store: SqlStore) -> list[User]:
    return [_user(r) for r in store.load("users").to_dict("records")]


def _check(store: SqlStore, role: str, wards: Iterable[str]) -> list[str]:
    if role not in ROLES:
        raise UserError(f"未知角色 {role}：可用 {'、'.join(ROLES)}", f"unknown role {role}: use {', '.join(ROLES)}")
    codes = sorted(set(wards))
    if role == "street":
        if not codes:
            raise UserError("街道用户至少要绑定一个街道代码（--ward）",
                            "a street account needs at least one ward code (--ward)")
        known = set(store.load("wards")["code"])
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise UserError(f"数据库中没有这些街道：{', '.join(unknown)}",
                            f"the store has no wards {', '.join(unknown)}")
    elif codes:
        raise UserError(f"{role} 角色面向全市，不绑定街道", f"the {role} role is city-wide: give no wards")
    return codes


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise UserError("密码至少 8 位", "the password needs at least 8 characters")


def add_user(
    store: SqlStore, username: str, *, role: str, password: str, wards: Iterable[str] = (),
    display_name: str = "", actor: str,
) -> User:
    """Create an account (street accounts bound to ward codes); on the ledger without the hash."""
    username = username.strip()
    if not username:
        raise UserError("用户名不能为空", "the user name is empty")
    codes = _check(store, role, wards)
    _check_password(password)
    with store.transaction():
        if store.count("users", where={"username": username}):
            raise UserError(f"用户 {username} 已存在", f"the user {username} already exists")
        store.save("users", [{
            "username": username, "display_name": display_name or username, "role": role,
            "wards": codes if role == "street" else None, "password_hash": hash_password(password),
            "disabled": False, "created_at": now_utc(), "token_version": 0,
        }])
        record(store, actor=actor, action="user.add", subject=username,
               after={"role": role, "wards": codes})
    user = get_user(store, username)
    assert user is not None
    return user


def update_user(
    store: SqlStore, username: str, *, actor: str, role: str | None = None,
    wards: Iterable[str] | None = None, password: str | None = None, disabled: bool | None = None,
    display_name: str | None = None,
) -> User:
    """Change an account; only the fields given change."""
    with store.transaction():
        store.lock_keys("users")  # two admins disabling each other at once: one waits, then sees the other
        current = get_user(store, username)
        if current is None:
            raise NotFoundError(f"没有用户 {username}", f"no user {username}")
        new_role = role or current.role
        if current.role == "admin" and not current.disabled and (new_role != "admin" or disabled):
            others = [u for u in list_users(store) if u.role == "admin" and not u.disabled and u.username != username]
            if not others:  # the page is then the only way back, and it would need an admin
                raise UserError(f"{username} 是唯一可用的管理员账号，不能停用或改为其他角色：先新建或启用另一个管理员",
                                f"{username} is the only enabled admin: create or enable another admin first")
        codes = _check(store, new_role, wards if wards is not None else (current.wards or ()))
        values: dict[str, Any] = {"role": new_role, "wards": codes if new_role == "street" else None}
        if password is not None:
            _check_password(password)
            values["password_hash"] = hash_password(password)
        if disabled is not None:
            values["disabled"] = disabled
        if password is not None or disabled:
            # Every session begun before a new password or a disable ends now (a stolen token
            # must not outlive the reset, nor come back with a re-enable).
            values["token_version"] = current.token_version + 1
        if display_name is not None:
            values["display_name"] = display_name
        store.update("users", {"username": username}, values)
        shown = {k: v for k, v in values.items() if k not in ("password_hash", "token_version")}
        record(store, actor=actor, action="user.update", subject=username,
               after={**shown, **({"password": "changed"} if password is not None else {})})
    user = get_user(store, username)
    assert user is not None
    return user


def authenticate(store: SqlStore, username: str, password: str) -> User | None:
    """The user if the password matches and the account is enabled; None otherwise."""
    rows = store.load("users", where={"username": username})
    stored = None if rows.empty else rows.iloc[0].to_dict()
    ok = verify_password(password, stored["password_hash"] if stored else DUMMY_HASH)
    if not ok or stored is None or stored.get("disabled"):
        return None
    return _user(stored)


def end_sessions(store: SqlStore, username: str) -> None:
    """Sign out everywhere: every token issued to ``username`` so far stops working."""
    with store.transaction():
        current = get_user(store, username)
        if current is None:
            raise NotFoundError(f"没有用户 {username}", f"no user {username}")
        store.update("users", {"username": username}, {"token_version": current.token_version + 1})
