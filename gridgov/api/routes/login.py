"""Sign in (OAuth2 password form, rate-limited) and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from gridgov.api.accounts import authenticate, end_sessions, get_user
from gridgov.api.deps import CurrentUser, LoginLimiterDep, SettingsDep, StoreDep
from gridgov.api.errors import http_error
from gridgov.api.models import SIGNED_IN_ERRORS, TOO_MANY, Token, UserOut
from gridgov.api.security import create_token

router = APIRouter(tags=["login"])


@router.post("/login/access-token", response_model=Token,
             responses={401: SIGNED_IN_ERRORS[401], 429: TOO_MANY})
def login(
    request: Request, store: StoreDep, settings: SettingsDep, limiter: LoginLimiterDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """用户名密码登录，返回令牌 / sign in with user name and password, get a bearer token.

    同一用户名与来源地址 5 分钟内失败 5 次后返回 429（Retry-After 秒数），成功登录即清零。
    5 failures for one user name from one client address within 5 minutes answer 429 with
    Retry-After until the oldest failure ages out; a successful sign-in clears the count.
    Counted in the memory of each service process (see ``LoginLimiter``).
    """
    client = request.client.host if request.client else "-"
    known = get_user(store, form.username.strip()) is not None
    wait = limiter.retry_after(form.username, client, known=known)
    if wait:
        # Checked before the password: a locked-out pair learns nothing, not even a right guess.
        minutes = max(1, -(-wait // 60))
        exc = http_error(429, f"登录失败次数过多，请 {minutes} 分钟后再试",
                         f"too many failed sign-ins: try again in {minutes} min")
        exc.headers = {"Retry-After": str(wait)}
        raise exc
    user = authenticate(store, form.username, form.password)
    if user is None:
        limiter.failed(form.username, client, known=known)
        raise http_error(401, "用户名或密码错误，或账号已停用", "wrong user name or password, or the account is disabled")
    limiter.succeeded(form.username, client)
    token, expires = create_token(user.username, secret=request.app.state.secret,
                                  minutes=settings.api_token_minutes, version=user.token_version)
    return Token(access_token=token, expires_at=expires)


@router.get("/me", response_model=UserOut, responses={401: SIGNED_IN_ERRORS[401]})
def me(user: CurrentUser) -> UserOut:
    """当前用户 / the signed-in user."""
    return UserOut.of(user)


@router.post("/logout", status_code=204, responses={401: SIGNED_IN_ERRORS[401]})
def logout(user: CurrentUser, store: StoreDep) -> None:
    """退出登录：此账号已签发的全部令牌失效 / sign out: every token issued to this account stops working."""
    end_sessions(store, user.username)
