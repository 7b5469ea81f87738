"""Exact p-median: heuristic bound, Lagrangian reduction, then the radius (sorted-levels) MIP."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridgov.solve._sites_heuristic import interchange, penalised, pmedian_heuristic
from gridgov.solve._sites_mip import MipModel, solve_mip, stack
from gridgov.solve.common import ProgressCallback, Stopwatch


@dataclass(frozen=True)
class MedianOutcome:
    """Open sites (column indices), a lower bound, and whether the bound proves them optimal."""

    open_sites: np.ndarray | None
    bound: float | None
    proven: bool
    infeasible: bool
    stage: str


def _cost_of(cost: np.ndarray, weight: np.ndarray, open_sites: np.ndarray) -> float:
    return float((weight * cost[:, open_sites].min(axis=1)).sum())


def _lagrange(
    cost: np.ndarray, p: int, forced: np.ndarray, upper: float, *, stop_at: float, rounds: int = 3000
) -> tuple[float, np.ndarray]:
    """Subgradient ascent on the relaxed assignment rows; returns the best bound and its multipliers.

    The bound converges to the LP bound of the strong formulation in a fraction of the
    time an LP solver needs on these degenerate LPs.
    """
    n, m = cost.shape
    lam = np.sort(cost, axis=1)[:, min(1, m - 1)].astype(float)
    best, best_lam, step, stall = -np.inf, lam.copy(), 2.0, 0
    for _ in range(rounds):
        bound, chosen = _lagrange_value(cost, lam, p, forced)
        if not np.isfinite(best) or bound > best + 1e-9 * max(1.0, abs(best)):
            best, best_lam, stall = bound, lam.copy(), 0
        else:
            stall += 1
            if stall >= 30:
                step, stall = step / 2.0, 0
        if best >= stop_at or step < 1e-5:
            break
        served = ((cost - lam[:, None] < 0) & chosen[None, :]).sum(axis=1)
        grad = 1.0 - served
        norm = float((grad * grad).sum())
        if norm == 0.0:
            break
        lam = lam + step * max(upper - bound, 1e-9 * max(1.0, abs(upper))) / norm * grad
    return best, best_lam


def _lagrange_value(
    cost: np.ndarray, lam: np.ndarray, p: int, forced: np.ndarray
) -> tuple[float, np.ndarray]:
    rho = np.minimum(cost - lam[:, None], 0.0).sum(axis=0)
    chosen = np.zeros(cost.shape[1], dtype=bool)
    chosen[forced] = True
    free = np.flatnonzero(~chosen)
    need = p - forced.size
    if need > 0:
        chosen[free[np.argsort(rho[free], kind="stable")[:need]]] = True
    return float(lam.sum() + rho[chosen].sum()), chosen


def _reduce(
    cost: np.ndarray, lam: np.ndarray, p: int, forced: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Lagrangian reduced-cost fixing: sites that cannot be in (or out of) a solution below threshold.

    Returns boolean masks (closed, opened). Opening a site outside the Lagrangian choice
    costs at least ``rho_j - rho_last``; closing one inside costs ``rho_next - rho_j``.
    """
    m = cost.shape[1]
    rho = np.minimum(cost - lam[:, None], 0.0).sum(axis=0)
    base, chosen = _lagrange_value(cost, lam, p, forced)
    is_forced = np.zeros(m, dtype=bool)
    is_forced[forced] = True
    closed = np.zeros(m, dtype=bool)
    opened = np.zeros(m, dtype=bool)
    movable_in = chosen & ~is_forced
    outside = ~chosen
    if not movable_in.any() or not outside.any():
        return closed, opened
    last = rho[movable_in].max()
    nxt = rho[outside].min()
    closed[outside] = base + rho[outside] - last >= threshold
    opened[movable_in] = base - rho[movable_in] + nxt >= threshold
    return closed, opened


