"""Rule "several" with one load per grid (the same for every worker) and capacities, no side
constraints: LP relaxation, reduced-cost fixing, then CP-SAT on the pairs that are left.

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
from ortools.sat.python import cp_model

from gridgov.solve.common import IntegerScale, ProgressCallback, Stopwatch


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
    n: int, m: int,
) -> LpDuals | None:
    """HiGHS LP on the allowed pairs; None when the relaxation is infeasible."""
    import highspy

    k = int(rows.size)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = k, n + m
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.zeros(k)
    lp.col_upper_ = np.full(k, highspy.kHighsInf)
    cap = np.where(np.isfinite(capacity), capacity, highspy.kHighsInf)
    lp.row_lower_ = np.concatenate([np.ones(n), np.full(m, -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([np.ones(n), cap])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 2 * k + 1, 2, dtype=np.int32)
    lp.a_matrix_.index_ = np.column_stack([rows, n + cols]).ravel().astype(np.int32)
    lp.a_matrix_.value_ = np.column_stack([np.ones(k), load[rows]]).ravel().astype(float)
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


def solve_several_lp(
    cost: np.ndarray,
    allowed: np.ndarray,
    load: np.ndarray,
    capacity: np.ndarray,
    *,
    scale: IntegerScale,
    load_scale: float,
    time_limit: float,
    workers: int,
    progress: ProgressCallback | None,
) -> LpOutcome | None:
    """None when the LP is infeasible or no plan covering every grid is found by rounding:
    the caller then takes the general CP-SAT path (which handles partial coverage)."""
    clock = Stopwatch()
    n, m = cost.shape
    rows, cols = np.nonzero(allowed)
    c = cost[rows, cols]
    duals = solve_lp_relaxation(rows, cols, c, load, capacity, n, m)
    if duals is None:
        return None
    load_int = np.ceil(load * load_scale - 1e-9).astype(np.int64)
    top = int(load_int.sum()) + 1
    cap_int = np.where(np.isfinite(capacity), np.floor(np.minimum(capacity * load_scale, top)
                                                       + 1e-9), top).astype(np.int64)
    cost_int = scale.to_int(c)
    exact = scale.factor == 1.0 and bool(np.all(c == np.round(c)))
    incumbent = _round_lp(n, m, rows, cols, c, cost_int, duals.share, load_int, cap_int,
                          clock, time_limit, workers)
    if incumbent is None:
        return None
    ub = float(cost[np.arange(n), incumbent].sum())
    lb = duals.bound - 1e-9 * max(1.0, abs(duals.bound))  # float noise in the Lagrangian
    if progress is not None:
        progress("solution", {"phase": "lp-rounding", "objective": ub, "bound": lb})
    notes = [f"LP 下界 {duals.bound:.6g}，取整上界 {ub:.6g} / LP bound {duals.bound:.6g}, "
             f"rounded plan {ub:.6g}"]
    if _closed(ub, lb, exact):
        return LpOutcome(incumbent, True, min(ub, _ceil_if(lb, exact)), tuple(notes), "lp")
    # Improve the incumbent on the pairs of smallest reduced cost first: solved optimally with
    # a threshold delta >= (its cost - LB), that plan is optimal over all pairs.
    delta = (ub - lb) / 4
    small = duals.reduced <= delta
    small[_pair_index(incumbent, rows, cols, m)] = True
    first = _cpsat(n, m, rows[small], cols[small], cost_int[small], load_int[rows[small]],
                   cap_int, incumbent, None, 0.25 * clock.remaining(time_limit), workers, None)
    if first[0] is not None:
        cand = first[0]
        cand_cost = float(cost[np.arange(n), cand].sum())
        if cand_cost < ub:
            incumbent, ub = cand, cand_cost
    notes.append(f"小约减费用子问题 ({int(small.sum())} 个组合) / small-reduced-cost subproblem "
                 f"({int(small.sum())} pairs): {first[3]}, plan {ub:.6g}")
    if first[1] and ub - lb <= delta * (1 - 1e-9) - 1e-9:
        bound = max(lb, (int(first[2]) - (0.0 if exact else 0.5 * n)) / scale.factor)
        return LpOutcome(incumbent, True, min(bound, ub), tuple(notes), "lp+cp-sat")
    keep = duals.reduced <= (ub - lb) * (1 + 1e-9) + 1e-9
    notes.append(f"约减费用固定：保留 {int(keep.sum())}/{rows.size} 个组合 / reduced-cost "
                 f"fixing kept {int(keep.sum())} of {rows.size} pairs")
    lower_int = None
    if exact:
        lower_int = math.ceil(lb - 1e-6)
    out = _cpsat(n, m, rows[keep], cols[keep], cost_int[keep], load_int[rows[keep]], cap_int,
                 incumbent, lower_int, clock.remaining(time_limit), workers, progress)
    worker_of, optimal, int_bound, status = out
    true_cost = float(cost[np.arange(n), worker_of].sum())
    slack = 0.0 if exact else 0.5 * n
    bound = lb
    if int_bound is not None:
        bound = max(bound, (int_bound - slack) / scale.factor)
    if optimal:
        bound = max(bound, (int(cost_int_of(worker_of, rows, cols, cost_int, m)) - slack)
                    / scale.factor)
    notes.append(f"CP-SAT: {status}")
    return LpOutcome(worker_of, optimal, min(bound, true_cost), tuple(notes), "lp+cp-sat")


def _pair_index(worker_of: np.ndarray, rows: np.ndarray, cols: np.ndarray, m: int) -> np.ndarray:
    keys = rows.astype(np.int64) * m + cols
    want = np.arange(worker_of.size, dtype=np.int64) * m + worker_of
    order = np.argsort(keys)
    return order[np.searchsorted(keys, want, sorter=order)]


def cost_int_of(worker_of: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                cost_int: np.ndarray, m: int) -> int:
    lookup = dict(zip((rows * m + cols).tolist(), cost_int.tolist(), strict=True))
    return sum(lookup[i * m + int(w)] for i, w in enumerate(worker_of.tolist()))


def _ceil_if(lb: float, exact: bool) -> float:
    return float(math.ceil(lb - 1e-6)) if exact else lb


def _closed(ub: float, lb: float, exact: bool) -> bool:
    if exact:
        return ub <= math.ceil(lb - 1e-6)
    return ub - lb <= 1e-9 * max(1.0, abs(ub))


def _round_lp(
    n: int, m: int, rows: np.ndarray, cols: np.ndarray, c: np.ndarray, cost_int: np.ndarray,
    share: np.ndarray, load_int: np.ndarray, cap_int: np.ndarray, clock: Stopwatch,
    time_limit: float, workers: int,
) -> np.ndarray | None:
    """Whole grids keep their worker; split grids go greedily (largest load first) to the
    cheapest worker with room, else a small CP-SAT over the split grids decides."""
    worker_of = np.full(n, -1, dtype=np.int64)
    whole = share >= 1 - 1e-6
    worker_of[rows[whole]] = cols[whole]
    room = cap_int - np.bincount(cols[whole], weights=load_int[rows[whole]],
                                 minlength=m).astype(np.int64)
    if (room < 0).any():  # LP tolerance: start over from nothing fixed
        worker_of[:] = -1
        room = cap_int.copy()
    split = np.flatnonzero(worker_of < 0)
    if split.size == 0:
        return worker_of
    in_split = worker_of[rows] < 0
    order = split[np.argsort(-load_int[split], kind="stable")]
    by_grid: dict[int, list[int]] = {}
    for k in np.flatnonzero(in_split).tolist():
        by_grid.setdefault(int(rows[k]), []).append(k)
    greedy = worker_of.copy()
    g_room = room.copy()
    for i in order.tolist():
        best = None
        for k in sorted(by_grid.get(i, []), key=lambda k: c[k]):
            if load_int[i] <= g_room[cols[k]]:
                best = int(cols[k])
                break
        if best is None:
            break
        greedy[i] = best
        g_room[best] -= load_int[i]
    if (greedy >= 0).all():
        return greedy
    # Rounding failed: the first plan CP-SAT finds on every pair, hinted by the partial plan.
    out = _cpsat(n, m, rows, cols, cost_int, load_int[rows], cap_int, greedy, None,
                 min(clock.remaining(time_limit), max(1.0, 0.2 * time_limit)), workers, None,
                 first_only=True)
    if out[0] is None or (out[0] < 0).any():
        return None
    return out[0]


def _cpsat(
    n: int, m: int, rows: np.ndarray, cols: np.ndarray, cost_int: np.ndarray,
    load_int: np.ndarray, cap_int: np.ndarray, hint: np.ndarray | None, lower: int | None,
    seconds: float, workers: int, progress: ProgressCallback | None,
    fixed: np.ndarray | None = None, first_only: bool = False,
) -> tuple:
    """Every grid (but the ``fixed`` ones) exactly once on the given pairs, capacities, least
    integer cost. Returns (worker_of, optimal, integer bound, status name); worker_of is the
    hint when no solution is found (None without a hint)."""
    model = cp_model.CpModel()
    x = [model.new_bool_var("") for _ in range(rows.size)]
    by_grid: list[list[int]] = [[] for _ in range(n)]
    by_worker: list[list[int]] = [[] for _ in range(m)]
    for k, (i, j) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        by_grid[i].append(k)
        by_worker[j].append(k)
    free = np.ones(n, dtype=bool) if fixed is None else fixed < 0
    for i in np.flatnonzero(free).tolist():
        model.add_exactly_one([x[k] for k in by_grid[i]])
    for j in range(m):
        ks = by_worker[j]
        if ks and int(load_int[ks].sum()) > int(cap_int[j]):
            model.add(sum(int(w) * x[k] for w, k in zip(load_int[ks].tolist(), ks, strict=True))
                      <= int(cap_int[j]))
    objective = sum(int(w) * v for w, v in zip(cost_int.tolist(), x, strict=True))
    model.minimize(objective)
    if lower is not None:
        model.add(objective >= lower)
    if hint is not None:
        for k, v in enumerate(x):
            model.add_hint(v, bool(hint[rows[k]] == cols[k]))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, seconds)
    solver.parameters.num_workers = workers
    solver.parameters.stop_after_first_solution = first_only
    callback = None
    if progress is not None:
        callback = _Callback(progress)
    status = solver.solve(model, callback)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return (hint if hint is not None and (hint >= 0).all() else None), False, None, name
    worker_of = np.full(n, -1, dtype=np.int64) if fixed is None else fixed.copy()
    chosen = np.array([solver.boolean_value(v) for v in x], dtype=bool)
    worker_of[rows[chosen]] = cols[chosen]
    bound = math.ceil(solver.best_objective_bound - 1e-6)
    return worker_of, status == cp_model.OPTIMAL, bound, name


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, progress: ProgressCallback) -> None:
        super().__init__()
        self._progress = progress

    def on_solution_callback(self) -> None:
        self._progress("solution", {"phase": "lp+cp-sat", "objective": self.objective_value,
                                    "bound": self.best_objective_bound,
                                    "wall_s": self.wall_time})
