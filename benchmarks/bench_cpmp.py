"""Osman & Christofides capacitated p-median (20 instances): gridgov place_sites vs the published optima."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _orlib import parse_range, read_cpmp  # noqa: E402

from gridgov.solve import place_sites  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--instances", default="1-20", help="e.g. 1-5,11 (default 1-20)")
    ap.add_argument("--quick", action="store_true", help="instances 1-3 only")
    ap.add_argument("--time-limit", type=float, default=120.0, help="limit per instance (s)")
    args = ap.parse_args(argv)
    ks = parse_range("1-3" if args.quick else args.instances, top=20)
    print(f"gridgov place_sites, capacitated (1 worker, limit {args.time_limit:g} s); "
          "cost = floor(Euclidean), weight = 1, load = demand")
    print(f"{'inst':12} {'n':>4} {'p':>3} {'optimum':>8} {'gridgov':>8} {'status':>8} {'gap':>7} {'time s':>7}")
    hits, times = 0, []
    for k in ks:
        inst = read_cpmp(k)
        n = inst.distance.shape[0]
        t0 = time.perf_counter()
        r = place_sites(inst.distance, p=inst.p, capacity=np.full(n, inst.capacity), load=inst.demand,
                        time_limit=args.time_limit)
        sec = time.perf_counter() - t0
        times.append(sec)
        hits += r.objective == inst.optimum
        gap = "-" if r.gap is None else f"{100 * r.gap:.2f}%"
        print(f"{inst.name:12} {n:4d} {inst.p:3d} {inst.optimum:8d} {r.objective:8.0f} {r.status:>8} "
              f"{gap:>7} {sec:7.2f}", flush=True)
    print(f"published optimum reached: {hits}/{len(ks)}; median time {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s, total {sum(times):.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
