"""Column generation for rule "several": the Dantzig-Wolfe bound against the full master LP."""

from __future__ import annotations

import itertools
import math

import highspy
import numpy as np
import pytest
from test_allocation_lagr import _arrays
from test_allocation_lp import _brute, _instance

from gridgov.solve import _alloc_lagr_kernels as kern
from gridgov.solve._alloc_colgen import dantzig_wolfe
from gridgov.solve.common import Stopwatch


def _full_master(grid, owner, c, weight, cap, n, m) -> float | None:
    """The Dantzig-Wolfe bound by brute force: every fitting subset of every worker's pairs as a
    column of the master LP, solved once by HiGHS (None when infeasible)."""
    costs, rows = [], []
    for j in range(m):
        mine = np.flatnonzero(owner == j)
        for take in itertools.product([0, 1], repeat=mine.size):
            chosen = mine[np.array(take, dtype=bool)]
            if weight[chosen].sum() <= cap[j]:
                costs.append(float(c[chosen].sum()))
                rows.append(np.concatenate([grid[chosen], [n + j]]))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)  # HiGHS's thread pool is per process; the code under test uses 1
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(costs), n + m
    lp.col_cost_ = np.array(costs)
    lp.col_lower_ = np.zeros(len(costs))
    lp.col_upper_ = np.ones(len(costs))
    lp.row_lower_ = np.concatenate([np.ones(n), np.full(m, -highspy.kHighsInf)])
    lp.row_upper_ = np.ones(n + m)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum([r.size for r in rows])]).astype(np.int32)
    index = np.concatenate(rows).astype(np.int32)
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = np.ones(index.size)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return h.getInfo().objective_function_value


@pytest.mark.parametrize("seed", range(15))
def test_column_generation_reaches_the_full_master_bound(seed: int) -> None:
    rng = np.random.default_rng(900 + seed)
    cost, load, cap = _instance(rng, 7, 3, slack=rng.choice([1.05, 1.2, 1.6]))
    n, m = cost.shape
    grid, owner, c, weight, wptr, cap_i = _arrays(cost, load, np.floor(cap))
    exact = _full_master(grid, owner, c, weight, cap_i, n, m)
    best, _ = _brute(cost, load, np.floor(cap))
    out = dantzig_wolfe(c, grid, weight, wptr, np.arange(c.size), cap_i, np.zeros(n), None,
                        stop_at=np.inf, tol=1e-9, clock=Stopwatch(), seconds=10)
    taken = np.zeros(c.size, dtype=bool)
    # L(out.u) is what the search relies on: it must be a true Lagrangian value ...
    assert out.bound == pytest.approx(kern.price(out.u, c, grid, weight, wptr, cap_i, taken))
    if exact is None:  # no fractional plan: the artificial columns stay in and no bound is claimed beyond L
        assert out.bound <= out.master + 1e-6
        return
    # ... no higher than the Dantzig-Wolfe bound, and (costs being integers, where it may stop
    # once the bound's ceiling can rise no more) equal to it rounded up.
    assert out.bound <= exact + 1e-6
    assert math.ceil(out.bound - 1e-6) == math.ceil(exact - 1e-6)
    assert exact <= best + 1e-6
    # the master's shares form a fractional plan: each grid covered once in total
    assert np.bincount(grid, weights=out.share[: c.size], minlength=n) == pytest.approx(np.ones(n))


@pytest.mark.parametrize("seed", range(10))
def test_rounding_the_shares_keeps_capacities_and_never_worsens_a_whole_plan(seed: int) -> None:
    rng = np.random.default_rng(950 + seed)
    cost, load, cap = _instance(rng, 7, 3, slack=1.3)
    best, plan = _brute(cost, load, np.floor(cap))
    if plan is None:
        pytest.skip("this draw has no plan to round")  # the draw, not a missing service
    n, m = cost.shape
    grid, owner, c, weight, wptr, cap_i = _arrays(cost, load, np.floor(cap))
    gperm = np.argsort(grid, kind="stable").astype(np.int64)
    gptr = np.searchsorted(grid[gperm], np.arange(n + 1)).astype(np.int64)
    share = np.zeros(c.size)
    share[[np.flatnonzero((grid == i) & (owner == plan[i]))[0] for i in range(n)]] = 1.0
    chosen = kern.plan_from_shares(share, c, owner, grid, gptr, gperm, cap_i, load.astype(np.int64), 30)
    assert (chosen >= 0).all() and (grid[chosen] == np.arange(n)).all()
    assert (np.bincount(owner[chosen], weights=load, minlength=m) <= cap_i).all()
    assert c[chosen].sum() == pytest.approx(best)  # the optimum in, the optimum out


@pytest.mark.parametrize("seed", range(10))
def test_rounding_fractional_shares_keeps_every_grid_once_and_every_capacity(seed: int) -> None:
    rng = np.random.default_rng(970 + seed)
    cost, load, cap = _instance(rng, 8, 3, slack=rng.choice([1.05, 1.3]))
    n, m = cost.shape
    grid, owner, c, weight, wptr, cap_i = _arrays(cost, load, np.floor(cap))
    gperm = np.argsort(grid, kind="stable").astype(np.int64)
    gptr = np.searchsorted(grid[gperm], np.arange(n + 1)).astype(np.int64)
    share = rng.random(c.size) * (rng.random(c.size) < 0.6)
    chosen = kern.plan_from_shares(share, c, owner, grid, gptr, gperm, cap_i, load.astype(np.int64), 30)
    placed = chosen >= 0
    assert (grid[chosen[placed]] == np.flatnonzero(placed)).all()
    assert (np.bincount(owner[chosen[placed]], weights=load[placed], minlength=m) <= cap_i).all()
