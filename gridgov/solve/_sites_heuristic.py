"""Fast p-median heuristics: greedy construction and best-improvement vertex substitution."""

from __future__ import annotations

import numpy as np


def penalised(distance: np.ndarray) -> np.ndarray:
    """A finite copy of ``distance``: unreachable pairs cost more than any all-finite solution.

    The heuristics need plain arithmetic; the penalty makes them avoid unreachable pairs
    whenever some open site can reach the demand.
    """
    finite = np.isfinite(distance)
    top = float(distance[finite].max()) if finite.any() else 1.0
    big = (abs(top) + 1.0) * (distance.shape[0] + 1) * 4.0
    return np.where(finite, distance, big)


def nearest_two(cost: np.ndarray, open_sites: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per demand: the position (in ``open_sites``) of the nearest open site, its cost, the second cost."""
    sub = cost[:, open_sites]
    if sub.shape[1] == 1:
        return np.zeros(sub.shape[0], dtype=np.int64), sub[:, 0].copy(), np.full(sub.shape[0], np.inf)
    two = np.argpartition(sub, 1, axis=1)[:, :2]
    rows = np.arange(sub.shape[0])
    a, b = sub[rows, two[:, 0]], sub[rows, two[:, 1]]
    first = np.where(a <= b, two[:, 0], two[:, 1])
    return first, np.minimum(a, b), np.maximum(a, b)


def greedy(cost: np.ndarray, weight: np.ndarray, p: int, fixed: np.ndarray) -> np.ndarray:
    """Add, one at a time, the site that lowers the weighted cost most, starting from ``fixed``."""
    is_open = np.zeros(cost.shape[1], dtype=bool)
    is_open[fixed] = True
    best = cost[:, fixed].min(axis=1) if fixed.size else np.full(cost.shape[0], np.inf)
    while is_open.sum() < p:
        total = (weight[:, None] * np.minimum(cost, best[:, None])).sum(axis=0)
        total[is_open] = np.inf
        j = int(np.argmin(total))
        is_open[j] = True
        best = np.minimum(best, cost[:, j])
    return np.flatnonzero(is_open)


def interchange(
    cost: np.ndarray,
    weight: np.ndarray,
    open_sites: np.ndarray,
    fixed: np.ndarray,
    *,
    max_rounds: int = 10_000,
) -> np.ndarray:
    """Teitz-Bart vertex substitution, best improvement, vectorised over every (in, out) pair.

    Swapping open ``r`` for closed ``j`` changes the cost by ``A[j] + B[r, j]`` with
    ``A[j] = sum_i w_i (min(d_ij, d1_i) - d1_i)`` (what adding ``j`` saves) and ``B[r, j]``
    the extra paid by the demands whose nearest site was ``r`` (they fall back to
    ``min(d_ij, d2_i)``). One round costs O(n_demand * n_sites).
    """
    open_sites = np.array(sorted(open_sites), dtype=np.int64)
    n_sites = cost.shape[1]
    movable = ~np.isin(open_sites, fixed)
    if not movable.any() or open_sites.size == n_sites:
        return open_sites
    for _ in range(max_rounds):
        pos, d1, d2 = nearest_two(cost, open_sites)
        with_j = np.minimum(cost, d1[:, None])
        gain = (weight[:, None] * (with_j - d1[:, None])).sum(axis=0)
        extra = weight[:, None] * (np.minimum(cost, d2[:, None]) - with_j)
        # Sum the extra by the nearest open site: one row per open site.
        loss = np.zeros((open_sites.size, n_sites))
        np.add.at(loss, pos, extra)
        delta = gain[None, :] + loss
        delta[:, open_sites] = np.inf
        delta[~movable, :] = np.inf
        r, j = np.unravel_index(int(np.argmin(delta)), delta.shape)
        scale = max(1.0, float(np.abs(weight * d1).sum()))
        if not delta[r, j] < -1e-9 * scale:
            break
        open_sites[r] = j
        order = np.argsort(open_sites)
        open_sites, movable = open_sites[order], movable[order]
    return open_sites


def pmedian_heuristic(
    cost: np.ndarray, weight: np.ndarray, p: int, fixed: np.ndarray
) -> np.ndarray:
    """Greedy then interchange: a good p-median solution in well under a second on 400 x 400."""
    return interchange(cost, weight, greedy(cost, weight, p, fixed), fixed)
