"""A blank folium map with gridgov's tiles, offline assets and a page title."""

from __future__ import annotations


import folium

from gridgov.maps.assets import AssetMode, DEFAULT_BASE_URL, apply_assets
from gridgov.maps.elements import PlainAttribution, Raw
from gridgov.maps.layers import Display
from gridgov.maps.labels import Lang, t
from gridgov.maps.tiles import TileSource, add_tiles, resolve_tiles


def new_map(*, tiles: str | TileSource | None, title: str, lang: Lang) -> tuple[folium.Map, Display]:
    """An empty map (no CDN tiles unless configured) and how coordinates are displayed on it."""
    source = resolve_tiles(tiles)
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, zoom_start=10,
                   location=[35.2, 113.2])
    m.get_root().title = title
    PlainAttribution().add_to(m)
    if source.blank:
        # A light background so that white-filled markers and pale territories still read.
        m.get_root().header.add_child(
            Raw("<style>html body .leaflet-container { background: #f4f4f0; }</style>"),
            name="gridgov_blank_bg",
        )
    add_tiles(m, source, name=t("tiles", lang))
    return m, Display(gcj02=source.gcj02)


def finish(m: folium.Map, bounds: list[list[float]] | None, *, asset_mode: AssetMode, base_url: str) -> folium.Map:
    """Layer control, fitting, and gridgov's own JS/CSS in place of every CDN link."""
    folium.LayerControl(collapsed=True).add_to(m)
    if bounds is not None:
        m.fit_bounds(bounds)
    apply_assets(m, mode=asset_mode, base_url=base_url)
    return m


__all__ = ["DEFAULT_BASE_URL", "finish", "new_map"]
