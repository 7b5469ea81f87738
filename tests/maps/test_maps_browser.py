"""The coverage map in real headless Chromium, with the network cut off: polygons must render."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from gridgov.maps import coverage_map, save_map
from gridgov.maps.colouring import PALETTE

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
BACKGROUND = (0xF4, 0xF4, 0xF0)  # the blank map's background (tiles "none")


def screenshot(html: Path, png: Path) -> None:
    """Load ``html`` from disk in headless Chromium and save a 1200x900 screenshot."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium fonts-wqy-microhei", pytrace=False)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}",
             # Every http(s) request goes to a closed local port: the page must not need one.
             "--proxy-server=http://127.0.0.1:9", "--virtual-time-budget=5000",
             f"--screenshot={png}", "--window-size=1200,900", html.as_uri()],
            check=True, capture_output=True, timeout=120,
        )


def rendered_dom(html: Path) -> str:
    """The DOM of ``html`` after its scripts ran in headless Chromium, offline."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium fonts-wqy-microhei", pytrace=False)
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--user-data-dir={profile}", "--proxy-server=http://127.0.0.1:9", "--virtual-time-budget=5000",
             "--dump-dom", html.as_uri()],
            check=True, capture_output=True, timeout=120, text=True,
        )
    return done.stdout


def blend(hex_colour: str, alpha: float) -> tuple[int, int, int]:
    rgb = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    return tuple(round(alpha * c + (1 - alpha) * b) for c, b in zip(rgb, BACKGROUND))  # type: ignore[return-value]


def count_near(pixels: list[tuple[int, ...]], colour: tuple[int, int, int], tol: int = 4) -> int:
    return sum(1 for p in pixels if all(abs(p[i] - colour[i]) <= tol for i in range(3)))


def test_coverage_map_renders_polygons_offline(map_store, tmp_path: Path) -> None:
    from PIL import Image

    html = save_map(coverage_map(map_store), tmp_path / "coverage.html")
    ARTIFACTS.mkdir(exist_ok=True)
    png = ARTIFACTS / "coverage_map_offline.png"
    png.unlink(missing_ok=True)
    screenshot(html, png)
    image = Image.open(png).convert("RGB")
    pixels = [image.getpixel((x, y)) for y in range(0, image.height, 2) for x in range(0, image.width, 2)]
    assert image.size == (1200, 900)
    # Territories: at least three palette colours (fill opacity 0.75 over the background).
    painted = [c for c in PALETTE if count_near(pixels, blend(c, 0.75)) > 500]
    assert len(painted) >= 3, painted
    # The uncovered grid's red outline and hatch.
    assert count_near(pixels, (0xD6, 0x27, 0x28), tol=12) > 150
    shutil.copy(html, ARTIFACTS / "coverage_map_offline.html")


def test_the_credit_line_says_leaflet_without_a_flag(map_store, tmp_path: Path) -> None:
    # Leaflet 1.9 puts a flag before its name on every map; on a government page that is a
    # foreign political symbol (an operations review's finding).
    dom = rendered_dom(save_map(coverage_map(map_store), tmp_path / "coverage.html"))
    credit = re.search(r'class="leaflet-control-attribution leaflet-control">(.*?)</div>', dom, flags=re.S)
    assert credit is not None, "no credit line rendered"
    assert credit.group(1).startswith("Leaflet") and "<svg" not in credit.group(1)
