"""Maximal covering (MCLP): gridgov place_sites vs PySAL spopt MCLP (PuLP + CBC) on one matrix."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def synthetic_city(n_demand: int, n_sites: int, *, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """A clustered city: demand grids around a few centres, weights = dispute counts, metres."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 20_000, size=(8, 2))
    which = rng.integers(0, len(centres), size=n_demand)
    demand_xy = centres[which] + rng.normal(0, 1_500, size=(n_demand, 2))
    site_xy = demand_xy[rng.choice(n_demand, size=n_sites, replace=False)]
    distance = np.sqrt(((demand_xy[:, None, :] - site_xy[None, :, :]) ** 2).sum(axis=2))
    weight = rng.poisson(6, size=n_demand).astype(float) + 1.0
    return distance, weight


def demo_city(*, seed: int = 2026, scale: float = 1.0, grid_candidates: bool = False) -> tuple[np.ndarray, np.ndarray, str]:
    """The Jiaozuo demo: demand = grids weighted by dispute counts, candidates = the sites layer.

    Distances are straight-line metres between representative points (``anchor_points_m``);
    with ``grid_candidates`` every grid's representative point is a candidate as well.
    """
    from gridgov.demo import generate_demo
    from gridgov.geo.hotspots import count_incidents
    from gridgov.geo.measure import anchor_points_m, distance_matrix_m

    demo = generate_demo(seed=seed, scale=scale)
    weight = count_incidents(demo.incidents, demo.grids).counts.sum(axis=1).astype(float)
    demand_xy = anchor_points_m(demo.grids)
    site_xy = anchor_points_m(demo.sites)
    what = f"{len(demo.sites)} sites-layer candidates"
    if grid_candidates:
        site_xy = np.vstack([site_xy, demand_xy])
        what += f" + {len(demand_xy)} grid points"
    distance = distance_matrix_m(demand_xy, site_xy)
    label = f"Jiaozuo demo (seed {seed}, scale {scale:g}): {len(demand_xy)} grids weighted by disputes x {what}"
    return distance, weight, label


def load_matrix(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """An .npz with ``distance`` (n_demand, n_sites) and optionally ``weight`` (n_demand,)."""
    data = np.load(path)
    distance = np.asarray(data["distance"], dtype=float)
    weight = np.asarray(data["weight"], dtype=float) if "weight" in data else np.ones(distance.shape[0])
    return distance, weight


def run_spopt(distance: np.ndarray, weight: np.ndarray, radius: float, p: int, limit: float) -> tuple[float | None, str, float]:
    """spopt's MCLP on the same matrix, CBC on one thread: (covered weight, status, seconds)."""
    import pulp
    from spopt.locate import MCLP

    t0 = time.perf_counter()
    # spopt takes no inf; anything beyond the radius is simply "not covered".
    finite = np.where(np.isfinite(distance), distance, radius * 10 + 1)
    model = MCLP.from_cost_matrix(finite, weight, service_radius=radius, p_facilities=p)
    try:
        model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, threads=1), results=False)
    except RuntimeError:
        return None, "no solution", time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    status = "optimal" if model.problem.sol_status == pulp.LpSolutionOptimal else "time limit"
    return float(pulp.value(model.problem.objective)), status, seconds


def main(argv: list[str] | None = None) -> int:
    from gridgov.solve import place_sites

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--matrix", type=Path, help=".npz with distance (and weight)")
    ap.add_argument("--demo", action="store_true", help="the Jiaozuo demo city (generate_demo(seed=2026, scale=1.0))")
    ap.add_argument("--grid-candidates", action="store_true", help="with --demo: grid points are candidates too")
    ap.add_argument("--save-matrix", type=Path, help="write the matrix used to this .npz (for --matrix)")
    ap.add_argument("--quick", action="store_true", help="a small synthetic city")
    ap.add_argument("--radius", type=float, nargs="+", default=[2_000.0], help="coverage radii, same unit as distance")
    ap.add_argument("--p", type=int, nargs="+", default=[5, 10, 20], help="site counts to try")
    ap.add_argument("--no-peer", action="store_true", help="skip spopt")
    ap.add_argument("--time-limit", type=float, default=120.0, help="limit per solve, both solvers (s)")
    args = ap.parse_args(argv)
    if args.matrix:
        distance, weight = load_matrix(args.matrix)
        source = str(args.matrix)
    elif args.demo:
        distance, weight, source = demo_city(grid_candidates=args.grid_candidates)
    else:
        n, m = (300, 150) if args.quick else (1200, 600)
        distance, weight = synthetic_city(n, m)
        source = f"synthetic clustered city, {n} demand grids x {m} sites (seed 7)"
    if args.save_matrix:
        np.savez_compressed(args.save_matrix, distance=distance, weight=weight)
    print(f"MCLP on {source}; total weight {weight.sum():.0f}; "
          f"1 worker / 1 CBC thread, limit {args.time_limit:g} s; times include model building")
    head = f"{'radius':>7} {'p':>4} {'gridgov':>10} {'status':>8} {'time s':>7}"
    if not args.no_peer:
        head += f" | {'spopt':>10} {'status':>10} {'time s':>7} {'ratio':>7}"
    print(head)
    for radius in args.radius:
        for p in args.p:
            t0 = time.perf_counter()
            r = place_sites(distance, weight=weight, p=p, model="coverage", radius=radius, time_limit=args.time_limit)
            sec = time.perf_counter() - t0
            line = f"{radius:7g} {p:4d} {r.objective:10.1f} {r.status:>8} {sec:7.2f}"
            if not args.no_peer:
                value, status, peer = run_spopt(distance, weight, radius, p, args.time_limit)
                shown = "-" if value is None else f"{value:.1f}"
                line += f" | {shown:>10} {status:>10} {peer:7.2f} {peer / sec:6.1f}x"
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
