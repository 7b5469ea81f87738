"""Background tiles as a setting: none (default), osm, tianditu, amap, or an intranet URL template."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from gridgov.errors import UserError

_OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
_AMAP = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
NAMED = ("none", "osm", "tianditu", "amap")


class TileSettings(BaseSettings):
    """GRIDGOV_TILES_PROVIDER and friends (or a .env file); gridgov.settings is not touched."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_TILES_", env_file=".env", extra="ignore")

    provider: str = "none"  # none | osm | tianditu | amap | a URL template with {z} {x} {y}
    tianditu_key: str = ""
    # For an intranet template: its attribution, subdomains, and whether it serves GCJ-02
    # tiles (an AMap mirror), in which case every layer is shifted like for "amap".
    attribution: str = ""
    subdomains: str = "abc"
    gcj02: bool = False
    max_zoom: int = 18


@dataclass(frozen=True)
class TileSource:
    """Resolved tiles: ``urls`` empty means a blank background; ``gcj02`` shifts every layer."""

    name: str
    urls: tuple[str, ...] = ()
    attribution: str = ""
    subdomains: str = "abc"
    gcj02: bool = False
    max_zoom: int = 18
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        return not self.urls


def _template(provider: str, settings: TileSettings) -> TileSource:
    if not all(part in provider for part in ("{z}", "{x}", "{y}")):
        raise UserError(
            f"底图设置 {provider!r} 无效：应为 none、osm、tianditu、amap 或含 {{z}}/{{x}}/{{y}} 的瓦片地址",
            f"tiles {provider!r} are not valid: use none, osm, tianditu, amap or a URL template "
            "with {z}/{x}/{y}",
        )
    return TileSource(
        "url", (provider,), settings.attribution or "内网底图 intranet tiles",
        settings.subdomains, settings.gcj02, settings.max_zoom,
    )


def resolve_tiles(tiles: str | TileSource | None = None, *, settings: TileSettings | None = None) -> TileSource:
    """The tile source of ``tiles`` (a name or a URL template), or of the settings when None."""
    if isinstance(tiles, TileSource):
        return tiles
    settings = settings or TileSettings()
    provider = (tiles or settings.provider or "none").strip()
    name = provider.lower()
    if name == "none":
        return TileSource("none")
    if name == "osm":
        return TileSource("osm", (_OSM,), "&copy; OpenStreetMap contributors", "abc", False, 19)
    if name == "amap":
        return TileSource("amap", (_AMAP,), "&copy; 高德地图 AutoNavi", "1234", True, 18)
    if name == "tianditu":
        if not settings.tianditu_key:
            raise UserError(
                "使用天地图底图需要密钥：请设置环境变量 GRIDGOV_TILES_TIANDITU_KEY",
                "Tianditu tiles need a key: set GRIDGOV_TILES_TIANDITU_KEY",
            )
        urls = tuple(_TIANDITU.format(s="{s}", layer=lay, key=settings.tianditu_key) for lay in ("vec", "cva"))
        return TileSource("tianditu", urls, "&copy; 天地图 Tianditu", "01234567", False, 18)
    return _template(provider, settings)


def add_tiles(m: Any, source: TileSource, *, name: str) -> None:
    """Add ``source``'s tile layers to the folium map ``m`` (nothing for a blank background)."""
    import folium

    for i, url in enumerate(source.urls):
        folium.TileLayer(
            tiles=url, attr=source.attribution, name=name if i == 0 else f"{name} ({i + 1})",
            subdomains=source.subdomains, max_zoom=source.max_zoom, overlay=i > 0, control=i == 0,
        ).add_to(m)
