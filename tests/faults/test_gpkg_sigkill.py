"""A process SIGKILLed while writing the GeoPackage leaves it valid and as it was (rollback journal)."""

from __future__ import annotations

import hashlib
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest
from faultkit import api_city, workers_csv

from gridgov.store import open_store

WRITER = Path(__file__).with_name("gpkg_writer.py")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _kill_when_half_done(args: list[str]) -> None:
    child = subprocess.Popen([sys.executable, str(WRITER), *args], stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready, "the writer never got half way"
        assert child.stdout.readline().strip() == "half"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()


@pytest.mark.parametrize("mode", ["save", "import"])
def test_sigkill_mid_write_leaves_the_file_valid_and_unchanged(tmp_path, fingerprint, mode):
    path = tmp_path / "city.gpkg"
    with open_store(str(path), create=True) as store:
        api_city().seed_city(store)
        before = fingerprint(store)
    raw_before = _digest(path)
    roster = workers_csv(tmp_path / "roster.csv", 3000, prefix="R")
    _kill_when_half_done([str(path), mode, str(roster)])

    journal = Path(f"{path}-journal")
    assert journal.exists()  # a hot journal: the kill came inside the transaction
    assert _digest(path) != raw_before  # and pages had already spilled into the file
    spare = tmp_path / "spare.gpkg"  # the same crash, opened below through the store itself
    shutil.copy2(path, spare)
    shutil.copy2(journal, f"{spare}-journal")

    conn = sqlite3.connect(path)  # the next open, by anyone, rolls the journal back
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    assert not journal.exists()
    with open_store(str(path)) as store:
        assert fingerprint(store) == before
    layers = dict(pyogrio.list_layers(path))
    assert layers["wards"] == "MultiPolygon" and layers["workers"] == "Point"

    with open_store(str(spare)) as store:  # a stale journal met by gridgov's own open
        assert fingerprint(store) == before
        assert store.count("workers") == 6
    assert not Path(f"{spare}-journal").exists()
