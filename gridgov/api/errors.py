"""One mapping from gridgov errors to HTTP answers, every body shaped {"detail": {"message", "message_en", ...}}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from gridgov.errors import (
    AbsenceReplaceError,
    ChangedMeanwhileError,
    DeletedWorkerIdError,
    GridgovError,
    InfeasibleError,
    LockedError,
    MissingExtraError,
    NotFoundError,
    RetiredWorkerError,
    StalePlanError,
    StoreError,
    StoreReadOnlyError,
    StoreUnavailableError,
    UserError,
    ValidationError,
    WorkerInPlansError,
    cause_for_log,
)

log = logging.getLogger("gridgov.api")

# Most specific first: the first matching class decides the status.
_STATUS: tuple[tuple[type[GridgovError], int], ...] = (
    (ValidationError, 422),
    (NotFoundError, 404),
    (InfeasibleError, 422),
    (DeletedWorkerIdError, 409),  # the id of a row deleted by mistake: restore it, or another id
    (ChangedMeanwhileError, 409),  # another change landed while the import was checked: import again
    (LockedError, 409),  # another solve holds the ward: retry when it has finished
    (StalePlanError, 409),  # publishing it would undo what was published since it was solved
    (WorkerInPlansError, 409),  # named by a published or past plan: retire instead
    (RetiredWorkerError, 409),
    (AbsenceReplaceError, 409),  # a new absence would drop days of one not over yet: confirm with ?replace=true  # 恢复可用 on a retired worker: confirm with ?reinstate=true
    (UserError, 400),
    (StoreUnavailableError, 503),
    (StoreError, 500),
    (MissingExtraError, 501),
    (GridgovError, 500),
)


def http_error(status: int, message: str, message_en: str) -> HTTPException:
    """An HTTPException with the same bilingual body as every other error."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return HTTPException(status_code=status, detail={"message": message, "message_en": message_en}, headers=headers)


# What a missing, expired or revoked sign-in is told, by the routes and by the request guard alike.
SIGN_IN_AGAIN = ("未登录或登录已过期，请重新登录", "not signed in or the session expired: sign in again")


def not_visible(what: str, what_en: str) -> HTTPException:
    """404 for a thing that does not exist or is outside the caller's wards — on purpose the same."""
    return http_error(404, f"{what}不存在或不在您负责的街道内", f"{what_en} does not exist or is not in your wards")


_STORE_SAYS: dict[type | int, tuple[str, str]] = {
    StoreReadOnlyError: ("数据库当前无法写入，请联系管理员（原因已记入服务日志）",
                         "the database cannot take writes now: tell the administrator (the cause is in the service log)"),
    503: ("数据库暂时无法连接，请稍后重试", "the database is unavailable: try again shortly"),
    500: ("数据库读写失败，请联系管理员（原因已记入服务日志）", "a database error: tell the administrator (the cause is in the service log)"),
}


def body(exc: GridgovError) -> dict:
    detail: dict = {"message": exc.message, "message_en": exc.message_en}
    if isinstance(exc, ValidationError):
        detail["problems"] = [
            {"file": p.file, "where": p.where, "where_en": p.where_en, "field": p.field, "message": p.message,
             "message_en": p.message_en, "fix": p.fix, "fix_en": p.fix_en}
            for p in exc.problems
        ]
    return {"detail": detail}


def status_of(exc: GridgovError) -> int:
    return next(code for cls, code in _STATUS if isinstance(exc, cls))


def install(app: FastAPI) -> None:
    async def on_gridgov(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GridgovError)
        status = status_of(exc)
        headers = {"Retry-After": "5"} if status == 503 else None
        if isinstance(exc, StoreError):
            # The cause is for the administrator's log (a full disk, a refused connection; store
            # messages name no person and mask passwords); the client, perhaps not signed in
            # (/api/health), learns neither the database's address nor the server's words.
            log.error("request failed: %s: %s", type(exc).__name__, cause_for_log(exc))
            return JSONResponse({"detail": dict(zip(("message", "message_en"), _STORE_SAYS.get(type(exc)) or _STORE_SAYS[status]))},
                                status_code=status, headers=headers)
        if status >= 500:
            log.error("request failed: %s", type(exc).__name__)
        return JSONResponse(body(exc), status_code=status, headers=headers)

    app.add_exception_handler(GridgovError, on_gridgov)
