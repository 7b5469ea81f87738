"""Benchmark 4 and 5 of the allocation issue: the Jiaozuo demo city, and re-solves after departures.

4. 多格一劳模 with contiguity (and optional balance) over the whole demo city: wall time, share of
   territories contiguous, workload spread, coverage. Peer: the same wards without contiguity.
5. After 1, 10 and 50 random departures (retirements): the ``--changed`` re-solve's time and grids
   moved, against a from-scratch solve of the same roster (its grids moved vs the published plan).

    python benchmarks/bench_city.py [--scale 1.0] [--time-limit 3] [--departures 1 10 50]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from gridgov.demo import generate_demo, save_demo
from gridgov.plans.allocation import AllocationOptions
from gridgov.plans.roster import retire_worker
from gridgov.plans.run import solve_plan
from gridgov.plans.versions import diff_plans, plan_assignment, publish_plan
from gridgov.store import open_store


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def _row(label: str, summary: dict, wall: float) -> str:
    return (f"{label:<28} {wall:8.1f} {summary['covered']:>7}/{summary['grids']:<6} "
            f"{summary['contiguous_share'] if summary['contiguous_share'] is not None else '-':>10} "
            f"{summary['load_max_over_mean'] or '-':>9} {summary['compactness_mean'] or '-':>8} "
            f"{summary['cost_km']:>10} {summary['statuses']}")


def city(store, *, time_limit: float, balance: float | None) -> int:
    print("\n## 4. Whole city, 多格一劳模 (rule=auto: 一格一劳模 where a ward has enough people)")
    print(f"{'run':<28} {'wall s':>8} {'covered':>14} {'contiguous':>10} {'max/mean':>9} {'PP mean':>8} "
          f"{'cost km':>10} statuses")
    contiguous, wall = _timed(
        solve_plan, store, options=AllocationOptions(time_limit=time_limit, balance=balance), actor="bench"
    )
    print(_row("gridgov, contiguous", contiguous.summary, wall))
    loose, wall_loose = _timed(
        solve_plan, store, options=AllocationOptions(time_limit=time_limit, contiguity=False), actor="bench"
    )
    print(_row("peer: no contiguity", loose.summary, wall_loose))
    print(f"time ratio contiguous / no-contiguity: {wall / wall_loose:.2f}")
    return int(contiguous.plan_id)


def departures(path: Path, base_plan: int, counts: list[int], *, time_limit: float, seed: int) -> None:
    """Each row starts from a copy of the store with ``base_plan`` published. ``their grids``:
    grids the leavers held, which must move; the peer is a from-scratch solve of the same roster."""
    print("\n## 5. Re-solve after departures (retirements)")
    print(f"{'departures':>10} {'re-solve s':>10} {'wards':>6} {'moved':>6} {'their grids':>11} "
          f"{'uncovered':>9} {'scratch s':>9} {'scratch moved':>13} {'moved ratio':>11}")
    rng = np.random.default_rng(seed)
    opts = AllocationOptions(time_limit=time_limit)
    for k in counts:
        copy = path.with_name(f"departures_{k}.gpkg")
        shutil.copyfile(path, copy)
        store = open_store(str(copy))
        current = plan_assignment(store, base_plan)
        holders = sorted({w for w in current.values() if w})
        leaving = {str(w) for w in rng.choice(holders, size=min(k, len(holders)), replace=False)}
        for w in sorted(leaving):
            retire_worker(store, w, actor="bench")
        their = sum(1 for w in current.values() if w in leaving)
        fast, t_fast = _timed(solve_plan, store, options=opts, changed=True, actor="bench")
        moved_fast = _moved(store, base_plan, int(fast.plan_id))
        scratch, t_scratch = _timed(solve_plan, store, options=opts, use_current=False, actor="bench")
        moved_scratch = _moved(store, base_plan, int(scratch.plan_id))
        print(f"{k:>10} {t_fast:>10.2f} {len(fast.scope):>6} {moved_fast:>6} {their:>11} "
              f"{fast.summary['uncovered']:>9} {t_scratch:>9.1f} {moved_scratch:>13} "
              f"{moved_scratch / max(moved_fast, 1):>11.1f}")
        store.close()


def _moved(store, a: int, b: int) -> int:
    """Grids that had a worker in ``a`` and a different one (or none) in ``b``; newly covered
    grids are not moves."""
    return sum(1 for m in diff_plans(store, a, b) if m.before is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--time-limit", type=float, default=3.0, help="seconds per ward")
    parser.add_argument("--balance", type=float, default=None)
    parser.add_argument("--departures", type=int, nargs="*", default=[1, 10, 50])
    parser.add_argument("--quick", action="store_true", help="scale 0.2, departures 1 and 10")
    args = parser.parse_args()
    if args.quick:
        args.scale, args.departures = 0.2, [1, 10]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "city.gpkg"
        store = open_store(str(path), create=True)
        data, t_gen = _timed(generate_demo, seed=args.seed, scale=args.scale)
        save_demo(store, data)
        print(f"demo scale {args.scale}: {len(data.grids)} grids, {len(data.wards)} wards, "
              f"{len(data.workers)} workers; generated in {t_gen:.1f} s")
        plan = city(store, time_limit=args.time_limit, balance=args.balance)
        publish_plan(store, plan, actor="bench")
        store.close()
        departures(path, plan, args.departures, time_limit=args.time_limit, seed=args.seed)


if __name__ == "__main__":
    main()
