"""Leaflet and plugin JS/CSS served by gridgov itself: inlined into a file, or linked from its own URL."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

AssetMode = Literal["inline", "url"]
DEFAULT_BASE_URL = "/static/maps/"

# Vendored files (see static/VENDORED.md), in the order a page must load them.
ASSETS: dict[str, str] = {
    "leaflet-css": "leaflet/leaflet.css",
    "leaflet-js": "leaflet/leaflet.js",
    "jquery": "jquery/jquery.min.js",
    "leaflet-heat": "leaflet.heat/leaflet-heat.js",
}
# folium's resource names -> our vendored asset.
_FOLIUM_NAMES: dict[str, str] = {
    "leaflet": "leaflet-js",
    "leaflet_css": "leaflet-css",
    "jquery": "jquery",
    "leaflet-heat.js": "leaflet-heat",
}
# folium.Map always lists these; only folium.Icon (awesome markers) needs them, and gridgov
# maps draw circles and div icons instead, so they are dropped rather than vendored.
_MAP_UNUSED = frozenset({
    "bootstrap", "bootstrap_css", "glyphicons_css", "awesome_markers",
    "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css",
})
_HEADER_PREFIX = "gridgov_asset_"


class AssetError(ValueError):
    """A map element needs a JS/CSS resource that gridgov does not vendor (it would hit a CDN)."""


def static_dir() -> Path:
    """The folder of vendored assets; the web app mounts it at ``DEFAULT_BASE_URL``."""
    return Path(__file__).resolve().parent / "static"


@lru_cache(maxsize=None)
def _read(relpath: str) -> str:
    return (static_dir() / relpath).read_text(encoding="utf-8")


def _data_uri(relpath: str) -> str:
    data = base64.b64encode((static_dir() / relpath).read_bytes()).decode("ascii")
    return f"data:image/png;base64,{data}"


@lru_cache(maxsize=None)
def inline_text(key: str) -> str:
    """The asset's text, made safe and self-contained for a <script>/<style> block."""
    relpath = ASSETS[key]
    text = _read(relpath)
    # A source map comment would make developer tools ask the network for the .map file.
    text = re.sub(r"^//# sourceMappingURL=.*$", "", text, flags=re.MULTILINE)
    if relpath.endswith(".css"):
        folder = str(Path(relpath).parent)
        text = re.sub(r"url\((images/[\w.-]+\.png)\)",
                      lambda mt: f"url({_data_uri(f'{folder}/{mt.group(1)}')})", text)
        return text.replace("</style", "<\\/style")
    return text.replace("</script", "<\\/script")


# With inline CSS, Leaflet cannot find its default marker images from the stylesheet's URL;
# pointing the default icon at data URIs keeps plain folium.Marker usable offline too.
def _icon_fix() -> str:
    urls = {k: _data_uri(f"leaflet/images/{f}") for k, f in (
        ("iconUrl", "marker-icon.png"), ("iconRetinaUrl", "marker-icon-2x.png"),
        ("shadowUrl", "marker-shadow.png"))}
    opts = ", ".join(f'{k}: "{v}"' for k, v in urls.items())
    return f"L.Icon.Default.imagePath = ''; L.Icon.Default.mergeOptions({{{opts}}});"


def _elements(root: Any) -> Iterator[Any]:
    yield root
    for child in list(root._children.values()):
        yield from _elements(child)


def _needed_assets(root: Any) -> list[str]:
    """Vendored asset keys the tree needs; CDN defaults are removed from every element."""
    import folium
    from folium.elements import JSCSSMixin

    needed = {"leaflet-css", "leaflet-js"}
    for el in _elements(root):
        if isinstance(el, folium.Icon):
            raise AssetError("folium.Icon needs Font Awesome from a CDN: use CircleMarker or DivIcon")
        if not isinstance(el, JSCSSMixin):
            continue
        for name, _url in [*el.default_js, *el.default_css]:
            if name in _FOLIUM_NAMES:
                needed.add(_FOLIUM_NAMES[name])
            elif not (isinstance(el, folium.Map) and name in _MAP_UNUSED):
                raise AssetError(f"{type(el).__name__} needs {name!r}, which gridgov does not vendor")
        # Instance attributes: the class lists stay as folium ships them.
        el.default_js, el.default_css = [], []
    return [key for key in ASSETS if key in needed]


def _tag(key: str, *, mode: AssetMode, base_url: str) -> str:
    relpath = ASSETS[key]
    css = relpath.endswith(".css")
    if mode == "url":
        url = base_url.rstrip("/") + "/" + relpath
        return f'<link rel="stylesheet" href="{url}"/>' if css else f'<script src="{url}"></script>'
    body = inline_text(key)
    if css:
        return f'<style data-gridgov-asset="{key}">\n{body}\n</style>'
    tail = f"\n{_icon_fix()}" if key == "leaflet-js" else ""
    return f'<script data-gridgov-asset="{key}">\n{body}{tail}\n</script>'


def apply_assets(m: Any, *, mode: AssetMode = "inline", base_url: str = DEFAULT_BASE_URL) -> None:
    """Make ``m`` load Leaflet and its plugins from gridgov, never a CDN. Idempotent.

    ``inline`` puts the code into the page (a file that opens from disk with no network);
    ``url`` links ``base_url`` + the vendored path (the web app mounts ``static_dir()`` there).
    """
    from gridgov.maps.elements import Raw

    if mode not in ("inline", "url"):
        raise ValueError(f"asset mode must be 'inline' or 'url', not {mode!r}")
    figure = m.get_root()
    for key in _needed_assets(figure):
        figure.header.add_child(Raw(_tag(key, mode=mode, base_url=base_url)), name=_HEADER_PREFIX + key)


def render_html(m: Any, *, asset_mode: AssetMode = "inline", base_url: str = DEFAULT_BASE_URL) -> str:
    """The whole HTML page of ``m`` with gridgov's own assets (see ``apply_assets``)."""
    apply_assets(m, mode=asset_mode, base_url=base_url)
    return m.get_root().render()
