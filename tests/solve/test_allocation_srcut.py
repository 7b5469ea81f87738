"""The cut LP over a pattern pool (``_alloc_srcut``): bounds and plans against brute force and
an exact MIP, with every limit forced down so each branch runs on small instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_allocation_lagr import _check_against_brute_force, _search_instance
from test_allocation_lp import _brute

import gridgov.solve._alloc_lagr as lagr
import gridgov.solve._alloc_srcut as srcut
from gridgov.solve._alloc_lagr import LagrangianSearch
from gridgov.solve.common import Stopwatch


def _every_pattern(search: LagrangianSearch):
    """Every worker's fitting subsets of its pairs, empty included, as (items, starts, owners)."""
    items, starts, owners = [], [0], []
    for j in range(search.m):
        mine = np.flatnonzero(search.owner == j)
        for size in range(mine.size + 1):
            for subset in itertools.combinations(mine.tolist(), size):
                s = np.array(subset, dtype=np.int64)
                if search.weight[s].sum() <= search.cap[j] and np.unique(search.grid[s]).size == s.size:
                    items.extend(s.tolist())
                    starts.append(len(items))
                    owners.append(j)
    return np.array(items, dtype=np.int64), np.array(starts, dtype=np.int64), np.array(owners, dtype=np.int64)


@pytest.mark.parametrize("seed", range(20))
def test_best_in_pool_over_every_pattern_is_the_brute_force_optimum(seed: int, monkeypatch) -> None:
    rng, cost, load, cap, rows, cols, search = _search_instance(seed)
    best, plan = _brute(cost, load, np.floor(cap))
    items, starts, owners = _every_pattern(search)
    monkeypatch.setattr(srcut, "_EXACT_MIP", int(rng.integers(0, 20)))
    monkeypatch.setattr(srcut, "_HEURISTIC_PATTERNS", int(rng.integers(1, 10)))
    monkeypatch.setattr(srcut, "_START_PER_WORKER", int(rng.integers(1, 4)))
    monkeypatch.setattr(srcut, "_PRICE_BATCH", int(rng.integers(1, 5)))
    big = float(np.abs(search.cost).sum()) + 10.0
    status, found, bound = srcut.best_in_pool(items, starts, owners, search.grid, search.cost, search.n,
                                              search.m, big, big, search.tol, 10.0)
    if plan is None:
        assert status == "none" and found is None
        return
    assert bound <= best + 1e-6  # the cut LP bounds every plan of the pool
    assert status == "found"
    assert np.sort(search.grid[found]).tolist() == list(range(search.n))
    assert float(search.cost[found].sum()) == best
    # Below the optimum nothing is found, and the bound may say so on its own.
    status, found, bound = srcut.best_in_pool(items, starts, owners, search.grid, search.cost, search.n,
                                              search.m, best - 1, best - 1, search.tol, 10.0)
    assert status == "none" and found is None


def test_search_through_the_cut_path_against_brute_force(monkeypatch) -> None:
    """Every set partitioning through ``best_in_pool`` (pool of any size), with tiny heuristic
    and exact-MIP limits and the top-down gaps: the brute-force optimum and a true bound."""
    calls = {"n": 0}
    original = srcut.best_in_pool

    def counted(*args, **kwargs):
        calls["n"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(lagr, "best_in_pool", counted)
    for seed in range(30):
        rng, cost, load, cap, rows, cols, search = _search_instance(seed)
        monkeypatch.setattr(lagr, "_CUT_PATTERNS", 0)
        monkeypatch.setattr(lagr, "_QUICK_PATTERNS", int(rng.integers(1, 4)))
        monkeypatch.setattr(lagr, "_MAX_PATTERNS", int(rng.choice([5, 50, 250_000])))
        monkeypatch.setattr(srcut, "_EXACT_MIP", int(rng.integers(0, 10)))
        monkeypatch.setattr(srcut, "_HEURISTIC_PATTERNS", int(rng.integers(1, 5)))
        monkeypatch.setattr(srcut, "_ABOVE_TRIES", int(rng.integers(0, 3)))
        _check_against_brute_force(search, cost, load, cap, rows, cols, seed)
    assert calls["n"] > 0
