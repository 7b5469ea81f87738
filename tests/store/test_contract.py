"""The store contract, run against both backends: round trips, upserts, atomicity, migrations."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Point, box

from gridgov.errors import NotFoundError, SchemaVersionError, StoreError, UserError
from gridgov.store import open_store, resolve_url
from gridgov.store.migrations import SCHEMA_VERSION


def _wards() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": ["410802001", "410802002"],
            "name": ["民生街道", "民主街道"],
            "county_code": ["410802", "410802"],
        },
        geometry=[box(113.20, 35.20, 113.21, 35.21), box(113.21, 35.20, 113.22, 35.21)],
        crs="EPSG:4490",
    )


def _worker(worker_id: str = "LM0001", **over) -> dict:
    row = {
        "worker_id": worker_id,
        "name": "张建国",
        "honours": [{"title": "全国劳动模范", "level": "全国", "year": 2015}],
        "sector": "司法",
        "employer": "焦作市中级人民法院",
        "phone": "13800000000",
        "home_ward": "410802001",
        "status": "active",
        "unavailable_from": None,
        "unavailable_to": None,
        "capacity": 3.5,
        "geometry": Point(113.205, 35.205),
    }
    row.update(over)
    return row


def test_round_trip_geometry_layer(store):
    store.save("wards", _wards())
    got = store.load("wards")
    assert list(got["code"]) == ["410802001", "410802002"]
    assert got.crs.to_epsg() == 4490
    assert all(isinstance(g, MultiPolygon) for g in got.geometry)
    assert got.geometry.iloc[0].equals(MultiPolygon([box(113.20, 35.20, 113.21, 35.21)]))


def test_round_trip_typed_values(store):
    store.save("workers", [_worker(status="unavailable", unavailable_from=date(2026, 1, 5),
                                   unavailable_to="2026-03-01")])
    row = store.load("workers").iloc[0]
    assert row["honours"] == [{"title": "全国劳动模范", "level": "全国", "year": 2015}]
    assert row["unavailable_from"] == date(2026, 1, 5)
    assert row["unavailable_to"] == date(2026, 3, 1)
    assert row["capacity"] == 3.5
    assert row.geometry.equals(Point(113.205, 35.205))


def test_bool_and_list_columns(store):
    store.save("sites", [
        {"site_id": "ST1", "name": "民生社区服务中心", "types": ["邻里", "物业"],
         "existing": True, "capacity": 300, "geometry": Point(113.2, 35.2)},
        {"site_id": "ST2", "name": "职工之家", "types": [], "existing": False,
         "geometry": Point(113.3, 35.2)},
    ])
    sites = store.load("sites")
    assert list(sites["existing"]) == [True, False]
    assert list(sites["types"]) == [["邻里", "物业"], []]
    assert sites["capacity"].isna().tolist() == [False, True]


def test_save_upserts_by_key(store):
    store.save("workers", [_worker()])
    store.save("workers", [_worker(capacity=2.0, phone="13911112222")])
    got = store.load("workers")
    assert len(got) == 1
    assert got.iloc[0]["capacity"] == 2.0
    assert got.iloc[0]["phone"] == "13911112222"


def test_where_filters(store):
    store.save("workers", [_worker("A", home_ward="1"), _worker("B", home_ward="2"),
                           _worker("C", home_ward="3")])
    assert list(store.load("workers", where={"home_ward": ["1", "3"]})["worker_id"]) == ["A", "C"]
    assert list(store.load("workers", where={"worker_id": "B"})["worker_id"]) == ["B"]
    assert store.load("workers", where={"worker_id": []}).empty
    assert store.count("workers", where={"home_ward": "2"}) == 1


def test_transaction_rolls_back_everything(store, fingerprint):
    store.save("wards", _wards())
    before = fingerprint(store)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.save("workers", [_worker()])
            store.delete("wards", where={"code": "410802001"})
            raise RuntimeError("interrupted")
    assert fingerprint(store) == before


def test_failed_batch_writes_nothing(store, fingerprint):
    store.save("wards", _wards())
    before = fingerprint(store)
    bad = [_worker("A"), _worker("B", name=None)]  # name is NOT NULL: the second row fails
    with pytest.raises(StoreError):
        store.save("workers", bad)
    assert fingerprint(store) == before
    store.save("workers", [_worker("C")])  # the store is usable afterwards
    assert store.count("workers") == 1


def test_nested_transactions_join_the_outer_one(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            with store.transaction():
                store.save("workers", [_worker()])
            raise RuntimeError("outer fails after inner finished")
    assert store.count("workers") == 0


def test_insert_assigns_increasing_ids(store):
    first = store.insert("plans", {"kind": "grid", "rule": "several", "status": "draft",
                                   "created_at": datetime(2026, 1, 1, tzinfo=timezone.utc)})
    second = store.insert("plans", {"kind": "grid", "rule": "one", "status": "draft",
                                    "params": {"time_limit": 5}})
    assert second > first
    plans = store.load("plans")
    assert list(plans["plan_id"]) == [first, second]
    assert plans.iloc[1]["params"] == {"time_limit": 5}
    assert plans.iloc[0]["created_at"] == datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_update_and_delete_count_rows(store):
    store.save("workers", [_worker("A"), _worker("B")])
    assert store.update("workers", {"worker_id": "A"}, {"status": "retired"}) == 1
    assert store.load("workers", where={"worker_id": "A"}).iloc[0]["status"] == "retired"
    assert store.delete("workers", where={"status": "active"}) == 1
    assert list(store.load("workers")["worker_id"]) == ["A"]


def test_reopen_keeps_data_and_schema_version(store_url):
    s = open_store(store_url, create=True)
    s.save("wards", _wards())
    s.close()
    s = open_store(store_url)
    assert s.schema_version() == SCHEMA_VERSION
    assert s.count("wards") == 2
    s.close()


def test_store_from_a_newer_gridgov_is_refused(store_url):
    s = open_store(store_url, create=True)
    s._execute(f"UPDATE gridgov_meta SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'schema_version'")
    s.close()
    with pytest.raises(SchemaVersionError, match="upgrade gridgov"):
        open_store(store_url)


def test_uninitialised_store_is_not_created_implicitly(tmp_path, pg_url):
    with pytest.raises(NotFoundError, match="gridgov init"):
        open_store(str(tmp_path / "missing.gpkg"))
    assert not (tmp_path / "missing.gpkg").exists()
    with pytest.raises(NotFoundError, match="not initialised"):
        open_store(pg_url)


def test_url_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("GRIDGOV_DB", raising=False)
    assert resolve_url(None) == "gridgov.gpkg"
    monkeypatch.setenv("GRIDGOV_DB", str(tmp_path / "x.gpkg"))
    assert resolve_url(None) == str(tmp_path / "x.gpkg")
    assert resolve_url("y.gpkg") == "y.gpkg"
    with pytest.raises(UserError, match=".gpkg"):
        open_store(str(tmp_path / "store.sqlite"), create=True)


def test_geopackage_opens_with_gdal(tmp_path):
    import pyogrio

    s = open_store(str(tmp_path / "q.gpkg"), create=True)
    s.save("wards", _wards())
    s.save("workers", [_worker()])
    s.close()
    layers = dict(pyogrio.list_layers(tmp_path / "q.gpkg"))
    assert layers["wards"] == "MultiPolygon" and layers["workers"] == "Point"
    wards = gpd.read_file(tmp_path / "q.gpkg", layer="wards")
    assert wards.crs.to_epsg() == 4490
    assert list(wards["name"]) == ["民生街道", "民主街道"]
    assert wards.geometry.iloc[1].equals(MultiPolygon([box(113.21, 35.20, 113.22, 35.21)]))


def test_postgis_uses_srid_4490_and_gist_indexes(pg_url):
    s = open_store(pg_url, create=True)
    s.save("wards", _wards())
    assert s._query("SELECT DISTINCT ST_SRID(geom) FROM wards") == [(4490,)]
    indexes = {r[0] for r in s._query("SELECT indexdef FROM pg_indexes WHERE tablename = 'wards'")}
    assert any("USING gist (geom)" in d for d in indexes)
    s.close()


def test_postgis_unreachable_is_a_clear_error():
    from gridgov.errors import StoreUnavailableError

    with pytest.raises(StoreUnavailableError, match="PostgreSQL"):
        open_store("postgresql://postgres@127.0.0.1:1/nowhere", create=True)


def test_an_older_store_is_upgraded_in_place(store_url, monkeypatch):
    import gridgov.store.base as base
    from gridgov.store.migrations import MIGRATIONS

    with monkeypatch.context() as m:  # write a store as gridgov with schema version 1 did
        m.setattr(base, "MIGRATIONS", MIGRATIONS[:1])
        m.setattr(base, "SCHEMA_VERSION", 1)
        old = open_store(store_url, create=True)
        old.save("wards", _wards())
        assert old.schema_version() == 1
        with pytest.raises(StoreError):
            old.count("users")
        old.close()
    s = open_store(store_url)
    assert s.schema_version() == SCHEMA_VERSION >= 2
    assert s.count("wards") == 2
    s.save("users", [{"username": "admin", "role": "admin", "password_hash": "x", "wards": []}])
    assert s.load("users").iloc[0]["wards"] == []
    s.close()


def test_load_selected_columns_skips_geometry_unless_asked(store):
    store.save("wards", _wards())
    codes = store.load("wards", columns=["code"], where={"county_code": "410802"})
    assert list(codes.columns) == ["code"] and list(codes["code"]) == ["410802001", "410802002"]
    assert not isinstance(codes, gpd.GeoDataFrame)
    with_geom = store.load("wards", columns=["name", "geometry"])
    assert list(with_geom.columns) == ["name", "geometry"] and with_geom.crs.to_epsg() == 4490


def test_nul_in_text_is_refused_alike_and_writes_nothing(store, fingerprint):
    before = fingerprint(store)
    with pytest.raises(UserError, match="NUL"):
        store.save("workers", [_worker("A"), _worker("B", name="张\x00三")])
    with pytest.raises(UserError, match="NUL"):
        store.save("workers", [_worker("C", honours=[{"title": "劳模\x00"}])])
    assert fingerprint(store) == before


def test_rows_equal_load(store):
    store.save("wards", _wards())
    store.save("workers", [_worker("A"), _worker("B", capacity=None, honours=[])])
    for layer in ("wards", "workers"):
        frame = store.load(layer)
        plain = store.rows(layer)
        assert [r["geometry"].wkb for r in plain] == [g.wkb for g in frame.geometry]
        for rec, (_, row) in zip(plain, frame.iterrows()):
            for key, value in rec.items():
                if key != "geometry":
                    assert value == row[key] or (value is None and pd.isna(row[key])), (layer, key)
    assert store.rows("workers", columns=["worker_id"], where={"worker_id": "B"}) == [{"worker_id": "B"}]


def test_revisions_rise_with_committed_writes_only(store_url):
    s = open_store(store_url, create=True)
    other = open_store(store_url)  # another connection / process sees the same numbers
    start = s.revisions()
    assert set(start) >= {"wards", "workers", "plans", "assignments", "users", "jobs"}
    s.save("wards", _wards())
    after_save = other.revisions()
    assert after_save["wards"] == start["wards"] + 1
    assert {k: v for k, v in after_save.items() if k != "wards"} == {k: v for k, v in start.items() if k != "wards"}
    with pytest.raises(RuntimeError), s.transaction():  # rolled back: no write, no new revision
        s.update("wards", {"code": "410802001"}, {"name": "改"})
        raise RuntimeError("abort")
    assert other.revisions() == after_save
    with s.transaction():  # one transaction over two layers: each rises once
        s.save("workers", [_worker("LM0001")])
        s.update("workers", {"worker_id": "LM0001"}, {"phone": "13800000000"})
        s.delete("wards", where={"code": "410802001"})
    final = other.revisions()
    assert final["workers"] == after_save["workers"] + 1 and final["wards"] == after_save["wards"] + 1
    s.close()
    other.close()


def test_a_layer_without_a_revision_row_gets_one_on_its_first_write(store_url):
    s = open_store(store_url, create=True)
    s._execute(f"DELETE FROM gridgov_revisions WHERE layer = {s._ph}", ("wards",))  # as if added later
    assert "wards" not in s.revisions()
    s.save("wards", _wards())
    s.save("wards", _wards())
    assert s.revisions()["wards"] == 2
    s.close()


def test_a_version_4_store_gets_the_plan_basis_columns(store_url):
    """Stores made before plans recorded what they were solved from (schema 4) gain the columns
    empty; their plans still load."""
    s = open_store(store_url, create=True)
    s.insert("plans", {"kind": "grid", "rule": "one", "status": "published", "summary": {"grids": 1}})
    for col in ("based_on", "ledger_seen"):
        s._execute(f"ALTER TABLE plans DROP COLUMN {col}")
    s._execute("UPDATE gridgov_meta SET value = '4' WHERE key = 'schema_version'")
    s.close()
    s = open_store(store_url)
    assert s.schema_version() == SCHEMA_VERSION >= 5
    row = s.rows("plans")[0]
    assert row["summary"] == {"grids": 1} and row["based_on"] is None and row["ledger_seen"] is None
    s.update("plans", {"plan_id": row["plan_id"]}, {"based_on": 7, "ledger_seen": {"410802001": 3}})
    assert s.rows("plans")[0]["ledger_seen"] == {"410802001": 3}
    s.close()


def test_upgrading_a_store_says_so_and_keeps_a_geopackage_as_it_was(store_url, caplog):
    s = open_store(store_url, create=True)
    s.save("wards", _wards())
    s._execute("ALTER TABLE users DROP COLUMN token_version")
    s._execute("UPDATE gridgov_meta SET value = '5' WHERE key = 'schema_version'")
    s.close()
    unchanged = open_store(store_url, upgrade=False)
    assert unchanged.schema_version() == 5 and unchanged.upgraded_from is None
    unchanged.close()
    with caplog.at_level("WARNING", logger="gridgov.store.base"):
        s = open_store(store_url)
    assert s.schema_version() == SCHEMA_VERSION and "upgraded from schema version 5" in caplog.text
    before, kept = s.upgraded_from
    s.close()
    assert before == 5
    if "://" in store_url:
        assert kept is None  # PostgreSQL: pg_dump is the admin's
        return
    assert kept.parent == Path(store_url).parent and kept.name.startswith("store.schema5-")
    old = open_store(str(kept), upgrade=False)
    assert old.schema_version() == 5 and old.count("wards") == 2
    old.close()
    again = open_store(store_url)
    assert again.upgraded_from is None  # upgraded once
    again.close()


def test_processes_opening_an_older_store_at_once_migrate_it_once(store_url):
    """A service opens one store per pooled connection at start: on an older store they must not
    all run the same migration (the second ALTER TABLE failed, a 500 on the first requests)."""
    import threading

    errors: list[BaseException] = []
    open_store(store_url, create=True).close()
    for _ in range(5):  # a race: several rounds, so one that slips through is still seen
        s = open_store(store_url)
        s._execute("ALTER TABLE users DROP COLUMN token_version")
        s._execute("UPDATE gridgov_meta SET value = '5' WHERE key = 'schema_version'")
        s.close()
        start = threading.Barrier(6)

        def open_it() -> None:
            try:
                start.wait()
                open_store(store_url).close()
            except BaseException as exc:  # noqa: BLE001 - the test reports every failure
                errors.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert errors == []
    s = open_store(store_url)
    assert s.schema_version() == SCHEMA_VERSION and s.rows("users") == []
    s.close()
