"""Map layers: territories, uncovered grids, outlines, homes, studios, dispute heat, legend, fitting."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.plugins import HeatMap
from shapely.geometry import mapping

from gridgov.maps.elements import PropertyPopup, Raw
from gridgov.maps.gcj02 import shift_geometries, wgs84_to_gcj02
from gridgov.maps.labels import Lang, dispute_label, t
from gridgov.maps.scene import Studio
from gridgov.plans.allocation import reason_in
from gridgov.schema import DISPUTE_TYPES

UNCOVERED_RED = "#d62728"
HATCH_ID = "gridgov-hatch"
STUDIO_PURPLE = "#6a3d9a"
CHANGED_ORANGE = "#ff7f0e"
UNCHANGED_GREY = "#d9d9d9"
# Every vertex is rounded to 1e-6 degrees (about 0.1 m): far finer than grids need, and it
# keeps a city map's HTML small.
_DECIMALS = 6


@dataclass(frozen=True)
class Display:
    """How stored lon/lat become map coordinates: as they are, or shifted to GCJ-02 (AMap)."""

    gcj02: bool = False

    def geoms(self, geoms: Iterable[Any]) -> np.ndarray:
        arr = np.asarray(list(geoms), dtype=object)
        if self.gcj02:
            arr = shift_geometries(arr)
        return shapely.transform(arr, lambda c: np.round(c, _DECIMALS))

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        """(lat, lon) for Leaflet."""
        if self.gcj02:
            glon, glat = wgs84_to_gcj02(lon, lat)
            lon, lat = float(glon), float(glat)
        return round(float(lat), _DECIMALS), round(float(lon), _DECIMALS)

    def bounds(self, geoms: Iterable[Any]) -> list[list[float]]:
        """[[south, west], [north, east]] of ``geoms`` in map coordinates."""
        minx, miny, maxx, maxy = shapely.total_bounds(self.geoms(geoms))
        return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


# -- text -----------------------------------------------------------------------------------------
def popup_html(title: str, rows: Sequence[tuple[str, str]]) -> str:
    """A small escaped table: a bold title and label/value rows."""
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:8px;white-space:nowrap'>{escape(k)}</th>"
        f"<td>{escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<div class='gridgov-popup'><b>{escape(title)}</b><table>{body}</table></div>"


def worker_label(worker_id: str | None, names: dict[str, str], lang: Lang) -> str:
    if worker_id is None:
        return t("uncovered_short", lang)
    name = names.get(worker_id)
    return f"{name}（{worker_id}）" if name else worker_id


def honours_text(honours: Any) -> str:
    """``[{"title", "level", "year"}, …]`` as one line; strings pass through."""
    if not isinstance(honours, list):
        return "" if honours is None or (isinstance(honours, float) and np.isnan(honours)) else str(honours)
    parts = []
    for h in honours:
        if isinstance(h, dict):
            extra = "，".join(str(h[k]) for k in ("level", "year") if h.get(k))
            parts.append(f"{h.get('title', '')}（{extra}）" if extra else str(h.get("title", "")))
        else:
            parts.append(str(h))
    return "；".join(p for p in parts if p)


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA else str(value)


def grid_rows(row: Any, ward_names: dict[str, str], lang: Lang) -> list[tuple[str, str]]:
    return [
        (t("grid", lang), f"{_text(row['name'])}（{row['code']}）" if _text(row["name"]) else str(row["code"])),
        (t("ward", lang), ward_names.get(row["ward_code"], str(row["ward_code"]))),
        (t("households", lang), _text(row.get("households"))),
    ]


# -- GeoJSON --------------------------------------------------------------------------------------
def feature_collection(geoms: np.ndarray, props: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": mapping(g), "properties": p} for g, p in zip(geoms, props)
        ],
    }


def geojson_layer(
    parent: Any, data: dict[str, Any], *, name: str | None = None, marker: Any = None,
) -> folium.GeoJson:
    """A GeoJson layer styled by each feature's ``style`` and popped up by its ``popup``."""
    layer = folium.GeoJson(
        data, name=name, control=name is not None, marker=marker,
        style_function=lambda f: f["properties"]["style"],
    )
    layer.add_child(PropertyPopup())
    layer.add_to(parent)
    return layer


