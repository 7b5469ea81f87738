"""Accounts (admin only)."""

from __future__ import annotations

from fastapi import APIRouter

from gridgov.api.accounts import add_user, list_users, update_user
from gridgov.api.deps import AdminUser, StoreDep
from gridgov.api.models import UserCreate, UserOut, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=list[UserOut])
def users(store: StoreDep, _admin: AdminUser) -> list[UserOut]:
    """全部账号 / every account."""
    return [UserOut.of(u) for u in list_users(store)]


@router.post("", response_model=UserOut, status_code=201)
def create(body: UserCreate, store: StoreDep, admin: AdminUser) -> UserOut:
    """新建账号 / create an account."""
    return UserOut.of(add_user(store, body.username, role=body.role, password=body.password, wards=body.wards,
                               display_name=body.display_name, actor=admin.username))


@router.patch("/{username}", response_model=UserOut)
def change(username: str, body: UserUpdate, store: StoreDep, admin: AdminUser) -> UserOut:
    """修改账号（角色、街道、密码、停用）/ change an account."""
    return UserOut.of(update_user(store, username, actor=admin.username, role=body.role, wards=body.wards,
                                  password=body.password, disabled=body.disabled, display_name=body.display_name))
