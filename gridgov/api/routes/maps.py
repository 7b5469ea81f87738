"""Maps as HTML from gridgov.maps (the CLI's maps), linking the offline Leaflet the app serves itself."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from gridgov.api.deps import PlannerUser, ScopeDep, StoreDep
from gridgov.api.models import RowId
from gridgov.api.errors import http_error

router = APIRouter(prefix="/maps", tags=["maps"])
Lang = Literal["zh", "en"]
MAPS_URL = "/static/maps/"  # where create_app mounts gridgov.maps' static_dir()


def _maps() -> Any:
    try:
        import gridgov.maps as maps
    except ImportError as exc:  # the maps package not installed or not yet complete
        raise http_error(501, "地图模块不可用", "the maps module is not available") from exc
    return maps


_ASSETS = {"asset_mode": "url", "base_url": MAPS_URL}


def _html(m: Any) -> HTMLResponse:
    return HTMLResponse(_maps().render_html(m, **_ASSETS))


# What the coverage map is drawn from (the ledger: the shapes of grids removed since a plan).
_COVERAGE_LAYERS = ("counties", "wards", "grids", "workers", "incidents", "sites", "plans", "assignments", "ledger")


@router.get("/coverage", response_class=HTMLResponse)
def coverage(request: Request, store: StoreDep, _user: PlannerUser, plan_id: RowId | None = None,
             lang: Lang = "zh") -> HTMLResponse:
    """全市覆盖地图 / the city coverage map (published plan unless plan_id).

    Built once and kept until a layer it is drawn from changes: it was rebuilt on every sign-in,
    publish and language switch. The day is in the key, as it marks who is away today.
    """
    from gridgov.localtime import today

    key = ("coverage", plan_id, lang, today().isoformat())
    html = request.app.state.map_cache.get_or_read(store, key, _COVERAGE_LAYERS, lambda: _maps().render_html(
        _maps().coverage_map(store, plan_id=plan_id, lang=lang, **_ASSETS), **_ASSETS))
    return HTMLResponse(html)


@router.get("/ward/{code}", response_class=HTMLResponse)
def ward(code: str, store: StoreDep, scope: ScopeDep, lang: Lang = "zh") -> HTMLResponse:
    """一个街道的地图（街道用户只能看本街道）/ one ward's map."""
    scope.require_ward(store, code)
    return _html(_maps().ward_map(store, code, lang=lang, **_ASSETS))


@router.get("/diff", response_class=HTMLResponse)
def diff(a: RowId, b: RowId, store: StoreDep, _user: PlannerUser, lang: Lang = "zh") -> HTMLResponse:
    """两个方案差异地图 / grids whose worker changed from plan a to plan b."""
    return _html(_maps().diff_map(store, a, b, lang=lang, **_ASSETS))