def add_hatch_pattern(m: folium.Map) -> None:
    """An SVG pattern (red stripes) that uncovered grids use as fill: url(#gridgov-hatch)."""
    svg = (
        "<svg width='0' height='0' style='position:absolute' aria-hidden='true'><defs>"
        f"<pattern id='{HATCH_ID}' patternUnits='userSpaceOnUse' width='8' height='8' "
        "patternTransform='rotate(45)'><rect width='8' height='8' fill='#fde0dd'/>"
        f"<line x1='0' y1='0' x2='0' y2='8' stroke='{UNCOVERED_RED}' stroke-width='3'/></pattern>"
        "</defs></svg>"
    )
    m.get_root().html.add_child(Raw(svg), name="gridgov_hatch")


# -- layers ---------------------------------------------------------------------------------------
def territories_layer(
    m: folium.Map, grids: gpd.GeoDataFrame, colours: dict[str, str], names: dict[str, str],
    ward_names: dict[str, str], display: Display, lang: Lang,
) -> None:
    covered = grids[grids["worker_id"].notna()]
    props = []
    for _, row in covered.iterrows():
        worker = worker_label(row["worker_id"], names, lang)
        props.append({
            "style": {"fillColor": colours[row["worker_id"]], "fillOpacity": 0.75, "color": "#555555", "weight": 1},
            "popup": popup_html(t("grid", lang), [*grid_rows(row, ward_names, lang), (t("worker", lang), worker)]),
            "tooltip": escape(f"{_text(row['name']) or row['code']} · {worker}"),
            "worker_id": row["worker_id"], "code": row["code"],
        })
    group = folium.FeatureGroup(name=t("territories", lang)).add_to(m)
    geojson_layer(group, feature_collection(display.geoms(covered.geometry), props))


def uncovered_layer(
    m: folium.Map, grids: gpd.GeoDataFrame, ward_names: dict[str, str], display: Display, lang: Lang,
) -> None:
    open_grids = grids[grids["worker_id"].isna() & grids["in_plan"]]
    add_hatch_pattern(m)
    props = [{
        "style": {"fillColor": f"url(#{HATCH_ID})", "fillOpacity": 0.9, "color": UNCOVERED_RED,
                  "weight": 3, "dashArray": "6 4"},
        "popup": popup_html(t("uncovered", lang), [
            *grid_rows(row, ward_names, lang), (t("reason", lang), _text(reason_in(row["reason"], lang)) or t("no_reason", lang)),
        ]),
        "tooltip": escape(f"{_text(row['name']) or row['code']} · {t('uncovered_short', lang)}"),
        "uncovered": True, "code": row["code"],
    } for _, row in open_grids.iterrows()]
    group = folium.FeatureGroup(name=f"{t('uncovered', lang)} ({len(open_grids)})").add_to(m)
    geojson_layer(group, feature_collection(display.geoms(open_grids.geometry), props))


def unplanned_layer(m: folium.Map, grids: gpd.GeoDataFrame, display: Display, lang: Lang) -> None:
    """Grids the plan does not mention (no plan yet, or grids added since): plain grey."""
    rest = grids[~grids["in_plan"]]
    if rest.empty:
        return
    props = [{"style": {"fillColor": "#eeeeee", "fillOpacity": 0.6, "color": "#999999", "weight": 1},
              "tooltip": escape(_text(n) or c), "code": c} for n, c in zip(rest["name"], rest["code"])]
    group = folium.FeatureGroup(name=f"{t('unplanned', lang)} ({len(rest)})").add_to(m)
    geojson_layer(group, feature_collection(display.geoms(rest.geometry), props))


def outline_layer(
    m: folium.Map, frame: gpd.GeoDataFrame, *, name: str, color: str, weight: float, dash: str | None,
    display: Display,
) -> None:
    """Boundaries only: no fill, so clicks reach the grids underneath."""
    style = {"fill": False, "color": color, "weight": weight, "dashArray": dash, "opacity": 0.9}
    props = [{"style": style, "tooltip": escape(_text(n))} for n in frame["name"]]
    group = folium.FeatureGroup(name=name).add_to(m)
    geojson_layer(group, feature_collection(display.geoms(frame.geometry), props))


