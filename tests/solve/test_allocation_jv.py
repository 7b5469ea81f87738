"""The compiled sparse Jonker-Volgenant path of rule "one": exact duals at every step, warm
starts across rounds of added candidates, rectangular problems, and the compiled oracle."""

from __future__ import annotations

import numpy as np
import pytest
from alloc_invariants import assert_plan_valid
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

pytest.importorskip("numba")

from gridgov.solve._alloc_jv import SparseJV  # noqa: E402
from gridgov.solve.allocation import EuclideanPairs, allocate_sparse  # noqa: E402


def _check_duals(jv: SparseJV, n: int, m: int, rows, cols, cost) -> None:
    """Dual feasibility on every candidate, tight on used pairs, v <= 0 and 0 on free
    workers, and the dual objective equal to the plan's cost."""
    u, v = jv.duals()
    w = jv.x_row
    assert (w >= 0).all() and np.unique(w).size == n
    assert (cost - u[rows] - v[cols] >= 0).all()
    used = dict(zip(zip(rows.tolist(), cols.tolist()), cost.tolist(), strict=True))
    assert all(u[i] + v[w[i]] == used[(i, int(w[i]))] for i in range(n))
    assert (v <= 0).all()
    assert (v[np.setdiff1d(np.arange(m), w)] == 0).all()
    assert int(u.sum() + v.sum()) == jv.objective


def _brute(n: int, m: int, rows, cols, cost) -> int:
    dense = np.full((n, m), 10**9, dtype=np.int64)
    dense[rows, cols] = cost
    r, c = linear_sum_assignment(dense)
    return int(dense[r, c].sum())


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 9), st.integers(0, 6), st.floats(0.1, 1.0), st.integers(1, 4),
       st.integers(0, 2**31 - 1))
def test_warm_started_rounds_keep_exact_duals_and_reach_the_optimum(
        n: int, extra: int, density: float, n_rounds: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = n + extra
    dense = rng.integers(0, 60, (n, m))
    allowed = rng.random((n, m)) < density
    allowed[np.arange(n), rng.permutation(m)[:n]] = True
    rows, cols = (a.astype(np.int64) for a in np.nonzero(allowed))
    # Rounds over growing subsets of the candidates; the last has them all.
    order = rng.permutation(rows.size)
    jv = SparseJV(n, m)
    for k in range(1, n_rounds + 1):
        take = np.sort(order[: max(1, rows.size * k // n_rounds)])
        r, c = rows[take], cols[take]
        free = jv.solve(r, c, dense[r, c])
        graph = csr_matrix((np.ones(r.size), (r, c)), shape=(n, m))
        size = int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())
        assert n - free == size  # the matched rows form a maximum matching
        if free == 0:
            _check_duals(jv, n, m, r, c, dense[r, c])
            assert jv.objective == _brute(n, m, r, c, dense[r, c])
    assert jv.solve(rows, cols, dense[rows, cols]) == 0
    _check_duals(jv, n, m, rows, cols, dense[rows, cols])
    assert jv.objective == _brute(n, m, rows, cols, dense[rows, cols])


def test_rows_without_any_augmenting_path_stay_free_and_prices_stay_feasible() -> None:
    # Grids 0 and 1 only know worker 0; grid 2 knows workers 1 and 2.
    rows = np.array([0, 1, 2, 2])
    cols = np.array([0, 0, 1, 2])
    cost = np.array([3, 1, 5, 4])
    jv = SparseJV(3, 4)
    assert jv.solve(rows, cols, cost) == 1
    assert jv.x_row[2] == 2
    free_rows, free_cols = jv.free_block()
    assert free_rows.sum() == 1 and free_cols.tolist() == [False, True, False, True]
    # Add the missing pairs: the warm start finishes the plan.
    rows2, cols2, cost2 = np.r_[rows, 0, 1], np.r_[cols, 3, 3], np.r_[cost, 7, 2]
    assert jv.solve(rows2, cols2, cost2) == 0
    _check_duals(jv, 3, 4, rows2, cols2, cost2)
    assert jv.objective == _brute(3, 4, rows2, cols2, cost2) == 3 + 2 + 4


@pytest.mark.parametrize(("n", "extra", "seed"), [(300, 0, 1), (250, 40, 2), (400, 3, 3)])
def test_geographic_rounds_reach_scipys_optimum(n: int, extra: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 20_000, (6, 2))
    grids = centres[rng.integers(0, 6, n)] + rng.normal(0, 1500, (n, 2))
    homes = centres[rng.integers(0, 6, n + extra)] + rng.normal(0, 1500, (n + extra, 2))
    pairs = EuclideanPairs(grids, homes, k=4)
    res = allocate_sparse(pairs.candidates, rule="one", price=pairs, cost_ceiling=pairs.ceiling)
    dense = np.linalg.norm(grids[:, None] - homes[None], axis=2)
    r, c = linear_sum_assignment(dense)
    assert res.algorithm.startswith("sparse_jv")
    assert res.status == "optimal"
    assert abs(res.cost - dense[r, c].sum()) <= 1e-6 * dense[r, c].sum()
    assert res.bound is not None and res.bound <= dense[r, c].sum() + 1e-6
    assert_plan_valid(res, dense, rule="one")


@pytest.mark.parametrize("per_grid", [1, 3])
def test_compiled_oracle_returns_each_grids_most_improving_pairs(per_grid: int) -> None:
    rng = np.random.default_rng(5)
    grids, homes = rng.uniform(0, 5000, (60, 2)), rng.uniform(0, 5000, (70, 2))
    pairs = EuclideanPairs(grids, homes, k=2, per_grid=per_grid)
    dense = np.linalg.norm(grids[:, None] - homes[None], axis=2)
    u = rng.uniform(0, 1500, 60)
    v = -rng.uniform(0, 500, 70)
    r, c, d = pairs(u, v)
    assert np.allclose(d, dense[r, c])
    red = dense - u[:, None] - v[None]
    # Only grids the k-th-neighbour radius cannot clear are checked (the others' improving
    # pairs are all candidates already).
    checked = u + v.max() > pairs.radius
    want = np.flatnonzero(checked & (red < 0).any(axis=1))
    assert np.array_equal(np.unique(r), want)
    for i in want:
        got = np.sort(red[i, c[r == i]])
        best = np.sort(red[i][red[i] < 0])[:per_grid]
        assert np.allclose(got, best)


def test_without_numba_the_numpy_paths_reach_the_same_optimum(monkeypatch) -> None:
    from gridgov.solve import _alloc_jv

    rng = np.random.default_rng(8)
    grids, homes = rng.uniform(0, 8000, (120, 2)), rng.uniform(0, 8000, (130, 2))
    dense = np.linalg.norm(grids[:, None] - homes[None], axis=2)
    r, c = linear_sum_assignment(dense)
    results = []
    for compiled in (True, False):
        monkeypatch.setattr(_alloc_jv, "available", lambda c=compiled: c)
        pairs = EuclideanPairs(grids, homes, k=3)
        results.append(allocate_sparse(pairs.candidates, rule="one", price=pairs,
                                       cost_ceiling=pairs.ceiling))
    assert results[0].algorithm.startswith("sparse_jv")
    assert results[1].algorithm.startswith("linear_sum_assignment")
    for res in results:
        assert res.status == "optimal"
        assert abs(res.cost - dense[r, c].sum()) <= 1e-6 * dense[r, c].sum()
