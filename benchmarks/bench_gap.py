"""Benchmark 3: OR-Library GAP gap1-gap12 (60 instances) through allocate with per-pair loads."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from gridgov.solve import allocate

GAP_DIR = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "gap"


def read_instances(path: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(profit m x n, resource m x n, capacity m) per instance; one stream of integers."""
    nums = np.array(path.read_text().split(), dtype=np.int64)
    count, pos, out = int(nums[0]), 1, []
    for _ in range(count):
        m, n = int(nums[pos]), int(nums[pos + 1])
        pos += 2
        profit = nums[pos:pos + m * n].reshape(m, n)
        pos += m * n
        resource = nums[pos:pos + m * n].reshape(m, n)
        pos += m * n
        capacity = nums[pos:pos + m]
        pos += m
        out.append((profit, resource, capacity))
    return out


def published(path: Path) -> dict[str, int]:
    with path.open() as fh:
        return {row["instance"]: int(row["optimal"]) for row in csv.DictReader(fh)
                if row["sense"] == "max"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="gap1-gap3 only")
    parser.add_argument("--dir", type=Path, default=GAP_DIR)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1, help="CP-SAT num_workers")
    args = parser.parse_args()
    best = published(args.dir / "optimal.csv")
    files = range(1, 4) if args.quick else range(1, 13)
    print(f"{'instance':<9} {'m x n':>7} {'profit':>7} {'published':>9} {'ok':>3} {'status':>8} "
          f"{'seconds':>8}")
    hits, times = 0, []
    for g in files:
        for k, (profit, resource, capacity) in enumerate(
                read_instances(args.dir / f"gap{g}.txt"), start=1):
            # Maximise profit = minimise (max profit - profit): jobs are grids, agents workers.
            cost = (profit.max() - profit).T.astype(float)
            res = allocate(cost, load=resource.T.astype(float), capacity=capacity.astype(float),
                           rule="several", time_limit=args.time_limit, workers=args.workers)
            got = int(profit[np.asarray(res.worker_of), np.arange(profit.shape[1])].sum()) \
                if res.n_uncovered == 0 else -1
            name = f"gap{g}-{k}"
            ok = got == best[name]
            hits += ok
            times.append(res.wall_s)
            print(f"{name:<9} {profit.shape[0]:>3}x{profit.shape[1]:<3} {got:>7} {best[name]:>9} "
                  f"{'yes' if ok else 'NO':>3} {res.status:>8} {res.wall_s:>8.3f}")
    times_arr = np.array(times)
    print(f"\n{hits}/{len(times)} reach the published optimum; seconds per instance: "
          f"median {np.median(times_arr):.3f}, max {times_arr.max():.3f}, "
          f"total {times_arr.sum():.2f}; under 1 s: {(times_arr < 1).sum()}/{len(times)}")


if __name__ == "__main__":
    main()