def radius_model(
    dist: np.ndarray, weight: np.ndarray, p: int, columns: np.ndarray, forced: np.ndarray
) -> MipModel:
    """The sorted-distance-levels formulation (Elloumi 2010; García, Labbé & Marín 2011).

    For demand i with distinct distances D_1 < D_2 < ... to the candidate ``columns``,
    z_k = 1 when no open site lies within D_k: ``z_k + sum(y_j : d_ij = D_k) >= z_{k-1}``
    (z_0 = 1), cost ``w_i (D_1 + sum_k (D_{k+1} - D_k) z_k)``. Only the y columns are
    integer. Levels stop at the nearest ``forced`` (always open) site. Telescoping the
    covering rows keeps one nonzero per demand-site pair.
    """
    d = dist[:, columns]
    n, m = d.shape
    is_forced = np.isin(columns, forced)
    order = np.argsort(d, axis=1, kind="stable")
    srt = np.take_along_axis(d, order, axis=1)
    new = np.ones_like(srt, dtype=bool)
    new[:, 1:] = srt[:, 1:] != srt[:, :-1]
    lev_sorted = np.cumsum(new, axis=1) - 1
    level = np.empty_like(lev_sorted)
    np.put_along_axis(level, order, lev_sorted, axis=1)
    never = m + 1  # a level index no demand reaches
    level = np.where(np.isfinite(d), level, never)
    # Levels per demand: up to the nearest forced site, else every finite one.
    n_finite = np.where(np.isfinite(srt), lev_sorted + 1, 0).max(axis=1)
    forced_level = np.where(is_forced[None, :], level, never).min(axis=1)
    n_lev = np.minimum(n_finite, forced_level + 1)
    off = np.concatenate([[0], np.cumsum(n_lev)])
    n_z = int(off[-1])
    zi = np.repeat(np.arange(n), n_lev)
    zk = np.arange(n_z) - off[zi]
    # Distinct values of every row, row after row; a demand's k-th level sits at first[i] + k.
    distinct = srt.ravel()[np.flatnonzero(new.ravel())]
    first = np.concatenate([[0], np.cumsum(new.sum(axis=1))])[:-1]
    lev_value = distinct[first[zi] + zk]
    has_next = zk + 1 < n_lev[zi]
    nxt_value = np.where(has_next, distinct[np.minimum(first[zi] + zk + 1, distinct.size - 1)], 0.0)
    ii, jj = np.nonzero(level < n_lev[:, None])
    zrow = np.arange(n_z)
    prev = zk > 0
    a = stack(
        [
            (off[ii] + level[ii, jj], jj, np.ones(ii.size)),
            (zrow, m + zrow, np.ones(n_z)),
            (zrow[prev], m + zrow[prev] - 1, -np.ones(int(prev.sum()))),
            (np.full(m, n_z), np.arange(m), np.ones(m)),
        ],
        (n_z + 1, m + n_z),
    )
    obj = np.concatenate([np.zeros(m), np.where(has_next, weight[zi] * (nxt_value - lev_value), 0.0)])
    lb = np.concatenate([is_forced.astype(float), np.zeros(n_z)])
    # The last level holds every reachable site: it must be covered (z = 0).
    ub = np.concatenate([np.ones(m), np.where(has_next, 1.0, 0.0)])
    row_lb = np.concatenate([np.where(zk == 0, 1.0, 0.0), [p]])
    row_ub = np.concatenate([np.full(n_z, np.inf), [p]])
    offset = float((weight * srt[:, 0]).sum())
    return MipModel(a, row_lb, row_ub, lb, ub, obj, np.arange(m), offset)


def solve_median(
    dist: np.ndarray,
    weight: np.ndarray,
    p: int,
    fixed: np.ndarray,
    *,
    time_limit: float,
    workers: int,
    progress: ProgressCallback | None,
    clock: Stopwatch,
    backend: str = "highs",
) -> MedianOutcome:
    """Prove a p-median optimum: heuristic, Lagrangian bound and fixing, reduced radius MIP."""
    pen = penalised(dist)
    cost = weight[:, None] * pen
    best = pmedian_heuristic(pen, weight, p, fixed)
    upper = _cost_of(pen, weight, best)
    _report(progress, "heuristic", upper, None)
    integral = bool(np.all(cost == np.round(cost)))
    # With integer data a better solution is at least 1 better: fix more sites.
    margin = 1.0 - 1e-6 if integral else 1e-9 * max(1.0, abs(upper))
    lower, lam = _lagrange(cost, p, fixed, upper, stop_at=upper - margin)
    _, chosen = _lagrange_value(cost, lam, p, fixed)
    candidate = interchange(pen, weight, np.flatnonzero(chosen), fixed)
    if _cost_of(pen, weight, candidate) < upper:
        best, upper = candidate, _cost_of(pen, weight, candidate)
    _report(progress, "lagrange", upper, lower)
    feasible = bool(np.isfinite(dist[:, best].min(axis=1)).all())
    if feasible and lower >= upper - margin:
        return MedianOutcome(best, max(lower, upper) if integral else lower, True, False, "lagrange")
    closed, opened = _reduce(cost, lam, p, fixed, upper - margin if feasible else np.inf)
    columns = np.flatnonzero(~closed)
    forced = np.union1d(fixed, np.flatnonzero(opened))
    model = radius_model(dist, weight, p, columns, forced)
    cutoff = upper - margin if feasible else None
    out = solve_mip(model, time_limit=clock.remaining(time_limit), cutoff=cutoff, workers=workers, backend=backend)
    return _combine(out, columns, best if feasible else None, upper, lower, dist, weight)


def _combine(out, columns, best, upper, lower, dist, weight) -> MedianOutcome:  # type: ignore[no-untyped-def]
    """The better of the reduced MIP's answer and the heuristic one, with a global bound.

    The closed sites only hold solutions no better than the heuristic's, so the global
    bound is min(heuristic value, reduced bound).
    """
    if out.infeasible:
        if best is None:
            return MedianOutcome(None, None, True, True, "mip")
        return MedianOutcome(best, upper, True, False, "mip")
    chosen = best
    if out.x is not None:
        mip_open = columns[out.x[: columns.size] > 0.5]
        if best is None or _cost_of(dist, weight, mip_open) < upper:
            chosen = mip_open
    bound = lower
    if out.bound is not None:
        reduced = min(out.bound, upper) if best is not None else out.bound
        bound = max(bound, reduced)
    proven = out.proven
    return MedianOutcome(chosen, bound, proven, False, "mip")


def _report(progress: ProgressCallback | None, stage: str, objective: float, bound: float | None) -> None:
    if progress is not None:
        progress("solution", {"stage": stage, "objective": objective, "bound": bound})
