"""Coverage, ward and diff maps on a hand-made 4x4 lattice: colours, uncovered grids, offline assets, tiles."""

from __future__ import annotations

import hashlib
import json
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import folium  # noqa: E402
from folium.plugins import HeatMap  # noqa: E402

from lattice import (  # noqa: E402
    OWNERS, PHONE, PLAN2_CHANGES, UNCOVERED_REASON, WARD_E, WARD_W, X0, Y0, populate,
)
from gridgov.errors import MissingExtraError, NotFoundError, UserError  # noqa: E402
from gridgov.geo.adjacency import adjacency_edges  # noqa: E402
from gridgov.maps import (  # noqa: E402
    coverage_map, diff_map, render_html, require_folium, save_map, static_dir, ward_map, write_city_map,
)
from gridgov.maps.colouring import dsatur, territory_graph  # noqa: E402
from gridgov.maps.gcj02 import wgs84_to_gcj02  # noqa: E402
from gridgov.maps.layers import HATCH_ID, UNCOVERED_RED  # noqa: E402
from gridgov.maps.tiles import TileSettings, resolve_tiles  # noqa: E402
from gridgov.store import open_store  # noqa: E402


# -- helpers --------------------------------------------------------------------------------------
def _elements(root: Any):
    yield root
    for child in list(root._children.values()):
        yield from _elements(child)


def features(m: folium.Map) -> list[dict[str, Any]]:
    """Every GeoJSON feature drawn on ``m``."""
    return [f for el in _elements(m) if isinstance(el, folium.GeoJson) for f in el.data["features"]]


def by_code(m: folium.Map, flag: str | None = None) -> dict[str, dict[str, Any]]:
    return {f["properties"]["code"]: f for f in features(m)
            if "code" in f["properties"] and (flag is None or f["properties"].get(flag))}


