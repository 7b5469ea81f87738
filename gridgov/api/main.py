"""The FastAPI application: routes under /api, offline docs at /docs, the page at /, a job runner thread."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from gridgov.api import errors
from gridgov.api.cache import RevisionCache
from gridgov.api.deps import StoreDep
from gridgov.api.jobs import JobRunner
from gridgov.api.models import SERVICE_ERRORS, SIGNED_IN_ERRORS
from gridgov.api.pool import StorePool
from gridgov.api.security import LoginLimiter
from gridgov.api.routes import (
    exports, grids, jobs, ledger, login, maps, plans, studios, uploads, users, wards, workers,
)
from gridgov.settings import Settings
from gridgov.store import resolve_url

log = logging.getLogger("gridgov.api")
SWAGGER_URL = "/static/swagger/"


def web_dir() -> Path:
    """The page's files, shipped inside the package (the top-level web/ links here)."""
    return Path(__file__).resolve().parent.parent / "web_static"


def swagger_dir() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


_GZIP_FROM_BYTES = 32_768

_PLACES = {"body": ("请求体", "body"), "query": ("查询参数", "query"), "path": ("路径", "path"),
           "header": ("请求头", "header"), "cookie": ("Cookie", "cookie")}


async def on_invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 in the body every other error has, so the page shows it in both languages.

    The offending input is never echoed: it can be a name or a phone number.
    """
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ())]
        where_zh, where_en = _PLACES.get(loc[0], (loc[0], loc[0])) if loc else ("请求", "request")
        # A body that is not JSON at all has its byte offset where a field would be.
        field = None if err.get("type") == "json_invalid" else (".".join(loc[1:]) or None)
        problems.append({
            "where": where_en, "field": field,
            "message": f"{where_zh}{' ' + field if field else ''} 无效：{_zh_reason(err)}",
            "message_en": f"{where_en}{' ' + field if field else ''}: {err.get('msg', 'invalid')}",
        })
    detail = {"message": "请求参数有误", "message_en": "the request is invalid", "problems": problems}
    return JSONResponse({"detail": detail}, status_code=422)


# pydantic's error types in Chinese; ctx fills the braces. Others keep pydantic's English.
_REASONS_ZH = {
    "missing": "缺少此项", "int_parsing": "须为整数", "int_type": "须为整数", "int_from_float": "须为整数",
    "float_parsing": "须为数字", "float_type": "须为数字", "bool_parsing": "须为 true 或 false",
    "bool_type": "须为 true 或 false", "string_type": "须为文本", "list_type": "须为列表", "dict_type": "须为对象",
    "literal_error": "须为以下之一：{expected}", "enum": "须为以下之一：{expected}",
    "less_than_equal": "须不大于 {le}", "greater_than_equal": "须不小于 {ge}", "greater_than": "须大于 {gt}",
    "less_than": "须小于 {lt}", "string_too_long": "过长（最多 {max_length} 个字符）",
    "string_too_short": "过短（至少 {min_length} 个字符）", "too_long": "项数过多（最多 {max_length} 项）",
    "json_invalid": "不是有效的 JSON", "extra_forbidden": "不允许此项", "date_parsing": "日期须写作 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期须写作 YYYY-MM-DD", "date_type": "日期须写作 YYYY-MM-DD",
    "string_pattern_mismatch": "格式不对",
}


def _zh_reason(err: dict) -> str:
    template = _REASONS_ZH.get(str(err.get("type")))
    if template is None:
        return str(err.get("msg", ""))
    try:
        ctx = {k: str(v).replace("'", "") for k, v in (err.get("ctx") or {}).items()}
        if "expected" in ctx:  # "one, several or auto" -> "one、several、auto"
            ctx["expected"] = ctx["expected"].replace(" or ", ", ").replace(", ", "、")
        return template.format(**ctx)
    except (KeyError, IndexError):
        return str(err.get("msg", ""))


_STATUS_ZH = {400: "请求无法解析", 404: "不存在", 405: "不支持此方法", 413: "请求过大", 415: "不支持的内容类型"}


async def on_http_error(_request: Request, exc: Exception) -> Response:
    """Every HTTPException in the one bilingual body, including the framework's own ones
    (a body it cannot parse answers {"detail": "There was an error parsing the body"} otherwise)."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    detail = exc.detail
    if not (isinstance(detail, dict) and "message" in detail and "message_en" in detail):
        detail = {"message": _STATUS_ZH.get(exc.status_code, "请求无法处理"), "message_en": str(detail)}
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


def _errors_as_json(spec: dict) -> dict:
    """Error answers are JSON on every route: FastAPI files them under the route's own media type
    (application/geo+json, text/html, the xlsx type), which would tell clients the wrong thing."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for code, answer in operation.get("responses", {}).items():
                content = answer.get("content")
                if code[:1] in ("4", "5") and content and "application/json" not in content:
                    answer["content"] = {"application/json": next(iter(content.values()))}
    return spec


class AccessLogWithoutQuery(logging.Filter):
    """uvicorn's access line without the query string: a client may put a name or phone in one
    (the routes take none, but ``?q=张三`` still reaches the log), and logs outlive the data."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (args[0], args[1], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


