"""Sign in (OAuth2 password form) and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from gridgov.api.accounts import authenticate
from gridgov.api.deps import CurrentUser, SettingsDep, StoreDep
from gridgov.api.errors import http_error
from gridgov.api.models import Token, UserOut
from gridgov.api.security import create_token

router = APIRouter(tags=["login"])


@router.post("/login/access-token", response_model=Token)
def login(
    request: Request, store: StoreDep, settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """用户名密码登录，返回令牌 / sign in with user name and password, get a bearer token."""
    user = authenticate(store, form.username, form.password)
    if user is None:
        raise http_error(401, "用户名或密码错误，或账号已停用", "wrong user name or password, or the account is disabled")
    token, expires = create_token(user.username, secret=request.app.state.secret,
                                  minutes=settings.api_token_minutes)
    return Token(access_token=token, expires_at=expires)


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    """当前用户 / the signed-in user."""
    return UserOut.of(user)
