"""The coverage map: who holds which grid, what is uncovered, homes, studios and dispute heat."""

from __future__ import annotations

import folium

from gridgov.maps.assets import DEFAULT_BASE_URL, AssetMode
from gridgov.maps.base import finish, new_map
from gridgov.maps.colouring import territory_colours
from gridgov.maps.labels import Lang, t
from gridgov.maps.layers import (
    Display, heat_layers, homes_layer, outline_layer, studios_layer, territories_layer, uncovered_layer,
    unplanned_layer,
)
from gridgov.maps.legend import Entry, add_legend, swatch
from gridgov.maps.scene import Scene, load_scene, worker_grids
from gridgov.maps.tiles import TileSource
from gridgov.store import SqlStore


def coverage_map(
    store: SqlStore,
    *,
    plan_id: int | None = None,
    ward: str | None = None,
    tiles: str | TileSource | None = None,
    lang: Lang = "zh",
    asset_mode: AssetMode = "inline",
    base_url: str = DEFAULT_BASE_URL,
) -> folium.Map:
    """The coverage map of a grid plan (the published one by default), of the city or one ward."""
    scene = load_scene(store, plan_id=plan_id, ward=ward)
    title = t("title_ward", lang, ward=scene.ward["name"]) if scene.ward else t("title_city", lang)
    m, display = new_map(tiles=tiles, title=title, lang=lang)
    draw_coverage(m, scene, display, lang)
    add_legend(m, title, _plan_line(scene, lang), _entries(scene, lang), lang)
    bounds_source = [scene.ward["geometry"]] if scene.ward else scene.wards.geometry
    if not len(bounds_source):
        bounds_source = scene.grids.geometry
    bounds = display.bounds(bounds_source) if len(bounds_source) else None
    return finish(m, bounds, asset_mode=asset_mode, base_url=base_url)


def ward_map(store: SqlStore, ward_code: str, **options: object) -> folium.Map:
    """The coverage map fitted to one ward (same options as ``coverage_map``)."""
    return coverage_map(store, ward=ward_code, **options)  # type: ignore[arg-type]


def _names_noting_absence(workers, lang: Lang) -> dict[str, str]:
    """Worker names, each marked when the worker is not available today: a map a street office
    reads must not send people to someone who left while the re-solve awaits publishing."""
    from gridgov.plans.roster import unavailable_today

    notes = {w: t("retired_note" if kind == "retired" else "away_note", lang)
             for w, (kind, _until) in unavailable_today(workers).items()}
    return {w: f"{name}·{notes[w]}" if w in notes else name for w, name in zip(workers["worker_id"], workers["name"])}


def draw_coverage(m: folium.Map, scene: Scene, display: Display, lang: Lang) -> None:
    """Every coverage layer, bottom to top: grids, outlines, heat, studios, homes."""
    grids = scene.grids
    colours = territory_colours(list(grids["worker_id"]), scene.edges)
    names = _names_noting_absence(scene.workers, lang)
    ward_names = dict(zip(scene.wards["code"], scene.wards["name"]))
    territories_layer(m, grids, colours, names, ward_names, display, lang)
    uncovered_layer(m, grids, ward_names, display, lang)
    unplanned_layer(m, grids, display, lang)
    outline_layer(m, scene.wards, name=t("wards", lang), color="#333333", weight=2.5, dash=None, display=display)
    outline_layer(m, scene.counties, name=t("counties", lang), color="#000000", weight=3.5, dash="10 6", display=display)
    heat_layers(m, scene.incidents, display, lang)
    studios_layer(m, scene.studios, grids, names, display, lang)
    homes_layer(m, scene.workers, worker_grids(grids), colours, display, lang)


_STATUSES = ("draft", "published", "superseded")


def _plan_line(scene: Scene, lang: Lang) -> str:
    if scene.plan is None:
        return t("no_plan", lang)
    status = str(scene.plan["status"])
    return f"{t('plan', lang, plan=int(scene.plan['plan_id']))} · {t(status, lang) if status in _STATUSES else status}"


def _entries(scene: Scene, lang: Lang) -> list[Entry]:
    n_open = int((scene.grids["worker_id"].isna() & scene.grids["in_plan"]).sum())
    entries: list[Entry] = [
        (swatch("territories"), f"{t('territories', lang)}（{t('territories_note', lang)}）"),
        (swatch("uncovered"), f"{t('uncovered', lang)}：{n_open}"),
        (swatch("wards"), t("wards", lang)),
        (swatch("counties"), t("counties", lang)),
        (swatch("homes"), t("homes", lang)),
    ]
    if scene.studios:
        entries.append((swatch("studios"), t("studios", lang)))
    if not scene.incidents.empty:
        entries.append((swatch("heat"), t("heat", lang)))
    return entries
