"""The main job on the Jiaozuo demo: build the data into the store, then summarise it."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gridgov.errors import UserError
from gridgov.store import SqlStore

Progress = Callable[[str], None]


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and a rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2, default=str)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the summary is for everyone
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def data_summary(store: SqlStore) -> dict[str, Any]:
    """Counts a planner checks first: units, grids, households, the roster, incidents, sites."""
    grids = store.load("grids", columns=["households"])
    workers = store.load("workers", columns=["status"])
    return {
        "区县 counties": store.count("counties"),
        "街道/乡镇 wards": store.count("wards"),
        "网格 grids": len(grids),
        "户数 households": int(grids["households"].fillna(0).sum()) if len(grids) else 0,
        "劳模 workers (在岗 active)": int((workers["status"] == "active").sum()) if len(workers) else 0,
        "劳模 workers (全部 all)": len(workers),
        "矛盾纠纷 incidents": store.count("incidents"),
        "工作室站点 studio sites": store.count("sites"),
    }


# The demo's studios: one set per frequent dispute type, existing studios kept.
DEMO_STUDIO_TYPES = ("劳动争议", "邻里", "婚姻家庭", "物业")


def _studio_count(store: SqlStore, *, new_per_type: int = 3) -> int:
    """Studios per type: every existing one that handles any demo type, plus a few new ones, but
    no more than the type with the fewest candidate sites has (a small --scale has few sites)."""
    sites = store.load("sites")
    existing = sites[sites["existing"].fillna(False).astype(bool)]
    handles = existing["types"].apply(lambda ts: bool(set(ts or []) & set(DEMO_STUDIO_TYPES)))
    # A site with no types listed takes every type (as studio placement reads it).
    candidates = min(sum(1 for ts in sites["types"] if ts is None or len(ts) == 0 or kind in ts)
                     for kind in DEMO_STUDIO_TYPES)
    return max(1, min(int(handles.sum()) + new_per_type, candidates))


def check_demo_target(store: SqlStore) -> None:
    """Refuse a store holding a user's own data: the demo replaces every layer and the ledger.

    Own data is anything imported (the ledger says so), or wards, grids or workers in a store
    where the demo never ran (it leaves its plans behind).
    """
    ledger = store.load("ledger", columns=["action"])
    # Layers are imported as "import"; workers, one by one, as "worker.add" (the demo writes neither).
    imported = int(ledger["action"].isin(["import", "worker.add"]).sum())
    counts = {layer: store.count(layer) for layer in ("wards", "grids", "workers")}
    demo_ran = store.count("plans", where={"created_by": "demo"}) > 0
    if imported or (any(counts.values()) and not demo_ran):
        raise UserError(
            f"数据库 {store.url} 中已有数据（街道 {counts['wards']}、网格 {counts['grids']}、劳模 {counts['workers']}、"
            f"台账 {len(ledger)} 条），运行示例会全部替换。请用 --db 指定另一个文件（如 --db demo.gpkg），"
            f"或确认要覆盖后加 --force",
            f"the store {store.url} holds data ({counts['wards']} wards, {counts['grids']} grids, "
            f"{counts['workers']} workers, {len(ledger)} ledger entries) that the demo would replace: "
            f"use another file (e.g. --db demo.gpkg), or add --force to overwrite it",
        )


def run_demo(
    store: SqlStore,
    *,
    out_dir: Path,
    seed: int = 2026,
    scale: float = 1.0,
    time_limit: float = 1.0,  # seconds per ward; the demo must finish in under two minutes
    studio_time_limit: float = 6.0,  # seconds per studio model (one per dispute type)
    progress: Progress | None = None,
    map_lang: str = "zh",
) -> dict[str, Any]:
    """The main job: build the seeded demo, solve and publish the grid plan, place and staff
    studios, draw the coverage map (in ``map_lang``), and write ``summary.json`` to ``out_dir``."""
    from gridgov.demo import generate_demo, save_demo
    from gridgov.plans.allocation import AllocationOptions
    from gridgov.plans.run import solve_plan
    from gridgov.plans.studios import StudioOptions, place_studios, studio_summary
    from gridgov.plans.versions import publish_plan

    say = progress or (lambda _msg: None)
    say("生成示例数据 / generating the demo")
    data = generate_demo(seed=seed, scale=scale, progress=say)
    say("写入数据库 / writing the store")
    with store.transaction():  # one write: a crash must not leave new grids under old plans
        save_demo(store, data)
        for layer in ("assignments", "plans", "ledger", "jobs"):
            store.delete(layer)  # plans of an earlier demo refer to grids that no longer exist
    summary = {"数据库 store": store.url, "种子 seed": seed, **data_summary(store)}

    def on_ward(outcome: Any, done: int, total: int) -> None:
        say(f"求解街道 / solving wards {done}/{total}")

    plan = solve_plan(store, options=AllocationOptions(time_limit=time_limit), progress=on_ward, actor="demo")
    publish_plan(store, int(plan.plan_id), actor="demo")
    summary["包格方案 grid plan"] = f"{plan.plan_id}（已发布 published）"
    summary.update({f"包格 {k}": v for k, v in plan.summary.items()})
    say("布局调解工作室 / placing mediation studios")
    studios = place_studios(
        store,
        options=StudioOptions(types=DEMO_STUDIO_TYPES, joint=False, count=_studio_count(store),
                              time_limit=studio_time_limit),
        actor="demo",
    )
    publish_plan(store, int(studios.plan_id), actor="demo")
    summary.update(studio_summary(store))
    say("绘制覆盖地图 / drawing the coverage map")
    from gridgov.maps import write_city_map

    summary["覆盖地图 map"] = str(write_city_map(store, out_dir, lang=map_lang))
    write_json_atomic(out_dir / "summary.json", summary)
    return summary