def homes_layer(
    m: folium.Map, workers: gpd.GeoDataFrame, held: dict[str, list[str]], colours: dict[str, str],
    display: Display, lang: Lang,
) -> None:
    """Worker homes; the popup never shows the phone number (that is for the ward's own table)."""
    group = folium.FeatureGroup(name=t("homes", lang)).add_to(m)
    for _, w in workers.iterrows():
        grids = held.get(w["worker_id"], [])
        folium.CircleMarker(
            location=display.point(w.geometry.x, w.geometry.y), radius=6, weight=2, color="#222222",
            fill=True, fill_color=colours.get(w["worker_id"], "#ffffff"), fill_opacity=1.0,
            popup=folium.Popup(popup_html(t("worker", lang), [
                (t("worker", lang), f"{_text(w['name'])}（{w['worker_id']}）"),
                (t("honours", lang), honours_text(w["honours"])),
                (t("sector", lang), _text(w["sector"])),
                (t("grids", lang), "、".join(grids) if grids else t("none", lang)),
            ]), max_width=360),
            tooltip=escape(_text(w["name"])),
        ).add_to(group)


def studios_layer(
    m: folium.Map, studios: Sequence[Studio], grids: gpd.GeoDataFrame, names: dict[str, str],
    display: Display, lang: Lang,
) -> None:
    """Studios as purple rings, their catchment (the grids they serve) as a dashed purple area."""
    if not studios:
        return
    geom_of = dict(zip(grids["code"], grids.geometry))
    areas, props = [], []
    for s in studios:
        parts = [geom_of[c] for c in s.catchment if c in geom_of]
        if parts:
            areas.append(shapely.union_all(parts))
            props.append({"style": {"color": STUDIO_PURPLE, "weight": 2, "dashArray": "4 4",
                                    "fillColor": STUDIO_PURPLE, "fillOpacity": 0.08},
                          "tooltip": escape(s.name)})
    catchment = folium.FeatureGroup(name=t("catchment", lang), show=False).add_to(m)
    geojson_layer(catchment, feature_collection(display.geoms(areas), props))
    group = folium.FeatureGroup(name=t("studios", lang)).add_to(m)
    for s in studios:
        # Staff this map does not show (a ward map: workers of other wards) are counted, not
        # named: a street office sees its own workers only, ids included.
        known = [worker_label(w, names, lang) for w in s.staff if w in names]
        others = len(s.staff) - len(known)
        staff = "、".join(known + ([t("other_staff", lang, n=others)] if others else [])) or t("none", lang)
        folium.CircleMarker(
            location=display.point(s.lon, s.lat), radius=9, weight=4, color=STUDIO_PURPLE,
            fill=True, fill_color="#ffffff", fill_opacity=0.9,
            popup=folium.Popup(popup_html(t("studios", lang), [
                (t("studios", lang), s.name), (t("types", lang), "、".join(s.types)), (t("staff", lang), staff),
            ]), max_width=360),
            tooltip=escape(s.name),
        ).add_to(group)


def heat_layers(m: folium.Map, incidents: gpd.GeoDataFrame, display: Display, lang: Lang) -> None:
    """One heat layer for all disputes (shown) and one per type present (hidden until chosen).

    The raw incident points go to leaflet.heat, which does its own smoothing: far fewer points
    than a pre-computed density raster (3,600 incidents vs. some 180,000 density cells).
    """
    located = incidents[incidents.geometry.notna() & ~incidents.geometry.is_empty]
    if located.empty:
        return
    lon, lat = located.geometry.x.to_numpy(), located.geometry.y.to_numpy()
    if display.gcj02:
        lon, lat = wgs84_to_gcj02(lon, lat)
    points = np.round(np.column_stack([lat, lon]), 5)  # 1e-5 degrees is about a metre
    kinds = located["type"].to_numpy()
    present = [k for k in DISPUTE_TYPES if (kinds == k).any()]
    present += sorted(set(located["type"].dropna()) - set(present))
    for kind in [None, *present]:
        data = points if kind is None else points[kinds == kind]
        label = t("heat_all", lang) if kind is None else dispute_label(kind, lang)
        # leaflet.heat 0.2 fades points by 2^(maxZoom - zoom): a maxZoom near the city zoom keeps the
        # heat visible at the zooms a planner uses.
        HeatMap(data.tolist(), name=f"{t('heat', lang)}：{label}", show=kind is None, min_opacity=0.05,
                radius=15, blur=15, max_zoom=14).add_to(m)
