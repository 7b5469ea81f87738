"""The LP relaxation of rule "several" with one load per grid: its duals start the Lagrangian.

The LP relaxation (y_ij >= 0 the share of grid i given to worker j)::

    min sum c_ij y_ij   s.t.  sum_j y_ij = 1 (dual u_i, free),
                              sum_i load_i y_ij <= cap_j (dual v_j <= 0)

is a transportation problem. Its duals give, for the 0/1 variable x_ij, the reduced cost
``rc_ij = c_ij - u_i - load_i v_j >= 0``. For any plan x covering every grid,

    cost(x) = LB + sum rc_ij x_ij + sum_j (-v_j) (cap_j - load_j(x)) >= LB + sum rc_ij x_ij,

with ``LB = sum u_i + sum cap_j v_j``. So a pair with ``rc_ij > UB - LB`` (UB = an incumbent's
cost) belongs to no plan as good as the incumbent and is removed. To keep this exact under
floating-point duals, only v is taken from the LP solver (clipped to <= 0) and u is recomputed
as ``u_i = min_j (c_ij - load_i v_j)``, so every rc is >= 0 by construction and LB is a valid
Lagrangian bound for any v <= 0 (equal to the LP optimum at the LP's v).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LpDuals:
    """Duals and bound of the LP relaxation over the allowed pairs (rows, cols)."""

    u: np.ndarray  # (n,) per grid
    v: np.ndarray  # (m,) per worker, <= 0
    bound: float  # sum u + sum cap v (finite capacities), a lower bound on every plan
    reduced: np.ndarray  # per allowed pair, >= 0
    share: np.ndarray  # per allowed pair: the LP solution y_ij


@dataclass(frozen=True)
class LpOutcome:
    worker_of: np.ndarray
    optimal: bool
    bound: float | None  # in cost units (integer rounding already allowed for)
    notes: tuple[str, ...]
    algorithm: str


def solve_lp_relaxation(
    rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, load: np.ndarray, capacity: np.ndarray,
    n: int, m: int, *, seconds: float = math.inf,
) -> LpDuals | None:
    """HiGHS LP on the allowed pairs; None when the relaxation is infeasible or not solved
    within ``seconds`` (3,000 grids x 1,000 workers: 22 s with no limit)."""
    import highspy

    from gridgov.solve._highs import quiet_highs

    h = quiet_highs()
    if math.isfinite(seconds):
        h.setOptionValue("time_limit", max(0.05, float(seconds)))
    lp = compact_model(rows, cols, cost, load, capacity, n, m, integer=False)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    sol = h.getSolution()
    row_dual = np.asarray(sol.row_dual, dtype=float)
    v = np.minimum(row_dual[n:], 0.0)
    v[~np.isfinite(capacity)] = 0.0
    share = np.asarray(sol.col_value, dtype=float)
    return duals_from_v(rows, cols, cost, load, capacity, n, v, share)


def compact_model(
    rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, load: np.ndarray, capacity: np.ndarray,
    n: int, m: int, *, integer: bool,
) -> object:
    """The HiGHS model over the pairs (rows, cols): every grid once, each worker within capacity
    (infinite capacities unbounded); 0/1 variables when ``integer``, else shares >= 0."""
    import highspy

    k = int(rows.size)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = k, n + m
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.zeros(k)
    lp.col_upper_ = np.ones(k) if integer else np.full(k, highspy.kHighsInf)
    cap = np.where(np.isfinite(capacity), capacity, highspy.kHighsInf).astype(float)
    lp.row_lower_ = np.concatenate([np.ones(n), np.full(m, -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([np.ones(n), cap])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 2 * k + 1, 2, dtype=np.int32)
    lp.a_matrix_.index_ = np.column_stack([rows, n + cols]).ravel().astype(np.int32)
    lp.a_matrix_.value_ = np.column_stack([np.ones(k), load[rows]]).ravel().astype(float)
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * k
    return lp


def duals_from_v(
    rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, load: np.ndarray, capacity: np.ndarray,
    n: int, v: np.ndarray, share: np.ndarray,
) -> LpDuals:
    """u_i = min_j (c_ij - load_i v_j): every reduced cost >= 0 and a valid bound for v <= 0."""
    priced = cost - load[rows] * v[cols]
    u = np.full(n, np.inf)
    np.minimum.at(u, rows, priced)
    reduced = np.maximum(priced - u[rows], 0.0)
    finite = np.isfinite(capacity)
    bound = float(u.sum() + (capacity[finite] * v[finite]).sum())
    return LpDuals(u, v, bound, reduced, share)
