"""The plan-diff map: grids whose worker changed between two plans stand out, the rest are grey."""

from __future__ import annotations

from collections.abc import Callable

import folium
import geopandas as gpd
import pandas as pd

from gridgov.maps.assets import DEFAULT_BASE_URL, AssetMode
from gridgov.maps.base import finish, new_map
from gridgov.maps.labels import Lang, t
from gridgov.maps.layers import (
    CHANGED_ORANGE, UNCHANGED_GREY, Display, feature_collection, geojson_layer, grid_rows, outline_layer,
    popup_html, worker_label,
)
from gridgov.maps.legend import add_legend, swatch
from gridgov.maps.tiles import TileSource
from gridgov.plans.versions import diff_plans
from gridgov.store import SqlStore


def diff_map(
    store: SqlStore,
    a: int,
    b: int,
    *,
    ward: str | None = None,
    tiles: str | TileSource | None = None,
    lang: Lang = "zh",
    asset_mode: AssetMode = "inline",
    base_url: str = DEFAULT_BASE_URL,
) -> folium.Map:
    """Plan ``a`` → plan ``b``: changed grids in orange (before → after in the popup)."""
    moves = {mv.grid_code: mv for mv in diff_plans(store, a, b)}
    grids = store.load("grids", where={"ward_code": ward} if ward else None)
    wards = store.load("wards", where={"code": ward} if ward else None)
    names = dict(zip(*store.load("workers")[["worker_id", "name"]].to_numpy().T))
    ward_names = dict(zip(wards["code"], wards["name"]))
    title = t("title_diff", lang, a=a, b=b)
    m, display = new_map(tiles=tiles, title=title, lang=lang)
    changed = grids[grids["code"].isin(moves.keys())]
    unchanged = grids[~grids["code"].isin(moves.keys())]
    _grid_layer(m, unchanged, name=t("unchanged", lang), fill=UNCHANGED_GREY, opacity=0.5,
                popup=lambda row: popup_html(t("unchanged", lang), grid_rows(row, ward_names, lang)),
                display=display)
    _grid_layer(m, changed, name=f"{t('changed', lang)} ({len(changed)})", fill=CHANGED_ORANGE, opacity=0.8,
                popup=lambda row: popup_html(t("changed", lang), [
                    *grid_rows(row, ward_names, lang),
                    (t("before", lang), worker_label(moves[row["code"]].before, names, lang)),
                    (t("after", lang), worker_label(moves[row["code"]].after, names, lang)),
                ]), display=display)
    outline_layer(m, wards, name=t("wards", lang), color="#333333", weight=2.5, dash=None, display=display)
    add_legend(m, title, t("changed_count", lang, n=len(changed)), [
        (swatch("changed"), t("changed", lang)), (swatch("unchanged"), t("unchanged", lang)),
        (swatch("wards"), t("wards", lang)),
    ], lang)
    bounds = display.bounds(grids.geometry) if len(grids) else None
    return finish(m, bounds, asset_mode=asset_mode, base_url=base_url)


def _grid_layer(
    m: folium.Map, grids: gpd.GeoDataFrame, *, name: str, fill: str, opacity: float,
    popup: Callable[[pd.Series], str], display: Display,
) -> None:
    props = [{
        "style": {"fillColor": fill, "fillOpacity": opacity, "color": "#666666", "weight": 1},
        "popup": popup(row), "code": row["code"],
    } for _, row in grids.iterrows()]
    group = folium.FeatureGroup(name=name).add_to(m)
    geojson_layer(group, feature_collection(display.geoms(grids.geometry), props))
