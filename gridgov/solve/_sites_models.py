"""MIP models for the capacitated p-median, maximal covering (MCLP) and set covering (LSCP)."""

from __future__ import annotations

import numpy as np

from gridgov.solve._sites_mip import MipModel, MipOutcome, solve_mip, stack


def capacitated_model(
    dist: np.ndarray,
    weight: np.ndarray,
    load: np.ndarray,
    capacity: np.ndarray,
    p: int,
    fixed: np.ndarray,
) -> tuple[MipModel, np.ndarray, np.ndarray]:
    """Single-sourcing capacitated p-median over the usable pairs (finite, load fits capacity).

    Columns: y (n_sites), then one x per usable pair. Rows: each demand once; load per
    site <= capacity * y; x_ij <= y_j (the strong linking rows that make the LP tight);
    sum y = p. Returns the model and the pairs (demand, site) of the x columns.
    """
    n, m = dist.shape
    usable = np.isfinite(dist) & (load[:, None] <= capacity[None, :] + 1e-9)
    ii, jj = np.nonzero(usable)
    k = ii.size
    xcol = m + np.arange(k)
    r_assign = n
    r_cap = r_assign + m
    r_link = r_cap + k
    a = stack(
        [
            (ii, xcol, np.ones(k)),  # sum_j x_ij = 1
            (r_assign + jj, xcol, load[ii]),  # sum_i load_i x_ij - cap_j y_j <= 0
            (r_assign + np.arange(m), np.arange(m), -capacity),
            (r_cap + np.arange(k), xcol, np.ones(k)),  # x_ij - y_j <= 0
            (r_cap + np.arange(k), jj, -np.ones(k)),
            (np.full(m, r_link), np.arange(m), np.ones(m)),  # sum y = p
        ],
        (r_link + 1, m + k),
    )
    row_lb = np.concatenate([np.ones(n), np.full(m + k, -np.inf), [p]])
    row_ub = np.concatenate([np.ones(n), np.zeros(m + k), [p]])
    lb = np.zeros(m + k)
    lb[fixed] = 1.0
    obj = np.concatenate([np.zeros(m), weight[ii] * dist[ii, jj]])
    return MipModel(a, row_lb, row_ub, lb, np.ones(m + k), obj, np.arange(m + k)), ii, jj


def solve_capacitated(
    dist: np.ndarray,
    weight: np.ndarray,
    load: np.ndarray,
    capacity: np.ndarray,
    p: int,
    fixed: np.ndarray,
    *,
    time_limit: float,
    workers: int,
) -> tuple[MipOutcome, np.ndarray | None, np.ndarray | None]:
    """Solve the capacitated model; returns the outcome, open sites and each demand's site."""
    model, ii, jj = capacitated_model(dist, weight, load, capacity, p, fixed)
    out = solve_mip(model, time_limit=time_limit, workers=workers)
    if out.x is None:
        return out, None, None
    m = dist.shape[1]
    open_sites = np.flatnonzero(out.x[:m] > 0.5)
    site_of = np.full(dist.shape[0], -1, dtype=np.int64)
    chosen = out.x[m:] > 0.5
    site_of[ii[chosen]] = jj[chosen]
    return out, open_sites, site_of


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
