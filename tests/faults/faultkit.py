"""Helpers of the fault tests (a module of its own: test files cannot import a conftest by name)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gridgov.store.postgis import PostGISStore


def api_city() -> Any:
    """tests/api/api_city.py (the seeded 3-ward city), imported as ``api_city`` like tests/api does."""
    here = str(Path(__file__).resolve().parents[1] / "api")
    if here not in sys.path:
        sys.path.append(here)
    import api_city

    return api_city


def workers_csv(path: Path, n: int, *, prefix: str = "N") -> Path:
    """A roster of ``n`` new workers living in the city's first ward (tests/data/good/workers.csv's header)."""
    lines = ["编号,姓名,荣誉,行业,所在单位,手机,居住街道,状态,承担网格数,经度,纬度"]
    lines += [f"{prefix}{i:05d},新劳模{i},\"焦作工匠(市,2020)\",企业,焦作煤业集团,13803910000,{api_city().W1},在岗,2,"
              f"{113.201 + (i % 80) * 0.0001:.4f},35.2050" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path



def terminate(admin: Any) -> Callable[[PostGISStore], None]:
    """An action killing the store's server process (pg_terminate_backend) from an admin connection."""

    def action(store: PostGISStore) -> None:
        pid = store._conn.get_backend_pid()
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
            assert cur.fetchone()[0]

    return action
