"""MIP models for maximal covering (MCLP) and set covering (LSCP), with greedy fallbacks."""

from __future__ import annotations

import numpy as np

from gridgov.solve._sites_mip import MipModel, stack


def coverage_model(
    covers: np.ndarray, weight: np.ndarray, p: int, fixed: np.ndarray
) -> MipModel:
    """Maximal covering: maximise sum w_i c_i, c_i <= sum(y_j : j covers i), sum y = p.

    ``covers`` is the (n_demand, n_sites) boolean "within radius" matrix; c is continuous
    in [0, 1] since it is integral once y is.
    """
    n, m = covers.shape
    ii, jj = np.nonzero(covers)
    a = stack(
        [
            (np.arange(n), m + np.arange(n), np.ones(n)),
            (ii, jj, -np.ones(ii.size)),
            (np.full(m, n), np.arange(m), np.ones(m)),
        ],
        (n + 1, m + n),
    )
    lb = np.zeros(m + n)
    lb[fixed] = 1.0
    obj = np.concatenate([np.zeros(m), weight])
    row_lb = np.concatenate([np.full(n, -np.inf), [p]])
    row_ub = np.concatenate([np.zeros(n), [p]])
    return MipModel(a, row_lb, row_ub, lb, np.ones(m + n), obj, np.arange(m), maximize=True)


def cover_all_model(covers: np.ndarray, fixed: np.ndarray, p: int | None) -> MipModel:
    """Set covering: fewest sites with every (coverable) demand within radius; at most p if given."""
    n, m = covers.shape
    ii, jj = np.nonzero(covers)
    blocks = [(ii, jj, np.ones(ii.size))]
    row_lb, row_ub = [np.ones(n)], [np.full(n, np.inf)]
    if p is not None:
        blocks.append((np.full(m, n), np.arange(m), np.ones(m)))
        row_lb.append(np.array([0.0]))
        row_ub.append(np.array([float(p)]))
    a = stack(blocks, (n + (p is not None), m))
    lb = np.zeros(m)
    lb[fixed] = 1.0
    return MipModel(
        a, np.concatenate(row_lb), np.concatenate(row_ub), lb, np.ones(m), np.ones(m), np.arange(m)
    )


def greedy_coverage(covers: np.ndarray, weight: np.ndarray, p: int, fixed: np.ndarray) -> np.ndarray:
    """Fallback when the MIP finds nothing in time: add the site covering most new weight."""
    is_open = np.zeros(covers.shape[1], dtype=bool)
    is_open[fixed] = True
    while is_open.sum() < p:
        done = covers[:, is_open].any(axis=1)
        gain = (weight * ~done) @ covers
        gain = np.where(is_open, -1.0, gain)
        is_open[int(np.argmax(gain))] = True
    return np.flatnonzero(is_open)


def greedy_cover_all(covers: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Fallback set cover: add the site covering most uncovered demands until all are."""
    is_open = np.zeros(covers.shape[1], dtype=bool)
    is_open[fixed] = True
    while True:
        left = ~covers[:, is_open].any(axis=1)
        if not left.any():
            return np.flatnonzero(is_open)
        gain = left.astype(float) @ covers
        gain[is_open] = -1.0
        is_open[int(np.argmax(gain))] = True
