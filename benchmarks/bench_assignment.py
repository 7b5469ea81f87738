"""Benchmark 1: rule "one" on geographic instances against scipy's linear_sum_assignment."""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from gridgov.solve import allocate
from gridgov.solve.allocation import EuclideanPairs, allocate_sparse

CITY_M = 40_000.0  # a 40 x 40 km city
CLUSTERS = 30  # neighbourhoods; grids and people both follow them
K_NEAREST = 8  # candidate workers per grid and candidate grids per worker
V_BUCKETS = 16  # worker groups by dual value, for tight pricing balls


def city_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Grid centres and worker homes scattered around the same weighted neighbourhoods."""
    centres = rng.uniform(0.1 * CITY_M, 0.9 * CITY_M, (CLUSTERS, 2))
    spread = rng.uniform(800.0, 3000.0, CLUSTERS)
    weight = rng.dirichlet(np.full(CLUSTERS, 2.0))

    def draw() -> np.ndarray:
        k = rng.choice(CLUSTERS, size=n, p=weight)
        pts = centres[k] + rng.normal(0.0, 1.0, (n, 2)) * spread[k, None]
        return np.clip(pts, 0.0, CITY_M)

    return draw(), draw()


def knn_candidates(grids: np.ndarray, workers: np.ndarray, k: int) -> csr_matrix:
    """The k nearest workers of each grid and the k nearest grids of each worker."""
    n = grids.shape[0]
    d1, j1 = cKDTree(workers).query(grids, k=k)
    d2, i2 = cKDTree(grids).query(workers, k=k)
    rows = np.concatenate([np.repeat(np.arange(n), k), i2.ravel()])
    cols = np.concatenate([j1.ravel(), np.repeat(np.arange(workers.shape[0]), k)])
    dist = np.concatenate([d1.ravel(), d2.ravel()])
    key, first = np.unique(rows * workers.shape[0] + cols, return_index=True)
    return csr_matrix((dist[first], (rows[first], cols[first])), shape=(n, workers.shape[0]))


def kdtree_pricing(grids: np.ndarray, workers: np.ndarray) -> Callable[..., tuple]:
    """Pairs with distance < u_i + v_j, found by ball queries per bucket of workers' v.

    A pair can only improve when dist(i, j) < u_i + v_j <= u_i + max v over j's bucket, so
    each bucket answers one ball query per grid with that radius: no dense matrix, ever.
    """

    def price(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = np.argsort(v)
        rows_out, cols_out = [], []
        for bucket in np.array_split(order, V_BUCKETS):
            if bucket.size == 0:
                continue
            radius = u + v[bucket].max()
            active = np.flatnonzero(radius > 0)
            if active.size == 0:
                continue
            tree = cKDTree(workers[bucket])
            hits = tree.query_ball_point(grids[active], radius[active])
            sizes = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
            if sizes.sum() == 0:
                continue
            r = np.repeat(active, sizes)
            c = bucket[np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])]
            d = np.linalg.norm(grids[r] - workers[c], axis=1)
            keep = d - u[r] - v[c] < 0
            rows_out.append(r[keep])
            cols_out.append(c[keep])
        if not rows_out:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        rows, cols = np.concatenate(rows_out), np.concatenate(cols_out)
        return rows, cols, np.linalg.norm(grids[rows] - workers[cols], axis=1)

    return price


def run_sparse(grids: np.ndarray, workers: np.ndarray) -> tuple[float, float, object]:
    """Candidates, pricing oracle and solve, all timed: EuclideanPairs (k nearest both ways;
    exact pricing of the grids its k-th-neighbour radius cannot clear)."""
    t0 = time.perf_counter()
    pairs = EuclideanPairs(grids, workers, k=K_NEAREST)
    res = allocate_sparse(pairs.candidates, rule="one", price=pairs, cost_ceiling=pairs.ceiling)
    return time.perf_counter() - t0, res.cost, res


def run_scipy(grids: np.ndarray, workers: np.ndarray) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    dense = np.linalg.norm(grids[:, None, :] - workers[None, :, :], axis=2)
    t1 = time.perf_counter()
    r, c = linear_sum_assignment(dense)
    t2 = time.perf_counter()
    total = float(dense[r, c].sum())
    del dense
    gc.collect()
    return t1 - t0, t2 - t1, total


def run_dense_allocate(grids: np.ndarray, workers: np.ndarray) -> tuple[float, float, object]:
    dense = np.linalg.norm(grids[:, None, :] - workers[None, :, :], axis=2)
    t0 = time.perf_counter()
    res = allocate(dense, rule="one")
    return time.perf_counter() - t0, res.cost, res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--quick", action="store_true", help="n = 500 and 2000 only")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--scipy-max", type=int, default=10000,
                        help="largest n for scipy's dense solve (8 n^2 bytes of memory)")
    args = parser.parse_args()
    sizes = [500, 2000] if args.quick else args.sizes
    # The compiled path imports numba and loads its cached kernels (compiles them on the very
    # first run) on its first call in a process: timed here, apart from the figures below.
    rng = np.random.default_rng(args.seed)
    t_first, _, res = run_sparse(*city_points(50, rng))
    print(f"first call in this process (n = 50; numba import + kernel load/compile when "
          f"{res.algorithm.split('+')[0]} is used): {t_first:.3f} s, not counted below")
    print(f"{'n':>6} {'method':<34} {'seconds':>9} {'cost (m)':>16} {'status':>9} {'gap':>9}")
    for n in sizes:
        rng = np.random.default_rng(args.seed + n)
        grids, workers = city_points(n, rng)
        t_ours, cost_ours, res = run_sparse(grids, workers)
        print(f"{n:>6} {'allocate_sparse (kNN + pricing)':<34} {t_ours:>9.3f} {cost_ours:>16.3f} "
              f"{res.status:>9} {res.gap:>9.1e}   [{res.algorithm}, {res.notes[0].split('/ ')[-1]}]")
        if n <= 4000:
            t_dense, cost_dense, res_d = run_dense_allocate(grids, workers)
            print(f"{n:>6} {'allocate (dense matrix given)':<34} {t_dense:>9.3f} "
                  f"{cost_dense:>16.3f} {res_d.status:>9} {res_d.gap:>9.1e}")
        if n > args.scipy_max:
            print(f"{n:>6} scipy skipped (--scipy-max {args.scipy_max})")
            continue
        t_build, t_lsa, cost_lsa = run_scipy(grids, workers)
        print(f"{n:>6} {'scipy linear_sum_assignment':<34} {t_lsa:>9.3f} {cost_lsa:>16.3f} "
              f"{'optimal':>9}   (+{t_build:.3f} s to build the {8 * n * n / 1e6:.0f} MB matrix)")
        rel = abs(cost_ours - cost_lsa) / cost_lsa
        assert rel <= 1e-6, f"optimum differs from scipy by {rel:.2e}"
        print(f"{n:>6} same optimum (rel. diff {rel:.1e}); scipy solve / ours = "
              f"{t_lsa / t_ours:.1f}x, scipy build+solve / ours = {(t_build + t_lsa) / t_ours:.1f}x")


if __name__ == "__main__":
    main()
