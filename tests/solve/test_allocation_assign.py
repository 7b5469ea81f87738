"""The rule "one" assignment path: exact duals, pricing proofs, and the Euclidean oracle."""

from __future__ import annotations

import numpy as np
import pytest
from alloc_invariants import assert_plan_valid
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from gridgov.solve import allocate
from gridgov.solve._alloc_assign import assignment_duals, most_improving, solve_assignment
from gridgov.solve.allocation import EuclideanPairs, allocate_sparse


def _random_matching_problem(rng: np.random.Generator, n: int, m: int, density: float):
    """Integer candidates that surely hold a matching covering every grid."""
    cost = rng.integers(0, 50, (n, m))
    allowed = rng.random((n, m)) < density
    allowed[np.arange(n), rng.permutation(m)[:n]] = True
    rows, cols = np.nonzero(allowed)
    return cost, rows.astype(np.int64), cols.astype(np.int64)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(0, 4), st.floats(0.1, 1.0), st.integers(0, 2**31 - 1),
       st.booleans())
def test_duals_satisfy_complementary_slackness(n: int, extra: int, density: float,
                                               seed: int, use_jv: bool) -> None:
    rng = np.random.default_rng(seed)
    m = n + extra
    cost, rows, cols = _random_matching_problem(rng, n, m, density)
    out = solve_assignment(n, m, rows, cols, cost[rows, cols], price=None, max_rounds=1,
                           penalty=10**6, use_jv=use_jv)
    assert out is not None
    w = out.worker_of
    assert (w >= 0).all() and np.unique(w).size == n
    assert int(out.dual_bound) == out.objective
    u, v = assignment_duals(n, m, rows, cols, cost[rows, cols], w)
    reduced = cost[rows, cols] - u[rows] - v[cols]
    assert (reduced >= 0).all()  # dual feasible on every candidate
    assert (u + v[w] == cost[np.arange(n), w]).all()  # tight on used pairs
    assert (v <= 0).all()
    free = np.setdiff1d(np.arange(m), w)
    assert (v[free] == 0).all()  # complementary slackness on the worker side
    assert int(u.sum() + v.sum()) == out.objective == int(cost[np.arange(n), w].sum())
    # The sparse optimum equals the brute-force optimum restricted to the candidates.
    dense = np.where(np.isin(np.arange(n * m), rows * m + cols).reshape(n, m), cost, 10**6)
    r, c = linear_sum_assignment(dense)
    assert out.objective == int(dense[r, c].sum())


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(0, 5), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_sparse_proof_equals_dense_optimum_on_geographic_points(n: int, extra: int, k: int,
                                                                seed: int) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 10_000, (3, 2))
    grids = centres[rng.integers(0, 3, n)] + rng.normal(0, 800, (n, 2))
    homes = centres[rng.integers(0, 3, n + extra)] + rng.normal(0, 800, (n + extra, 2))
    pairs = EuclideanPairs(grids, homes, k=k)
    res = allocate_sparse(pairs.candidates, rule="one", price=pairs, cost_ceiling=pairs.ceiling)
    dense = np.linalg.norm(grids[:, None] - homes[None], axis=2)
    r, c = linear_sum_assignment(dense)
    assert res.status == "optimal"
    assert (res.worker_of >= 0).all()
    assert abs(res.cost - dense[r, c].sum()) <= 1e-6 * max(1.0, dense[r, c].sum())
    assert res.bound is not None and res.bound <= dense[r, c].sum() + 1e-6
    assert_plan_valid(res, dense, rule="one")


def test_integer_costs_give_an_exact_bound_and_use_the_assignment_solver() -> None:
    rng = np.random.default_rng(3)
    cost = rng.integers(0, 100, (30, 30)).astype(float)
    res = allocate(cost, rule="one")
    r, c = linear_sum_assignment(cost)
    assert res.cost == cost[r, c].sum() and res.bound == res.cost
    assert res.algorithm.startswith(("sparse_jv", "linear_sum_assignment"))
    more = allocate(cost[:, :20], rule="one")  # more grids than workers: the flow path
    assert more.algorithm.startswith("min_cost_flow")
    assert more.n_uncovered == 10


def test_sparse_candidates_without_a_covering_matching_are_completed_by_the_oracle() -> None:
    # Grids 0 and 1 both only know worker 0; the oracle knows worker 1 too.
    dense = np.array([[1.0, 5.0], [2.0, 9.0]])
    from scipy.sparse import csr_matrix

    cand = csr_matrix((np.array([1.0, 2.0]), (np.array([0, 1]), np.array([0, 0]))), shape=(2, 2))

    def price(u: np.ndarray, v: np.ndarray):
        red = dense - u[:, None] - v[None, :]
        r, c = np.nonzero(red < 0)
        return r, c, dense[r, c]

    res = allocate_sparse(cand, rule="one", price=price, cost_ceiling=9.0)
    assert res.status == "optimal" and res.cost == 7.0 and res.bound == 7.0
    assert res.algorithm.startswith(("sparse_jv", "linear_sum_assignment"))


def test_most_improving_keeps_the_best_per_grid_and_per_worker() -> None:
    rows = np.array([0, 0, 0, 1, 1])
    cols = np.array([0, 1, 2, 2, 3])
    reduced = np.array([-1.0, -3.0, -2.0, -9.0, -1.0])
    keep = most_improving(rows, cols, reduced, 1)
    # Grid 0's best is col 1; grid 1's best is col 2; each worker's best too (cols 0, 3).
    assert keep.tolist() == [True, True, False, True, True]


@pytest.mark.parametrize("k", [1, 3])
def test_euclidean_oracle_finds_every_improving_grid(k: int) -> None:
    rng = np.random.default_rng(11)
    grids, homes = rng.uniform(0, 1000, (25, 2)), rng.uniform(0, 1000, (30, 2))
    pairs = EuclideanPairs(grids, homes, k=k, per_grid=2)
    dense = np.linalg.norm(grids[:, None] - homes[None], axis=2)
    u = rng.uniform(0, 300, 25)
    v = -rng.uniform(0, 100, 30)
    r, c, d = pairs(u, v)
    assert np.allclose(d, dense[r, c])
    assert (dense[r, c] - u[r] - v[c] < 0).all()
    improving_grids = np.flatnonzero((dense - u[:, None] - v[None] < 0).any(axis=1))
    if r.size == 0:
        assert improving_grids.size == 0
    assert np.bincount(r, minlength=25).max(initial=0) <= 2
