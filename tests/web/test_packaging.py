"""The page ships inside the package (web/ links to it) and reaches a built wheel; no file names an outside URL."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

from gridgov.api.main import web_dir

ROOT = Path(__file__).resolve().parents[2]
PAGE = ("index.html", "app.js", "style.css", "i18n.js")


def test_web_is_a_link_to_the_package_folder():
    link = ROOT / "web"
    assert link.is_symlink() and link.resolve() == web_dir()
    assert all((web_dir() / name).is_file() for name in PAGE)


def test_page_files_name_no_outside_url():
    for name in PAGE:
        text = (web_dir() / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), name


def test_wheel_carries_the_page(tmp_path):
    """A non-editable install finds the page: the wheel holds gridgov/web_static/* (pyproject package-data)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next(tmp_path.glob("gridgov-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [n for n in PAGE if f"gridgov/web_static/{n}" not in names]
    assert not missing, f"the wheel lacks {missing}: add \"gridgov.web_static\" to [tool.setuptools.package-data]"
    assert "gridgov/api/main.py" in names
