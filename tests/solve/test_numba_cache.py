"""numba's cache folder: a writable one even when the package and the home are read-only."""

from __future__ import annotations

import os
import stat

import pytest

from gridgov.solve import _numba_cache


@pytest.fixture
def read_only_install(monkeypatch, tmp_path):
    """As a service account sees it: the package folder and the home cannot be written."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", "")  # so that the value set by the test is undone
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setattr(_numba_cache, "_reload_numba_config", lambda: None)  # this process keeps its own
    monkeypatch.setattr(_numba_cache, "_writable", lambda folder: False)
    monkeypatch.setattr(_numba_cache.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(_numba_cache.tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_read_only_install_caches_in_a_private_temp_folder(read_only_install):
    _numba_cache.ensure_cache_dir()
    folder = read_only_install / f"gridgov-numba-{os.getuid()}"
    assert os.environ["NUMBA_CACHE_DIR"] == str(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    _numba_cache.ensure_cache_dir()  # the next process finds it and keeps it
    assert os.environ["NUMBA_CACHE_DIR"] == str(folder)


def test_a_folder_others_can_write_is_not_used(read_only_install, monkeypatch):
    planted = read_only_install / f"gridgov-numba-{os.getuid()}"
    planted.mkdir()
    planted.chmod(0o777)  # anyone could put pickled code here
    _numba_cache.ensure_cache_dir()
    chosen = os.environ["NUMBA_CACHE_DIR"]
    assert chosen != str(planted) and chosen.startswith(str(read_only_install))
    assert stat.S_IMODE(os.stat(chosen).st_mode) == 0o700


def test_a_cache_folder_set_by_the_admin_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setattr(_numba_cache, "_writable", lambda folder: False)
    _numba_cache.ensure_cache_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")


def test_writable_looks_up_to_the_first_folder_that_exists(tmp_path):
    assert _numba_cache._writable(tmp_path / "not" / "yet")
    tmp_path.joinpath("file").write_text("x")
    assert not _numba_cache._writable(tmp_path / "file" / "below")
