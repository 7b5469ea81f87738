"""Weeks of roster churn on the demo city: does coverage hold with `solve --changed` each week?

Each week retires 4 workers who hold grids, books open-ended absences for 6 more, brings 3 away
workers back and adds 4 newcomers in random wards; then `solve --changed` (the published plan as
`current`) and publish, as a planner's weekly cycle does. Printed per week: wards re-solved, time,
grids moved off workers on duty, grids covered, available workers holding no grid. Peer: a whole
city re-solve from the last published plan on the same roster (what the weekly cycle should not
fall behind).

    python benchmarks/bench_churn.py [--weeks 8] [--scale 1.0] [--time-limit 1] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date
from pathlib import Path

from gridgov.demo import generate_demo, save_demo
from gridgov.plans.allocation import AllocationOptions
from gridgov.plans.roster import add_worker, available_workers, mark_available, mark_unavailable, retire_worker
from gridgov.plans.run import solve_plan
from gridgov.plans.versions import publish_plan, published_assignment
from gridgov.store import open_store


def coverage(store) -> tuple[int, int, int]:
    """(grids covered, grids, available workers holding no grid) of the published plan."""
    _, held = published_assignment(store)
    holders = {w for w in held.values() if w}
    idle = set(available_workers(store.load("workers"))["worker_id"]) - holders
    return sum(w is not None for w in held.values()), len(held), len(idle)


def churn(store, rng: random.Random, week: int) -> None:
    workers = store.load("workers")
    _, held = published_assignment(store)
    holders = sorted({w for w in held.values() if w})
    for w in rng.sample(holders, 4):
        retire_worker(store, w, actor="bench")
    active = set(workers.loc[workers["status"] == "active", "worker_id"])
    for w in rng.sample(sorted(active & set(holders)), 6):
        if store.rows("workers", where={"worker_id": w})[0]["status"] == "active":
            mark_unavailable(store, w, start=date.today(), end=None, actor="bench", replace=True)
    away = sorted(workers.loc[workers["status"] == "unavailable", "worker_id"])
    for w in rng.sample(away, min(3, len(away))):
        mark_available(store, w, actor="bench")
    wards = store.load("wards")
    for k in range(4):
        ward = wards.iloc[rng.randrange(len(wards))]
        like = workers.iloc[rng.randrange(len(workers))]
        add_worker(store, {"worker_id": f"NEW{week:02d}{k}", "name": f"新劳模{week}{k}", "phone": "13800000000",
                           "sector": like["sector"], "employer": like["employer"], "home_ward": ward["code"],
                           "capacity": float(rng.choice([1.0, 2.0, 3.0])),
                           "geometry": ward.geometry.representative_point()}, actor="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--time-limit", type=float, default=1.0, help="seconds per ward")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    options = AllocationOptions(time_limit=args.time_limit)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "churn.gpkg"), create=True)
        save_demo(store, generate_demo(seed=2026, scale=args.scale))
        t0 = time.perf_counter()
        first = solve_plan(store, options=options, actor="bench")
        publish_plan(store, int(first.plan_id), actor="bench")
        print(f"city solve {time.perf_counter() - t0:.1f} s; covered / grids / idle workers: {coverage(store)}")
        print(f"{'week':>4} {'wards':>6} {'solve s':>8} {'moves':>6} {'covered':>8} {'idle':>5}")
        rng = random.Random(args.seed)
        for week in range(args.weeks):
            churn(store, rng, week)
            t0 = time.perf_counter()
            out = solve_plan(store, options=options, changed=True, actor="bench")
            wall = time.perf_counter() - t0
            if out.plan_id:
                publish_plan(store, int(out.plan_id), actor="bench", force=True)
            covered, _, idle = coverage(store)
            print(f"{week:>4} {len(out.scope):>6} {wall:>8.1f} {out.summary.get('moves', 0):>6} {covered:>8} {idle:>5}")
        t0 = time.perf_counter()
        peer = solve_plan(store, options=options, actor="bench")
        covered, _, _ = coverage(store)
        print(f"peer: city re-solve from the published plan, {time.perf_counter() - t0:.1f} s: "
              f"{peer.summary['covered']} covered (weekly cycle: {covered}; ratio {covered / peer.summary['covered']:.3f})")
        store.close()


if __name__ == "__main__":
    main()
