"""Rule "several" with per-grid loads: LP duals, reduced-cost fixing and the LP+CP-SAT path."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from alloc_invariants import assert_plan_valid
from scipy.optimize import linprog

from gridgov.solve import allocate
from gridgov.solve._alloc_lp import solve_lp_relaxation


def _instance(rng: np.random.Generator, n: int, m: int, slack: float = 1.3):
    cost = rng.integers(0, 50, (n, m)).astype(float)
    cost[rng.random((n, m)) < 0.2] = np.inf
    cost[np.arange(n), rng.integers(0, m, n)] = rng.integers(0, 50, n)  # one pair per grid
    load = rng.integers(1, 10, n).astype(float)
    cap = np.round(rng.uniform(0.8, 1.6, m) * slack * load.sum() / m)
    return cost, load, cap


def _brute(cost, load, cap):
    n, m = cost.shape
    best, plan = np.inf, None
    for w in itertools.product(range(m), repeat=n):
        w = np.array(w)
        c = cost[np.arange(n), w]
        if not np.isfinite(c).all():
            continue
        if (np.bincount(w, weights=load, minlength=m) > cap + 1e-9).any():
            continue
        if c.sum() < best:
            best, plan = float(c.sum()), w
    return best, plan


def _linprog(cost, load, cap):
    n, m = cost.shape
    rows, cols = np.nonzero(np.isfinite(cost))
    k = rows.size
    a_eq = np.zeros((n, k))
    a_eq[rows, np.arange(k)] = 1
    a_ub = np.zeros((m, k))
    a_ub[cols, np.arange(k)] = load[rows]
    return rows, cols, linprog(cost[rows, cols], A_ub=a_ub, b_ub=cap, A_eq=a_eq, b_eq=np.ones(n),
                               bounds=(0, None), method="highs")


@pytest.mark.parametrize("seed", range(12))
def test_duals_feasible_complementary_and_bound_equals_lp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cost, load, cap = _instance(rng, 7, 3)
    n, m = cost.shape
    rows, cols, ref = _linprog(cost, load, cap)
    d = solve_lp_relaxation(rows, cols, cost[rows, cols], load, cap, n, m)
    if ref.status != 0:
        assert d is None
        return
    assert d is not None
    assert d.bound == pytest.approx(ref.fun, rel=1e-7, abs=1e-7)
    assert (d.v <= 0).all()
    rc = cost[rows, cols] - d.u[rows] - load[rows] * d.v[cols]
    assert (rc >= -1e-9).all()  # dual feasible
    assert np.allclose(rc, d.reduced, atol=1e-9)
    # complementary slackness with the LP's primal: y > 0 only where rc = 0; v < 0 only on
    # a full worker
    assert (rc[d.share > 1e-7] <= 1e-6).all()
    used = np.bincount(cols, weights=load[rows] * d.share, minlength=m)
    assert (np.abs(d.v * (cap - used)) <= 1e-6 * max(1.0, ref.fun)).all()
    # scipy's capacity duals (<= 0 for a minimisation) give the same bound through u = min(...)
    ref_v = np.asarray(ref.ineqlin.marginals)
    priced = cost[rows, cols] - load[rows] * ref_v[cols]
    ref_u = np.full(n, np.inf)
    np.minimum.at(ref_u, rows, priced)
    assert ref_u.sum() + cap @ ref_v == pytest.approx(d.bound, rel=1e-7, abs=1e-7)


@pytest.mark.parametrize("seed", range(25))
def test_reduced_cost_fixing_keeps_the_brute_force_optimum(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    cost, load, cap = _instance(rng, 6, 3, slack=1.1)
    n, m = cost.shape
    best, plan = _brute(cost, load, cap)
    rows, cols = np.nonzero(np.isfinite(cost))
    d = solve_lp_relaxation(rows, cols, cost[rows, cols], load, cap, n, m)
    if plan is None:
        return
    assert d is not None and d.bound <= best + 1e-7
    # fixing with the optimum as incumbent (the tightest UB) removes none of its pairs
    lookup = {(int(i), int(j)): r for i, j, r in zip(rows, cols, d.reduced)}
    for i, j in enumerate(plan.tolist()):
        assert lookup[(i, j)] <= best - d.bound + 1e-7


@pytest.mark.parametrize("seed", range(30))
def test_allocate_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    cost, load, cap = _instance(rng, 6, 3, slack=rng.choice([1.05, 1.3, 2.0]))
    best, plan = _brute(cost, load, cap)
    res = allocate(cost, load=load, capacity=cap, rule="several", time_limit=10)
    assert_plan_valid(res, cost, load=load, capacity=cap)
    if plan is None:
        return  # no full cover: the general CP-SAT path decides coverage
    assert res.n_uncovered == 0
    assert res.status == "optimal"
    assert res.cost == best
    assert res.bound is not None and res.bound <= best + 1e-9


def test_lagrangian_path_used_only_in_its_case() -> None:
    rng = np.random.default_rng(5)
    cost, load, cap = _instance(rng, 8, 3, slack=1.5)
    assert allocate(cost, load=load, capacity=cap).algorithm == "lagrangian"
    per_pair = np.repeat(load[:, None], 3, axis=1)
    assert allocate(cost, load=per_pair, capacity=cap).algorithm == "lagrangian"
    per_pair[0, 1] += 1
    assert allocate(cost, load=per_pair, capacity=cap).algorithm == "cp-sat"
    assert not allocate(cost, load=np.ones(8), capacity=cap).algorithm == "lagrangian"
    assert allocate(cost, load=load, capacity=cap, balance=0.5).algorithm == "cp-sat"
    assert allocate(cost, load=load, capacity=cap,
                    adjacency=np.array([[0, 1]])).algorithm == "cp-sat"
    cur = np.zeros(8, dtype=np.int64)
    assert not allocate(cost, load=load, capacity=cap, current=cur).algorithm == "lagrangian"
    assert not allocate(cost, load=load, capacity=cap, rule="one").algorithm == "lagrangian"
