"""The FastAPI application: routes under /api, offline docs at /docs, the page at /, a job runner thread."""

from __future__ import annotations

import logging
import re
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
from gridgov.errors import StoreReadOnlyError
from gridgov.settings import Settings
from gridgov.store import resolve_url

log = logging.getLogger("gridgov.api")
SWAGGER_URL = "/static/swagger/"


def web_dir() -> Path:
    """The page's files, shipped inside the package (the top-level web/ links here)."""
    return Path(__file__).resolve().parent.parent / "web_static"


def swagger_dir() -> Path:
    """swagger-ui 5's files, from the swagger-ui-py package (found, not imported: its module
    pulls in web-framework glue gridgov does not use)."""
    from importlib.util import find_spec

    spec = find_spec("swagger_ui")
    assert spec is not None and spec.submodule_search_locations  # require_extra checked it
    return Path(list(spec.submodule_search_locations)[0]) / "static"


_GZIP_FROM_BYTES = 32_768

_PLACES = {"body": ("请求体", "body"), "query": ("查询参数", "query"), "path": ("路径", "path"),
           "header": ("请求头", "header"), "cookie": ("Cookie", "cookie")}
# Request fields as the page's forms name them: a clerk read "请求体 start 无效".
_FIELDS_ZH = {
    "start": "开始日期", "end": "结束日期", "capacity": "承担能力", "plan_id": "方案编号", "rule": "规则",
    "lang": "语言", "wards": "街道", "time_limit": "时限（秒）", "worker_id": "劳模编号", "name": "姓名",
    "phone": "电话", "employer": "单位", "sector": "行业", "honours": "荣誉", "home_ward": "居住街道",
    "lon": "经度", "lat": "纬度", "username": "用户名", "password": "密码", "role": "角色",
    "current_password": "当前密码", "new_password": "新密码",
    "display_name": "显示名称", "disabled": "停用", "limit": "条数", "offset": "起始位置", "ward": "街道",
    "a": "方案 A", "b": "方案 B", "code": "代码", "reinstate": "重新启用", "replace": "替换", "force": "强制",
    "changed": "只求解变动街道", "contiguity": "片区连片", "balance": "工作量均衡容差", "ward_rules": "各街道规则",
    "dry_run": "试运行", "sheet": "工作表", "crs": "坐标系", "repair": "修复几何", "title": "称号", "level": "级别",
    "year": "年份", "file": "文件",
}


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
        # The field's name, then where in it (荣誉第 1 项的称号, 各街道规则 410802001).
        label_zh = _field_zh(loc[1:]) if field else None
        problems.append({
            "where": where_en, "field": field,
            "message": f"{label_zh}：{_zh_reason(err)}" if label_zh else f"{where_zh}无效：{_zh_reason(err)}",
            "message_en": f"{where_en}{' ' + field if field else ''}: {err.get('msg', 'invalid')}",
        })
    detail = {"message": "请求参数有误", "message_en": "the request is invalid", "problems": problems}
    return JSONResponse({"detail": detail}, status_code=422)


