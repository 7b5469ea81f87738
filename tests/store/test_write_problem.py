"""write_problem: a store that still reads but can take no write says why (for /api/health)."""

from __future__ import annotations

import shutil
from urllib.parse import quote

import gridgov.store.geopackage as geopackage
from gridgov.store import open_store


def test_a_writable_store_has_no_write_problem(store):
    assert store.write_problem() is None


def test_a_nearly_full_disk_is_a_write_problem(tmp_path, monkeypatch):
    store = open_store(str(tmp_path / "store.gpkg"), create=True)
    try:
        # The disk is real; the floor is put above what it has free.
        monkeypatch.setattr(geopackage, "_MIN_FREE_BYTES", shutil.disk_usage(tmp_path).free * 2)
        problem = store.write_problem()
        assert problem is not None and "MB free on the disk" in problem and str(tmp_path) in problem
    finally:
        store.close()


def test_a_read_only_postgresql_session_is_a_write_problem(pg_url):
    open_store(pg_url, create=True).close()
    base, options = pg_url.split("options=")
    read_only = f"{base}options={options}{quote(' -cdefault_transaction_read_only=on')}"
    store = open_store(read_only)
    try:
        assert store.count("wards") == 0  # it still reads
        assert "read-only" in (store.write_problem() or "")
    finally:
        store.close()
