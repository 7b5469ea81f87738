"""Folium maps from store objects and plans, the same for the CLI and the web; assets served offline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridgov.errors import MissingExtraError

if TYPE_CHECKING:
    import folium

    from gridgov.store import SqlStore

__all__ = [
    "coverage_map", "diff_map", "render_html", "require_folium", "save_map", "static_dir", "ward_map",
    "write_city_map",
]


def require_folium() -> None:
    """Raise MissingExtraError (extra "maps") when folium is not installed."""
    try:
        import folium  # noqa: F401
    except ImportError:
        raise MissingExtraError("folium", "maps") from None


def static_dir() -> Path:
    """The vendored Leaflet/plugin files; the web app mounts this at /static/maps/ (no folium needed)."""
    from gridgov.maps.assets import static_dir as _static_dir

    return _static_dir()


def coverage_map(store: SqlStore, **options: Any) -> folium.Map:
    """See gridgov.maps.coverage.coverage_map."""
    require_folium()
    from gridgov.maps.coverage import coverage_map as build

    return build(store, **options)


def ward_map(store: SqlStore, ward_code: str, **options: Any) -> folium.Map:
    """See gridgov.maps.coverage.ward_map."""
    require_folium()
    from gridgov.maps.coverage import ward_map as build

    return build(store, ward_code, **options)


def diff_map(store: SqlStore, a: int, b: int, **options: Any) -> folium.Map:
    """See gridgov.maps.diff.diff_map."""
    require_folium()
    from gridgov.maps.diff import diff_map as build

    return build(store, a, b, **options)


def render_html(m: folium.Map, **options: Any) -> str:
    """See gridgov.maps.assets.render_html (asset_mode="inline" | "url", base_url)."""
    require_folium()
    from gridgov.maps.assets import render_html as render

    return render(m, **options)


def save_map(m: folium.Map, path: str | Path, **options: Any) -> Path:
    """See gridgov.maps.output.save_map."""
    require_folium()
    from gridgov.maps.output import save_map as save

    return save(m, path, **options)


def write_city_map(store: SqlStore, out_dir: str | Path, **options: Any) -> Path:
    """See gridgov.maps.output.write_city_map (for gridgov demo)."""
    require_folium()
    from gridgov.maps.output import write_city_map as write

    return write(store, out_dir, **options)