def _field_zh(path: list[str]) -> str:
    head, *rest = path
    label = _FIELDS_ZH.get(head, head)
    for part in rest:
        label += f"第 {int(part) + 1} 项" if part.isdigit() and len(part) < 6 else f"的{_FIELDS_ZH[part]}" if part in _FIELDS_ZH else f" {part}"
    return label


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
        ctx = {k: (f"{v:g}" if isinstance(v, float) else str(v)).replace("'", "") for k, v in (err.get("ctx") or {}).items()}
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
    """uvicorn's access line without the query string or a worker's id: a client may put a name
    or phone in a query (the routes take none, but ``?q=张三`` still reaches the log), a roster may
    use phone or ID-card numbers as worker ids, and logs outlive the data."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = args[2].split("?", 1)[0] + ("?…" if "?" in args[2] else "")
            path = _WORKER_IN_PATH.sub(r"\1…", path)
            record.args = (args[0], args[1], path, *args[3:])
        return True


_WORKER_IN_PATH = re.compile(r"^(/api/workers/)[^/?]+")


ACCESS_LOG_FILTER = AccessLogWithoutQuery()
_NUL_BODY_TYPES = (b"application/json", b"application/x-www-form-urlencoded")
_NUL = {"detail": {"message": "请求含有空字符（\\0），无法处理", "message_en": "the request holds a NUL character (\\0)"}}


class _TooLarge(Exception):
    """A request body passed its limit while being read."""


class GuardMiddleware:
    """Headers on every answer, request bodies bounded, NUL characters refused, as plain ASGI.

    - ``/api/`` answers carry names and phone numbers: ``Cache-Control: no-store`` keeps them out
      of shared and browser caches; ``X-Content-Type-Options: nosniff``, ``Referrer-Policy`` and
      ``X-Frame-Options`` everywhere (the page is not to be framed by other sites).
    - A body under ``/api/`` is bounded while it arrives (uploads by ``api_max_upload_mb``, JSON
      and forms by 1 MB): a declared length over the limit is refused before a byte is read, a
      longer stream as soon as it passes the limit (413). The framework would otherwise spool an
      upload of any size to disk, or hold a JSON body in memory, before sign-in is even checked.
    - An upload without a valid token is refused (401) before its body is read.
    - PostgreSQL text cannot hold NUL: one in a path, query or JSON/form value would reach the
      driver and fail there (a 500); it is refused up front with 422 for both stores alike.
    """

    def __init__(self, app: Any, *, max_upload_bytes: int, max_body_bytes: int = 1 << 20) -> None:
        self.app = app
        self.max_upload_bytes = max_upload_bytes
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")
        if api and ("\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")):
            await self._answer(scope, receive, send, 422, _NUL)
            return
        headers = dict(scope.get("headers") or [])
        upload = scope["path"].startswith("/api/uploads/")
        limit = self.max_upload_bytes if upload else self.max_body_bytes
        declared = headers.get(b"content-length", b"")
        if api and declared.isdigit() and int(declared) > limit:
            await self._answer(scope, receive, send, 413, _too_large(limit))
            return
        if upload and scope.get("method") == "POST" and not _signed_in(scope, headers):
            await self._answer(scope, receive, send, 401, _SIGN_IN, extra={"WWW-Authenticate": "Bearer"})
            return
        state = {"too_large": False, "started": False}
        if api:
            receive = _bounded(receive, limit, state)
        if api and headers.get(b"content-type", b"").startswith(_NUL_BODY_TYPES):
            try:
                data = await _read_all(receive)
            except _TooLarge:
                await self._answer(scope, receive, send, 413, _too_large(limit))
                return
            if _holds_nul(data, headers.get(b"content-type", b"")):
                await self._answer(scope, receive, send, 422, _NUL)
                return
            receive = _replay(data, receive)

        async def send_guarded(message: dict) -> None:
            if message["type"] == "http.response.start":
                if state["too_large"]:  # the framework's own answer to a cut-off body: ours instead
                    raise _TooLarge
                state["started"] = True
                message = {**message, "headers": _with_headers(message.get("headers", []), api=api)}
            await send(message)

        try:
            await self.app(scope, receive, send_guarded)
        except _TooLarge:
            if state["started"]:
                raise
            await self._answer(scope, receive, send, 413, _too_large(limit))

    async def _answer(self, scope: dict, receive: Callable, send: Callable, status: int, body: dict,
                      extra: dict[str, str] | None = None) -> None:
        response = JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store", **(extra or {})})

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _with_headers(message.get("headers", []), api=True)}
            await send(message)

        await response(scope, receive, send_with_headers)


_SIGN_IN = {"detail": {"message": errors.SIGN_IN_AGAIN[0], "message_en": errors.SIGN_IN_AGAIN[1]}}


def _too_large(limit: int) -> dict:
    mb = f"{limit / (1 << 20):g}"
    return {"detail": {"message": f"请求过大（上限 {mb} MB）", "message_en": f"the request is larger than the {mb} MB limit"}}


def _signed_in(scope: dict, headers: dict[bytes, bytes]) -> bool:
    """A signature-valid, unexpired bearer token (the route checks the account and role as usual)."""
    from gridgov.api.security import read_token

    auth = headers.get(b"authorization", b"").decode("latin-1")
    if not auth.lower().startswith("bearer "):
        return False
    app = scope.get("app")
    state = getattr(app, "state", None)
    if state is None:
        return True  # not mounted in our app: leave it to the route
    return read_token(auth[7:].strip(), secret=state.secret, max_minutes=state.settings.api_token_minutes) is not None


def _bounded(receive: Callable, limit: int, state: dict) -> Callable:
    seen = 0

    async def receive_bounded() -> dict:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            state["too_large"] = True
            raise _TooLarge
        return message

    return receive_bounded


async def _read_all(receive: Callable) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(data: bytes, receive: Callable) -> Callable:
    replayed = False

    async def receive_again() -> dict:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": data, "more_body": False}
        return await receive()

    return receive_again


def _holds_nul(data: bytes, content_type: bytes) -> bool:
    """A NUL in the body's values: raw, escaped in JSON (\\u0000), or %00 in a form. Text that only
    reads like one (the six characters \\u0000 in a JSON string, 100%00 in JSON) is no NUL."""
    if b"\x00" in data:
        return True
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        return b"%00" in data
    if b"\\u0000" not in data:
        return False
    import json

    try:
        return _any_nul(json.loads(data))
    except ValueError:
        return False  # not JSON: the route answers 422 for that


def _any_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_any_nul(k) or _any_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_any_nul(v) for v in value)
    return False


def _with_headers(headers: list, *, api: bool) -> list:
    names = {k.lower() for k, _ in headers}
    if api:
        headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
        headers.append((b"cache-control", b"no-store"))
    for name, value in _SECURITY_HEADERS:
        if name not in names:
            headers.append((name, value))
    return headers


# Map frames are srcdoc iframes of the page (sandboxed): they are framed by the page itself only.
# The policy leaves scripts and images alone: the maps' srcdoc frames inherit it and run folium's
# inline scripts, and tiles may come from an intranet tile server; it stops the rest (plugins,
# a foreign <base>, forms and fetches to other hosts: a token cannot be posted elsewhere).
_CSP = b"frame-ancestors 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; connect-src 'self'"
_SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                     (b"x-frame-options", b"SAMEORIGIN"), (b"content-security-policy", _CSP))


# The files /docs loads; the rest of swagger-ui-py's folder (its demo initializer fetches the
# petstore from the internet) is not served.
_SWAGGER_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"})


class ServedFiles(StaticFiles):
    """StaticFiles limited to the files meant to be served: ``only`` these names, or none ending
    in ``hide_suffixes`` (the page's folder is a Python package too)."""

    def __init__(self, *, only: frozenset[str] | None = None, hide_suffixes: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.only = only
        self.hide_suffixes = hide_suffixes

    async def get_response(self, path: str, scope: dict) -> Response:
        if (self.only is not None and path not in self.only) or path.endswith(self.hide_suffixes) or "__pycache__" in path:
            raise StarletteHTTPException(status_code=404)
        return await super().get_response(path, scope)


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
            runner = JobRunner(app.state.pool, poll_s=settings.api_job_poll_s, stale_s=settings.api_job_stale_s,
                               solve_threads=settings.api_solve_threads)
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
        # served below from the swagger-ui-py package's files (swagger-ui 5) instead; ReDoc is off.
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
    # The city map is ~14 MB of HTML built in 4-6 s: a few kept apart, so they never crowd out
    # (or multiply in) the small answers above.
    app.state.map_cache = RevisionCache(size=4)

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
        if (problem := store.write_problem()) is not None:
            raise StoreReadOnlyError("数据库无法写入", f"the store cannot be written: {problem}")
        return {"status": "ok"}

    app.include_router(api)

    app.add_middleware(GuardMiddleware, max_upload_bytes=int(settings.api_max_upload_mb * (1 << 20)))
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

    app.mount(SWAGGER_URL.rstrip("/"), ServedFiles(directory=swagger_dir(), only=_SWAGGER_FILES), name="swagger")
    try:
        from gridgov.maps.assets import static_dir

        app.mount(maps.MAPS_URL.rstrip("/"), StaticFiles(directory=static_dir()), name="maps-static")
    except ImportError:  # pragma: no cover - the maps package ships with gridgov
        log.warning("gridgov.maps not available: map assets not served")
    app.mount("/", ServedFiles(directory=web_dir(), html=True, hide_suffixes=(".py", ".pyc")), name="web")
    return app
