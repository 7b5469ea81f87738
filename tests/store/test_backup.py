"""gridgov backup: a consistent, checked copy of a GeoPackage store, also while another process writes."""

from __future__ import annotations

import threading

import pytest

from gridgov.errors import UserError
from gridgov.plans.imports import import_file
from gridgov.plans.ledger import record
from gridgov.store import open_store


def test_a_backup_taken_while_another_connection_writes_is_a_whole_store(tmp_path, fingerprint):
    from pathlib import Path

    good = Path(__file__).parents[1] / "data" / "good"
    url = str(tmp_path / "s.gpkg")
    with open_store(url, create=True) as store:
        import_file(store, "wards", good / "wards.geojson")
        import_file(store, "grids", good / "grids.geojson")
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:  # another office: ledger entries one after another
        with open_store(url) as other:
            while not stop.is_set():
                with other.transaction():
                    record(other, actor="x", action="worker.update", subject=f"W{len(written)}",
                           before={}, after={"n": len(written)})
                written.append(1)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(1000):  # the writer is under way (10 s at most)
            if written or not writer.is_alive():
                break
            threading.Event().wait(0.01)
        with open_store(url) as store:
            for i in range(5):
                store.backup(tmp_path / f"copy{i}.gpkg")
    finally:
        stop.set()
        writer.join()
    assert len(written) > 5  # the copies were taken while it wrote
    for i in range(5):
        with open_store(str(tmp_path / f"copy{i}.gpkg")) as copy:
            assert copy.count("grids") == 3
            entries = copy.rows("ledger", order_by="entry_id")
            assert [e["entry_id"] for e in entries] == list(range(1, len(entries) + 1))  # no torn write
    with open_store(url) as store:
        store.backup(tmp_path / "idle.gpkg")
        with open_store(str(tmp_path / "idle.gpkg")) as copy:
            assert fingerprint(copy) == fingerprint(store)
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_postgresql_store_points_to_pg_dump(pg_url, tmp_path):
    with open_store(pg_url, create=True) as store, pytest.raises(UserError, match="pg_dump"):
        store.backup(tmp_path / "x.gpkg")
    assert not (tmp_path / "x.gpkg").exists()
