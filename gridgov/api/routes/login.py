"""Sign in (OAuth2 password form, rate-limited), who am I, sign out, change one's own password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from gridgov.api.accounts import authenticate, end_sessions, get_user, update_user
from gridgov.api.deps import CurrentUser, LoginLimiterDep, SettingsDep, StoreDep
from gridgov.api.errors import http_error
from gridgov.api.models import SIGNED_IN_ERRORS, TOO_MANY, PasswordChange, Token, UserOut
from gridgov.api.security import LoginLimiter, create_token

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
    client = _client(request)
    known = get_user(store, form.username.strip()) is not None
    _refuse_while_locked_out(limiter, form.username, client, known=known)
    user = authenticate(store, form.username, form.password)
    if user is None:
        limiter.failed(form.username, client, known=known)
        raise http_error(401, "用户名或密码错误，或账号已停用", "wrong user name or password, or the account is disabled")
    limiter.succeeded(form.username, client)
    token, expires = create_token(user.username, secret=request.app.state.secret,
                                  minutes=settings.api_token_minutes, version=user.token_version)
    return Token(access_token=token, expires_at=expires)


def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


def _refuse_while_locked_out(limiter: LoginLimiter, username: str, client: str, *, known: bool) -> None:
    # Checked before the password: a locked-out pair learns nothing, not even a right guess.
    wait = limiter.retry_after(username, client, known=known)
    if wait:
        minutes = max(1, -(-wait // 60))
        exc = http_error(429, f"登录失败次数过多，请 {minutes} 分钟后再试",
                         f"too many failed sign-ins: try again in {minutes} min")
        exc.headers = {"Retry-After": str(wait)}
        raise exc


@router.get("/me", response_model=UserOut, responses={401: SIGNED_IN_ERRORS[401]})
def me(user: CurrentUser) -> UserOut:
    """当前用户 / the signed-in user."""
    return UserOut.of(user)


@router.post("/logout", status_code=204, responses={401: SIGNED_IN_ERRORS[401]})
def logout(user: CurrentUser, store: StoreDep) -> None:
    """退出登录：此账号已签发的全部令牌失效 / sign out: every token issued to this account stops working."""
    end_sessions(store, user.username)


@router.post("/me/password", response_model=Token,
             responses={400: SIGNED_IN_ERRORS[400], 401: SIGNED_IN_ERRORS[401], 429: TOO_MANY})
def change_password(
    request: Request, body: PasswordChange, user: CurrentUser, store: StoreDep, settings: SettingsDep,
    limiter: LoginLimiterDep,
) -> Token:
    """修改自己的密码：需当前密码；此前签发的令牌全部失效，返回新令牌 / change your own password:
    the current one is asked for; every earlier token stops working and a new one is returned.

    A wrong current password counts as a failed sign-in (a stolen session must not become a way
    to guess the password).
    """
    client = _client(request)
    _refuse_while_locked_out(limiter, user.username, client, known=True)
    if authenticate(store, user.username, body.current_password) is None:
        limiter.failed(user.username, client, known=True)
        raise http_error(400, "当前密码不正确", "the current password is wrong")
    if body.new_password == body.current_password:
        raise http_error(400, "新密码不能与当前密码相同", "the new password is the current one")
    limiter.succeeded(user.username, client)
    changed = update_user(store, user.username, actor=user.username, password=body.new_password)
    token, expires = create_token(changed.username, secret=request.app.state.secret,
                                  minutes=settings.api_token_minutes, version=changed.token_version)
    return Token(access_token=token, expires_at=expires)
