"""The FastAPI application: routes under /api, offline docs at /docs, the page at /, a job runner thread."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from gridgov.api import errors
from gridgov.api.deps import StoreDep
from gridgov.api.jobs import JobRunner
from gridgov.api.pool import StorePool
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


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app for ``settings`` (default: environment / .env); nothing touches the store until startup."""
    settings = settings or Settings()
    url = resolve_url(settings.db)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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

    api = APIRouter(prefix="/api")
    for module in (login, users, wards, grids, workers, uploads, plans, jobs, studios, ledger, maps, exports):
        api.include_router(module.router)

    @api.get("/health", tags=["health"])
    def health(store: StoreDep) -> dict[str, str]:
        """服务与数据库状态（无需登录）/ service and database up (no sign-in); 503 when the database is down."""
        store.count("wards")
        return {"status": "ok"}

    app.include_router(api)

    @app.middleware("http")
    async def no_store(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if request.url.path.startswith("/api/"):
            # Answers carry names and phone numbers: no shared or browser cache keeps them.
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

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
