"""Where numba keeps compiled kernels: a writable folder even for a service account."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path


def ensure_cache_dir() -> None:
    """Point ``NUMBA_CACHE_DIR`` at a writable folder when numba would find none.

    numba caches next to the source (``__pycache__``) or under the user's home. Installed by
    root and run as a service user without a writable home, it finds neither and every solve
    failed ("cannot cache function 'knapsack': no locator available") while the service looked
    healthy. An explicit ``NUMBA_CACHE_DIR`` is kept.
    """
    if os.environ.get("NUMBA_CACHE_DIR") or _writable(Path(__file__).parent / "__pycache__"):
        return
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path("~/.cache").expanduser())
    if _writable(home / "numba"):
        return
    os.environ["NUMBA_CACHE_DIR"] = str(_private_temp_dir())
    _reload_numba_config()


def _reload_numba_config() -> None:
    if "numba" in sys.modules:  # numba read its settings when something imported it first
        from numba.core import config

        config.reload_config()


def _writable(folder: Path) -> bool:
    """``folder`` exists and can be written, or can be created."""
    for path in (folder, *folder.parents):
        if path.exists():
            return os.access(path, os.W_OK | os.X_OK) and path.is_dir()
    return False


def _private_temp_dir() -> Path:
    """A folder in the temp dir that only this user can write, kept across processes so kernels
    compile once; one another user made (or opened to others) is not used: numba loads pickled
    code from it."""
    uid = os.getuid()
    path = Path(tempfile.gettempdir()) / f"gridgov-numba-{uid}"
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = path.lstat()
    if stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o022:
        return path
    return Path(tempfile.mkdtemp(prefix="gridgov-numba-"))