ACCESS_LOG_FILTER = AccessLogWithoutQuery()
_NUL_BODY_TYPES = (b"application/json", b"application/x-www-form-urlencoded")
_NUL = {"detail": {"message": "请求含有空字符（\\0），无法处理", "message_en": "the request holds a NUL character (\\0)"}}


class GuardMiddleware:
    """Headers on every answer and NUL characters refused, as plain ASGI (no per-request task).

    - ``/api/`` answers carry names and phone numbers: ``Cache-Control: no-store`` keeps them out
      of shared and browser caches; ``X-Content-Type-Options: nosniff`` everywhere.
    - PostgreSQL text cannot hold NUL: one in a path, query or JSON/form body would reach the
      driver and fail there (a 500); it is refused up front with 422 for both stores alike.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")
        if api and ("\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")):
            await self._reject(scope, receive, send)
            return
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
        if api and content_type.startswith(_NUL_BODY_TYPES):
            chunks, more = [], True
            while more:  # these bodies are small (the uploads are multipart and not read here)
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            data = b"".join(chunks)
            if b"\\u0000" in data or b"%00" in data or b"\x00" in data:
                await self._reject(scope, receive, send)
                return
            replayed = False

            async def receive_again() -> dict:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": data, "more_body": False}
                return await receive()

            receive = receive_again

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if api:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _reject(self, scope: dict, receive: Callable, send: Callable) -> None:
        response = JSONResponse(_NUL, status_code=422, headers={"Cache-Control": "no-store"})
        await response(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app for ``settings`` (default: environment / .env); nothing touches the store until startup."""
    settings = settings or Settings()
    url = resolve_url(settings.db)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        # Threads that run the sync routes and dependencies of this process (anyio's default: 40).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        app.state.pool = StorePool(url, size=settings.api_store_pool)
        runner = None
        if settings.api_run_jobs:
            runner = JobRunner(app.state.pool, poll_s=settings.api_job_poll_s, stale_s=settings.api_job_stale_s)
            runner.start()
        app.state.runner = runner
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()
            app.state.pool.close()

    app = FastAPI(
        title="gridgov", version="0.1.0", lifespan=lifespan,
        description="劳模包网格与调解工作室 / model workers on governance grids and mediation studios",
        # The default docs pages load swagger-ui from a CDN: intranets are offline, so /docs is
        # served below from the swagger-ui-bundle package's files instead; ReDoc is off.
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
    )
    app.state.settings = settings
    if settings.api_secret:
        app.state.secret = settings.api_secret
    else:
        app.state.secret = secrets.token_urlsafe(32)
        log.warning("GRIDGOV_API_SECRET 未设置：使用随机密钥，重启后需重新登录 / no API secret set: "
                    "a random one is used and sign-ins end with a restart")
    errors.install(app)
    # One filter object: addFilter ignores a second add, so many apps in one process add it once.
    logging.getLogger("uvicorn.access").addFilter(ACCESS_LOG_FILTER)
    app.state.login_limiter = LoginLimiter()
    app.state.cache = RevisionCache(size=settings.api_cache_entries)

    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    plain_openapi = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = _errors_as_json(plain_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    api = APIRouter(prefix="/api")
    api.include_router(login.router, responses=SERVICE_ERRORS)  # /me adds its own 401
    for module in (users, wards, grids, workers, uploads, plans, jobs, studios, ledger, maps, exports):
        api.include_router(module.router, responses=SIGNED_IN_ERRORS)

    @api.get("/health", tags=["health"], responses={503: SERVICE_ERRORS[503]})
    def health(store: StoreDep) -> dict[str, str]:
        """服务与数据库状态（无需登录）/ service and database up (no sign-in); 503 when the database is down."""
        store.count("wards")
        return {"status": "ok"}

    app.include_router(api)

    app.add_middleware(GuardMiddleware)
    # Maps and city GeoJSON run to megabytes (the demo's coverage map: 13.9 MB of HTML, mostly
    # coordinates); small answers, the street offices' hot path, are left as they are.
    app.add_middleware(GZipMiddleware, minimum_size=_GZIP_FROM_BYTES)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="gridgov API",
            swagger_js_url=f"{SWAGGER_URL}swagger-ui-bundle.js", swagger_css_url=f"{SWAGGER_URL}swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_URL}favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def docs_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.mount(SWAGGER_URL.rstrip("/"), StaticFiles(directory=swagger_dir()), name="swagger")
    try:
        from gridgov.maps.assets import static_dir

        app.mount(maps.MAPS_URL.rstrip("/"), StaticFiles(directory=static_dir()), name="maps-static")
    except ImportError:  # pragma: no cover - the maps package ships with gridgov
        log.warning("gridgov.maps not available: map assets not served")
    app.mount("/", StaticFiles(directory=web_dir(), html=True), name="web")
    return app
