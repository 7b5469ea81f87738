"""Checks every allocation must pass, shared by the hand-drawn and the property tests."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridgov.solve import AllocationResult


def territories_connected(worker_of: np.ndarray, edges: np.ndarray) -> bool:
    """True when every worker's grids form one connected piece of the grid graph."""
    for w in np.unique(worker_of[worker_of >= 0]).tolist():
        mine = np.flatnonzero(worker_of == w)
        if mine.size <= 1:
            continue
        inside = np.zeros(worker_of.size, dtype=bool)
        inside[mine] = True
        keep = inside[edges[:, 0]] & inside[edges[:, 1]] if len(edges) else np.zeros(0, bool)
        graph = coo_matrix(
            (np.ones(int(keep.sum())), (edges[keep, 0], edges[keep, 1])),
            shape=(worker_of.size, worker_of.size),
        )
        _, label = connected_components(graph, directed=False)
        if np.unique(label[mine]).size != 1:
            return False
    return True


def assert_plan_valid(
    result: AllocationResult,
    cost: np.ndarray,
    *,
    rule: str = "several",
    load: np.ndarray | None = None,
    capacity: np.ndarray | None = None,
    edges: np.ndarray | None = None,
    locked: list[tuple[int, int]] = (),
    current: np.ndarray | None = None,
) -> None:
    """Constraints, the true cost, the bound, the moves and a reason per uncovered grid."""
    n, m = cost.shape
    w = np.asarray(result.worker_of)
    assert w.shape == (n,)
    assert ((w >= -1) & (w < m)).all()
    covered = np.flatnonzero(w >= 0)
    assert np.isfinite(cost[covered, w[covered]]).all(), "a pair with inf cost was used"
    assert result.cost == np.float64(cost[covered, w[covered]].sum())
    if result.bound is not None:
        assert result.bound <= result.cost + 1e-9 * max(1.0, abs(result.cost))
    pair_load = np.ones((n, m)) if load is None else np.asarray(load, dtype=float)
    if pair_load.ndim == 1:
        pair_load = np.repeat(pair_load[:, None], m, axis=1)
    used = np.bincount(w[covered], weights=pair_load[covered, w[covered]], minlength=m)
    if rule == "one":
        assert np.bincount(w[covered], minlength=m).max(initial=0) <= 1
    if capacity is not None:
        assert (used <= np.asarray(capacity) + 1e-9).all(), (used, capacity)
    if edges is not None and rule == "several":
        assert territories_connected(w, np.asarray(edges).reshape(-1, 2))
    for g, wk in locked:
        assert w[g] == wk, f"lock ({g}, {wk}) not kept"
    if current is not None:
        had = current >= 0
        assert result.moves == int((w[had] != current[had]).sum())
    assert sorted(u.grid for u in result.uncovered) == np.flatnonzero(w < 0).tolist()
    for u in result.uncovered:
        assert u.reason and u.reason_en and u.code
    assert result.status in ("optimal", "feasible", "unknown", "infeasible")
    assert result.wall_s >= 0
