"""Writing maps: a self-contained HTML file, atomically; the city map for gridgov demo."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from gridgov.maps.assets import DEFAULT_BASE_URL, AssetMode, render_html
from gridgov.store import SqlStore


def save_map(m: Any, path: str | Path, *, asset_mode: AssetMode = "inline", base_url: str = DEFAULT_BASE_URL) -> Path:
    """Write ``m`` as one HTML file (assets inlined: it opens from disk with no network).

    Written to a temporary file beside ``path`` and renamed, so a reader never sees half a map.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = render_html(m, asset_mode=asset_mode, base_url=base_url)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a map is as readable as any file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_city_map(store: SqlStore, out_dir: str | Path, *, lang: str = "zh") -> Path:
    """The city coverage map of the published plan as ``out_dir/coverage_map.html``."""
    from gridgov.maps.coverage import coverage_map

    return save_map(coverage_map(store, lang=lang), Path(out_dir) / "coverage_map.html")  # type: ignore[arg-type]
