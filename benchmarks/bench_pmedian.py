"""OR-Library pmed1-20: gridgov place_sites vs PySAL spopt PMedian (PuLP + CBC), side by side."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _orlib import parse_range, read_pmed  # noqa: E402

from gridgov.solve import place_sites  # noqa: E402


def run_spopt(distance: np.ndarray, p: int, limit: float) -> tuple[float | None, str, float]:
    """spopt's PMedian on the same matrix, CBC on one thread: (objective, status, seconds)."""
    import pulp
    from spopt.locate import PMedian

    t0 = time.perf_counter()
    model = PMedian.from_cost_matrix(distance, np.ones(distance.shape[0]), p_facilities=p)
    try:
        model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, threads=1), results=False)
    except RuntimeError:  # spopt raises when CBC has no solution
        return None, "no solution", time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    value = pulp.value(model.problem.objective)
    # PuLP reports status 1 for a time-limited solve too; sol_status tells them apart.
    status = "optimal" if model.problem.sol_status == pulp.LpSolutionOptimal else "time limit"
    return (None if value is None else float(value)), status, seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--instances", default="1-20", help="e.g. 1-5,8 (default 1-20)")
    ap.add_argument("--quick", action="store_true", help="pmed1-5 only")
    ap.add_argument("--no-peer", action="store_true", help="skip spopt")
    ap.add_argument("--time-limit", type=float, default=120.0, help="gridgov limit per instance (s)")
    ap.add_argument("--peer-limit", type=float, default=120.0, help="spopt/CBC limit per instance (s)")
    args = ap.parse_args(argv)
    ks = parse_range("1-5" if args.quick else args.instances, top=20)
    print(f"gridgov place_sites (1 worker, limit {args.time_limit:g} s) vs spopt PMedian + CBC "
          f"(1 thread, limit {args.peer_limit:g} s); times include model building")
    head = f"{'inst':7} {'n':>4} {'p':>4} {'optimum':>8} {'gridgov':>8} {'status':>8} {'gap':>7} {'time s':>7}"
    if not args.no_peer:
        head += f" | {'spopt':>8} {'status':>10} {'time s':>7} {'ratio':>7}"
    print(head)
    ratios: list[float] = []
    hits = 0
    ours_t: list[float] = []
    for k in ks:
        inst = read_pmed(k)
        t0 = time.perf_counter()
        r = place_sites(inst.distance, p=inst.p, time_limit=args.time_limit)
        sec = time.perf_counter() - t0
        ours_t.append(sec)
        hit = r.status == "optimal" and r.objective == inst.optimum
        hits += hit
        gap = "-" if r.gap is None else f"{100 * r.gap:.2f}%"
        line = (f"{inst.name:7} {inst.distance.shape[0]:4d} {inst.p:4d} {inst.optimum:8d} {r.objective:8.0f} "
                f"{r.status:>8} {gap:>7} {sec:7.2f}")
        if not args.no_peer:
            value, status, peer = run_spopt(inst.distance, inst.p, args.peer_limit)
            ratios.append(peer / sec)
            shown = "-" if value is None else f"{value:.0f}"
            prefix = ">=" if status != "optimal" else ""
            line += f" | {shown:>8} {status:>10} {peer:7.2f} {prefix + f'{peer / sec:.1f}x':>7}"
        print(line, flush=True)
    print(f"published optimum reached and proven: {hits}/{len(ks)}; "
          f"gridgov median time {statistics.median(ours_t):.2f} s, total {sum(ours_t):.1f} s")
    if ratios:
        print(f"time ratio spopt/gridgov: median instance {statistics.median(ratios):.1f}x "
              f"(min {min(ratios):.1f}x, max {max(ratios):.1f}x; a time-limited spopt run counts at its limit)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
