"""The seeded Jiaozuo demo: reproducible, shaped like the city, and topologically clean."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridgov import schema
from gridgov.demo import DemoData, generate_demo, save_demo, summarize
from gridgov.geo.crs import STORAGE_CRS, to_metric
from gridgov.geo.shipped import load_city, load_districts, load_townships, load_villages
from gridgov.store import open_store

LAYER_SPECS = {
    "counties": schema.COUNTIES, "wards": schema.WARDS, "grids": schema.GRIDS,
    "workers": schema.WORKERS, "incidents": schema.INCIDENTS, "sites": schema.SITES,
}
URBAN = ("410802", "410803", "410804", "410811", "410871")


@pytest.fixture(scope="module")
def small() -> DemoData:
    return generate_demo(seed=2026, scale=0.1)


def fingerprint(data: DemoData) -> str:
    """A content hash of every attribute and every geometry of all six layers."""
    h = hashlib.sha256()
    for name, frame in data.layers().items():
        h.update(name.encode())
        attrs = frame.drop(columns="geometry").to_dict("records")
        h.update(json.dumps(attrs, ensure_ascii=False, default=str, sort_keys=True).encode())
        for wkb in shapely.to_wkb(frame.geometry.to_numpy()):
            h.update(wkb)
    return h.hexdigest()


def overlaps_m2(geoms: np.ndarray) -> np.ndarray:
    """Areas of the pairwise intersections of metric polygons."""
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    return shapely.area(shapely.intersection(geoms[a[keep]], geoms[b[keep]]))


def test_same_seed_same_data_other_seed_other_data(small: DemoData) -> None:
    assert fingerprint(generate_demo(seed=2026, scale=0.1)) == fingerprint(small)
    assert fingerprint(generate_demo(seed=7, scale=0.1)) != fingerprint(small)


def test_frames_have_exactly_the_schema_columns_in_storage_crs(small: DemoData) -> None:
    for name, frame in small.layers().items():
        assert list(frame.columns) == [*LAYER_SPECS[name].column_names, "geometry"], name
        assert frame.geometry.name == "geometry"
        assert frame.crs.to_string() == STORAGE_CRS
        assert frame[LAYER_SPECS[name].key[0]].is_unique, name
        kinds = {"POINT": {"Point"}, "MULTIPOLYGON": {"Polygon", "MultiPolygon"}}[LAYER_SPECS[name].geometry]
        assert set(frame.geom_type) <= kinds, name


def test_counts_at_small_scale(small: DemoData) -> None:
    assert len(small.counties) == 11
    assert len(small.wards) == 112
    assert 300 <= len(small.grids) <= 900
    assert 100 <= len(small.workers) <= 200
    assert 800 <= len(small.incidents) <= 1500
    assert 15 <= len(small.sites) <= 40
    assert small.sites["existing"].sum() >= 2


def test_ward_codes_are_the_real_townships(small: DemoData) -> None:
    real = load_townships()
    assert sorted(small.wards["code"]) == sorted(real["code"])
    merged = small.wards.merge(real, on="code", suffixes=("", "_real"))
    assert (merged["name"] == merged["name_real"]).all()
    assert (merged["county_code"] == merged["county_code_real"]).all()
    assert sorted(small.counties["code"]) == sorted({*real["county_code"]})


def test_grid_codes_extend_a_village_of_their_ward(small: DemoData) -> None:
    village_ward = dict(zip(load_villages()["code"], load_villages()["ward_code"]))
    codes = small.grids["code"]
    assert codes.str.fullmatch(r"\d{15}").all()
    for code, ward in zip(codes, small.grids["ward_code"]):
        village = code[:12]
        assert village_ward.get(village) == ward or village == f"{ward}999", code
    assert set(small.grids["kind"]) <= set(schema.GRID_KINDS)
    ratio = small.grids["population"] / small.grids["households"]
    assert ratio.between(2.5, 3.1).all()


def test_wards_partition_their_county(small: DemoData) -> None:
    wards = to_metric(small.wards)
    counties = to_metric(small.counties).set_index("code")
    assert shapely.is_valid(wards.geometry.to_numpy()).all()
    assert shapely.is_valid(counties.geometry.to_numpy()).all()
    for code, group in wards.groupby("county_code"):
        union = shapely.union_all(group.geometry.to_numpy())
        assert union.area == pytest.approx(counties.loc[code, "geometry"].area, rel=0.005), code
    assert overlaps_m2(wards.geometry.to_numpy()).max() < 1.0
    assert overlaps_m2(counties.geometry.to_numpy()).max() < 1.0
    city = to_metric(load_districts()).geometry.union_all().area
    assert counties.geometry.area.sum() == pytest.approx(city, rel=0.001)


def test_demo_zone_lies_in_real_shanyang(small: DemoData) -> None:
    real = to_metric(load_districts()).set_index("code").loc["410811", "geometry"]
    zone = to_metric(small.counties).set_index("code").loc["410871", "geometry"]
    assert shapely.area(shapely.difference(zone, real)) < 1.0
    assert (small.wards["county_code"] == "410871").sum() == 6


def test_grids_partition_their_ward(small: DemoData) -> None:
    grids = to_metric(small.grids)
    wards = to_metric(small.wards).set_index("code")
    assert shapely.is_valid(grids.geometry.to_numpy()).all()
    ward_geom = wards.loc[grids["ward_code"], "geometry"].to_numpy()
    outside = shapely.area(shapely.difference(grids.geometry.to_numpy(), ward_geom))
    assert outside.max() < 1.0
    assert overlaps_m2(grids.geometry.to_numpy()).max() < 1.0
    covered = grids.geometry.area.groupby(grids["ward_code"]).sum()
    assert np.allclose(covered.to_numpy(), wards.loc[covered.index].geometry.area.to_numpy(), rtol=1e-4)


def test_workers_live_in_the_city_in_the_ward_they_are_said_to(small: DemoData) -> None:
    w = small.workers
    city = load_city().geometry.union_all()
    assert shapely.contains_xy(city, w.geometry.x, w.geometry.y).all()
    joined = gpd.sjoin(w, small.wards[["code", "geometry"]], predicate="within", how="left")
    assert (joined["home_ward"] == joined["code"]).all()
    assert w["worker_id"].str.fullmatch(r"LM\d{4}").all()
    assert w["phone"].str.fullmatch(r"1[358]\d{9}").all()
    assert set(w["status"]) <= set(schema.WORKER_STATUSES)
    assert (w["status"] == "active").mean() > 0.85
    assert w["capacity"].between(1.0, 6.0).all()
    unavailable = w[w["status"] == "unavailable"]
    assert all(isinstance(d, date) for d in unavailable["unavailable_from"])
    assert (unavailable["unavailable_from"] < unavailable["unavailable_to"]).all()
    for honours in w["honours"]:
        assert 1 <= len(honours) <= 3
        for h in honours:
            assert set(h) == {"title", "level", "year"}
            assert h["level"] in schema.HONOUR_LEVELS and 1995 <= h["year"] <= 2025
    assert set(w["sector"]) <= set(schema.SECTORS)


def test_incidents_carry_their_ward_and_a_date_in_the_year(small: DemoData) -> None:
    inc = small.incidents
    joined = gpd.sjoin(inc, small.wards[["code", "geometry"]], predicate="within", how="left")
    assert (joined["ward_code"] == joined["code"]).all()
    assert inc["date"].min() >= date(2025, 11, 1) and inc["date"].max() <= date(2026, 10, 31)
    assert set(inc["type"]) <= set(schema.DISPUTE_TYPES)
    assert (inc["status"] == "已调解").mean() > 0.6
    assert inc["incident_id"].str.fullmatch(r"MD\d{6}").all()


def test_sites_are_in_the_city_with_known_types(small: DemoData) -> None:
    s = small.sites
    city = load_city().geometry.union_all()
    assert shapely.contains_xy(city, s.geometry.x, s.geometry.y).all()
    assert all(set(t) <= set(schema.DISPUTE_TYPES) and t for t in s["types"])
    assert s.loc[s["existing"], "name"].str.endswith("劳模调解工作室").all()
    assert s["capacity"].between(200, 800).all()


def test_urban_core_is_denser_than_the_countryside(small: DemoData) -> None:
    grids = to_metric(small.grids)
    urban = grids["ward_code"].str[:6].isin(URBAN)
    density = grids["households"].groupby(urban).sum() / (grids.geometry.area.groupby(urban).sum() / 1e6)
    assert density[True] > 2 * density[False]


def test_save_demo_writes_every_layer_and_loads_back(small: DemoData, tmp_path) -> None:
    store = open_store(str(tmp_path / "t.gpkg"), create=True)
    try:
        counts = save_demo(store, small)
        again = save_demo(store, small)  # replaces, never duplicates
        assert counts == again == {name: len(f) for name, f in small.layers().items()}
        for name, frame in small.layers().items():
            assert store.count(name) == len(frame), name
        back = store.load("workers")
        assert back["honours"].iloc[0] == small.workers["honours"].iloc[0]
    finally:
        store.close()


def test_full_scale_is_shaped_like_the_city() -> None:
    data = generate_demo(seed=2026, scale=1.0)
    facts = summarize(data)
    assert 4000 <= facts["grids"] <= 6000
    assert 1000 <= facts["workers"] <= 2000
    assert 8000 <= facts["incidents"] <= 15000
    assert 150 <= facts["sites"] - facts["existing_studios"] <= 250
    for sector in ("司法", "公安", "检察", "法院", "人社", "社会工作", "住建"):
        assert facts["workers_by_sector"][sector] >= 40, sector
    assert 1 <= facts["wards_one_worker_per_grid_feasible"] < 56  # some wards, never most
    assert facts["households_per_km2_urban"] > 2 * facts["households_per_km2_rural"]
    levels = [h["level"] for hs in data.workers["honours"] for h in hs]
    assert 0 < levels.count("全国") < 0.06 * len(levels)
    special = (data.grids["kind"] == "专属").mean()
    assert 0.01 <= special <= 0.03
    assert re.fullmatch(r"\d{15}", data.grids["code"].iloc[0])
    # Reprojecting to storage made three polygons invalid (vertices millimetres apart crossed):
    # exporting the demo's grids and importing the file back was refused ("Self-intersection").
    for name in ("counties", "wards", "grids"):
        assert shapely.is_valid(data.layers()[name].geometry.to_numpy()).all(), name