class _Links(HTMLParser):
    """Every URL the page would fetch by itself: script/img/iframe src, link href."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "embed") and a.get("src"):
            self.urls.append(a["src"] or "")
        if tag == "link" and a.get("href"):
            self.urls.append(a["href"] or "")
        self._in_script = tag == "script" and not a.get("src")

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_scripts.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def links(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def assert_offline(html: str) -> None:
    page = links(html)
    remote = [u for u in page.urls if u.startswith(("http://", "https://", "//"))]
    assert remote == [], f"the page fetches from the network: {remote}"
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html and "code.jquery.com" not in html
    leaflet = [s for s in page.inline_scripts if 'version="1.9.4"' in s and "window.L" in s]
    assert leaflet, "Leaflet's code is not inlined"


# -- colouring ------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.integers(2, 14).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40))))
def test_dsatur_colours_properly(graph: tuple[int, list[tuple[int, int]]]) -> None:
    n, pairs = graph
    adj = {v: {b for a, b in pairs if a == v and b != v} | {a for a, b in pairs if b == v and a != v} for v in range(n)}
    colour = dsatur(adj)
    assert set(colour) == set(range(n))
    assert all(colour[a] != colour[b] for a, b in pairs if a != b)
    assert max(colour.values()) <= max(len(ns) for ns in adj.values())  # greedy bound: Δ + 1 colours


def test_territory_graph_joins_owners_across_shared_edges() -> None:
    owners = ["a", "a", "b", None, "c"]
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [0, 4]])
    assert territory_graph(owners, edges) == {"a": {"b", "c"}, "b": {"a"}, "c": {"a"}}


def test_adjacent_territories_never_share_a_colour(map_store) -> None:
    m = coverage_map(map_store)
    drawn = by_code(m)
    grids = map_store.load("grids")
    colour = {c: drawn[c]["properties"]["style"]["fillColor"] for c in grids["code"] if "worker_id" in drawn[c]["properties"]}
    worker = {c: drawn[c]["properties"]["worker_id"] for c in colour}
    checked = 0
    for i, j in adjacency_edges(grids.geometry):
        a, b = grids["code"][i], grids["code"][j]
        if a in worker and b in worker:
            assert (colour[a] == colour[b]) == (worker[a] == worker[b]), (a, b)
            checked += worker[a] != worker[b]
    assert checked >= 8
    # wC, wD and wE touch each other pairwise: at least three colours.
    assert len(set(colour.values())) >= 3


# -- coverage content -----------------------------------------------------------------------------
def test_uncovered_grid_is_hatched_with_its_reason(map_store) -> None:
    m = coverage_map(map_store)
    uncovered = by_code(m, "uncovered")
    assert set(uncovered) == {"G01"}
    style = uncovered["G01"]["properties"]["style"]
    assert style["fillColor"] == f"url(#{HATCH_ID})" and style["color"] == UNCOVERED_RED
    zh, en = UNCOVERED_REASON.split(" / ")
    popup = uncovered["G01"]["properties"]["popup"]
    assert zh in popup and en not in popup  # each map in its language (the Chinese map had both)
    popup_en = by_code(coverage_map(map_store, lang="en"), "uncovered")["G01"]["properties"]["popup"]
    assert en in popup_en and zh not in popup_en
    html = render_html(m)
    assert f"id='{HATCH_ID}'" in html


def test_homes_show_honours_and_grids_but_no_phone(map_store) -> None:
    html = render_html(coverage_map(map_store))
    assert PHONE not in html
    assert "全国劳动模范" in html and "G21、G30、G31" in html  # wA's grids in the popup of 劳模A


def test_studio_with_catchment_and_staff(map_store) -> None:
    html = render_html(coverage_map(map_store))
    assert "东区劳模调解工作室" in html and "劳模C（wC）" in html


def test_heat_layers_one_per_type_only_all_shown(map_store) -> None:
    heat = [el for el in _elements(coverage_map(map_store)) if isinstance(el, HeatMap)]
    names = {h.layer_name: h.show for h in heat}
    assert names == {"矛盾纠纷热力：全部": True, "矛盾纠纷热力：婚姻家庭": False, "矛盾纠纷热力：邻里": False}


def test_map_without_any_plan_draws_grids_plainly(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "bare.gpkg"), create=True)
    from lattice import grid_rows

    store.save("grids", grid_rows())
    m = coverage_map(store)
    assert by_code(m, "uncovered") == {} and len(by_code(m)) == 16
    assert "尚无发布的包格方案" in render_html(m)
    store.close()


def test_english_labels(map_store) -> None:
    html = render_html(coverage_map(map_store, lang="en"))
    assert "Uncovered grids" in html and "Jiaozuo: model workers" in html and "未覆盖网格" not in html
    assert "plan 1 · published" in html


def test_the_legend_names_the_plan_status_in_chinese(map_store) -> None:
    html = render_html(coverage_map(map_store))
    assert "方案 1 · 已发布" in html and "published" not in html


def test_coverage_map_on_both_backends(store) -> None:
    populate(store)
    m = coverage_map(store)
    assert set(by_code(m, "uncovered")) == {"G01"}
    assert_offline(render_html(m))


# -- ward and diff --------------------------------------------------------------------------------
def _fit_bounds(m: folium.Map) -> list[list[float]]:
    fits = [el for el in _elements(m) if isinstance(el, folium.FitBounds)]
    assert len(fits) == 1
    return fits[0].bounds


def test_ward_map_is_fitted_inside_its_ward(map_store) -> None:
    m = ward_map(map_store, WARD_E)
    (south, west), (north, east) = _fit_bounds(m)
    minx, miny, maxx, maxy = map_store.load("wards", where={"code": WARD_E}).total_bounds
    eps = 1e-6
    assert minx - eps <= west < east <= maxx + eps and miny - eps <= south < north <= maxy + eps
    assert {c for c in by_code(m)} == {f"G{r}{c}" for r in range(4) for c in (2, 3)}


def test_ward_map_of_unknown_ward_is_not_found(map_store) -> None:
    with pytest.raises(NotFoundError):
        ward_map(map_store, "999")


def test_diff_map_marks_exactly_the_changed_grids(map_store) -> None:
    m = diff_map(map_store, 1, 2)
    changed = {c: f for c, f in by_code(m).items() if f["properties"]["style"]["fillColor"] == "#ff7f0e"}
    assert set(changed) == set(PLAN2_CHANGES)
    assert "未覆盖" in changed["G01"]["properties"]["popup"] and "劳模B（wB）" in changed["G01"]["properties"]["popup"]
    assert "劳模B（wB）" in changed["G20"]["properties"]["popup"] and "劳模A（wA）" in changed["G20"]["properties"]["popup"]
    unchanged = [f for c, f in by_code(m).items() if c not in changed]
    assert len(unchanged) == 14 and all(f["properties"]["style"]["fillColor"] == "#d9d9d9" for f in unchanged)


# -- offline assets -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["coverage", "ward", "diff"])
def test_every_map_is_offline_with_leaflet_inlined(map_store, tmp_path: Path, kind: str) -> None:
    m = {"coverage": lambda: coverage_map(map_store), "ward": lambda: ward_map(map_store, WARD_W),
         "diff": lambda: diff_map(map_store, 1, 2)}[kind]()
    path = save_map(m, tmp_path / f"{kind}.html")
    html = path.read_text(encoding="utf-8")
    assert_offline(html)
    assert "L.tileLayer" not in html  # tiles "none": no tile server at all
    if kind == "coverage":
        assert 'data-gridgov-asset="leaflet-heat"' in html and "L.heatLayer" in html
    assert list(tmp_path.glob(".*.tmp")) == []


def test_url_mode_links_only_gridgov_static_files(map_store) -> None:
    html = render_html(coverage_map(map_store), asset_mode="url", base_url="/static/maps/")
    urls = links(html).urls
    assert urls and all(u.startswith("/static/maps/") for u in urls)
    for u in urls:
        assert (static_dir() / u.removeprefix("/static/maps/")).is_file(), u
    assert any(u.endswith("leaflet/leaflet.js") for u in urls)


def test_vendored_files_match_their_manifest() -> None:
    manifest = json.loads((static_dir() / "vendored.json").read_text(encoding="utf-8"))
    for entry in manifest:
        data = (static_dir() / entry["dest"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["dest"]
    licences = {e["dest"].split("/")[0] for e in manifest if "LICENSE" in e["dest"]}
    assert licences == {e["dest"].split("/")[0] for e in manifest}


def test_an_element_needing_an_unvendored_cdn_file_is_refused(map_store) -> None:
    from gridgov.maps.assets import AssetError

    m = coverage_map(map_store)
    folium.Marker([Y0, X0], icon=folium.Icon(icon="home")).add_to(m)
    with pytest.raises(AssetError):
        render_html(m)


def test_missing_folium_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "folium", None)
    with pytest.raises(MissingExtraError) as err:
        require_folium()
    assert err.value.extra == "maps"


# -- GCJ-02 and tiles -----------------------------------------------------------------------------
@pytest.mark.parametrize("wgs,gcj", [
    # Published test vectors of the eviltransform project: (lat, lon) WGS84 -> GCJ-02.
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
])
def test_gcj02_matches_known_pairs(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    lon, lat = wgs84_to_gcj02(wgs[1], wgs[0])
    assert float(lat) == pytest.approx(gcj[0], abs=1e-9) and float(lon) == pytest.approx(gcj[1], abs=1e-9)


def test_gcj02_leaves_points_outside_china() -> None:
    lon, lat = wgs84_to_gcj02(np.array([-104.9903, 2.35]), np.array([39.7392, 48.85]))
    assert lon.tolist() == [-104.9903, 2.35] and lat.tolist() == [39.7392, 48.85]


def test_tiles_osm_adds_a_tile_layer_and_stays_cdn_free(map_store) -> None:
    html = render_html(coverage_map(map_store, tiles="osm"))
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in html
    assert_offline(html)


def test_tiles_amap_shifts_every_layer_to_gcj02(map_store) -> None:
    plain = by_code(coverage_map(map_store, tiles="none"))["G00"]["geometry"]["coordinates"][0][0][0]
    shifted = by_code(coverage_map(map_store, tiles="amap"))["G00"]["geometry"]["coordinates"][0][0][0]
    want = wgs84_to_gcj02(plain[0], plain[1])
    assert shifted == pytest.approx([float(want[0]), float(want[1])], abs=2e-6)
    assert abs(shifted[0] - plain[0]) > 0.003  # the AMap offset near Jiaozuo is hundreds of metres


def test_tiles_settings_and_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_tiles("none").blank
    with pytest.raises(UserError):
        resolve_tiles("tianditu", settings=TileSettings(tianditu_key=""))
    tdt = resolve_tiles("tianditu", settings=TileSettings(tianditu_key="k123"))
    assert len(tdt.urls) == 2 and all("tk=k123" in u for u in tdt.urls)
    assert "LAYER=vec" in tdt.urls[0] and "LAYER=cva" in tdt.urls[1] and not tdt.gcj02
    intranet = resolve_tiles("http://10.1.2.3/tiles/{z}/{x}/{y}.png")
    assert intranet.urls == ("http://10.1.2.3/tiles/{z}/{x}/{y}.png",) and not intranet.gcj02
    with pytest.raises(UserError):
        resolve_tiles("satellite")
    monkeypatch.setenv("GRIDGOV_TILES_PROVIDER", "amap")
    assert resolve_tiles(None).name == "amap" and resolve_tiles(None).gcj02


# -- CLI and demo hook ----------------------------------------------------------------------------
def test_cli_writes_all_three_maps(map_store, tmp_path: Path) -> None:
    from gridgov.cli_maps import map_app

    root = typer.Typer()
    root.add_typer(map_app, name="map")
    root.callback()(lambda: None)
    db = map_store.url
    runner = CliRunner()
    for args, name in ((["coverage"], "c.html"), (["ward", WARD_E], "w.html"), (["diff", "1", "2"], "d.html")):
        result = runner.invoke(root, ["map", *args, "-o", str(tmp_path / name), "--db", db, "--lang", "en"])
        assert result.exit_code == 0, result.output
        assert_offline((tmp_path / name).read_text(encoding="utf-8"))


def test_write_city_map(map_store, tmp_path: Path) -> None:
    path = write_city_map(map_store, tmp_path / "out")
    assert path == tmp_path / "out" / "coverage_map.html" and path.stat().st_size > 100_000
    assert OWNERS[0][1] is None  # the fixture's one uncovered grid is G01


def test_studio_staff_from_outside_the_map_are_counted_not_named(map_store) -> None:
    """A street office's ward map must not list ids of other wards' workers (it gets 404 for them)."""
    import geopandas as gpd

    from gridgov.maps.layers import Display, studios_layer
    from gridgov.maps.scene import Studio

    m = folium.Map()
    studio = Studio("S1", "东区劳模调解工作室", 113.2, 35.2, ("邻里",), ("wC", "LM0271", "LM0440"), (), True)
    studios_layer(m, [studio], gpd.GeoDataFrame({"code": []}, geometry=[], crs="EPSG:4490"),
                  {"wC": "劳模C"}, Display(), "zh")
    html = render_html(m)
    assert "劳模C（wC）" in html and "另有 2 名其他街道的劳模" in html
    assert "LM0271" not in html and "LM0440" not in html


def test_a_worker_who_left_is_marked_on_the_map_until_a_new_plan_is_published(tmp_path: Path) -> None:
    from lattice import build_store

    from gridgov.plans.roster import retire_worker

    store = build_store(tmp_path / "left.gpkg")
    try:
        retire_worker(store, "wA", actor="test")
        popups = {code: f["properties"]["popup"] for code, f in by_code(coverage_map(store)).items()}
        assert "已退出，待重新安排" in popups["G21"] and "已退出" not in popups["G02"]
        english = {code: f["properties"]["popup"] for code, f in by_code(coverage_map(store, lang="en")).items()}
        assert "retired: to be re-placed" in english["G21"]
    finally:
        store.close()
