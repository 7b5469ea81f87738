"""The Dantzig-Wolfe bound of rule "several" by stabilised column generation over worker patterns.

The master LP chooses, per worker, a convex mix of patterns (sets of grids within capacity)::

    min sum_p c_p l_p   s.t.  sum_{p contains i} l_p = 1 (dual u_i),  sum_{p of j} l_p <= 1 (v_j <= 0)

Its optimum equals the best Lagrangian bound max_u L(u), which subgradient ascent only
approaches (measured: 0.2% short at 500 grids, where that gap is most of the optimality gap).
Pricing is the knapsack of ``LagrangianSearch``: at any u it yields L(u), a valid bound, and the
patterns to add. Duals are smoothed towards the best u so far (Wentges), which keeps them from
swinging between extreme points; when a smoothed point prices out nothing, the master's own
duals are priced, and if they too price out nothing the master is optimal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gridgov.solve import _alloc_lagr_kernels as kern
from gridgov.solve.common import Stopwatch

_SMOOTHING = 0.9  # weight of the best u in the pricing point (0.7: twice the columns and time at 1000 grids)
_MAX_ITERATIONS = 400
_STALL = 30  # iterations without the integer bound rising before it stops (tailing off)
_MAX_RAISES = 6  # price rises of leaving a grid uncovered before the master is taken as infeasible


@dataclass(frozen=True)
class Patterns:
    """Patterns as runs of pair indices: pattern k is ``items[starts[k]:starts[k + 1]]``, of
    worker ``owners[k]``."""

    items: np.ndarray
    starts: np.ndarray
    owners: np.ndarray


def partition_mip(objective: np.ndarray, col_start: np.ndarray, index: np.ndarray, rows: int) -> object:
    """HiGHS model of a set partitioning: binary columns, every row (worker, grid) exactly once."""
    import highspy

    k = int(objective.size)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = k, rows
    lp.col_cost_ = objective
    lp.col_lower_ = np.zeros(k)
    lp.col_upper_ = np.ones(k)
    lp.row_lower_ = np.ones(rows)
    lp.row_upper_ = np.ones(rows)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = col_start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = np.ones(index.size)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * k
    return lp


def partition_columns(items: np.ndarray, starts: np.ndarray, owners: np.ndarray, grid: np.ndarray,
                      m: int) -> tuple[np.ndarray, np.ndarray]:
    """Set-partitioning columns of patterns, CSC (start, row index): pattern k covers its worker's
    row ``owners[k]`` and its grids' rows ``m + grid[items[starts[k]:starts[k + 1]]]``."""
    k = owners.size
    col_start = (starts + np.arange(k + 1)).astype(np.int32)
    index = np.empty(int(col_start[-1]), dtype=np.int32)
    index[col_start[:-1]] = owners
    is_grid = np.ones(index.size, dtype=bool)
    is_grid[col_start[:-1]] = False
    index[is_grid] = m + grid[items]
    return col_start, index


@dataclass(frozen=True)
class DwOutcome:
    u: np.ndarray  # the multipliers of the best bound
    bound: float  # L(u), a lower bound on every plan
    master: float  # the master LP's last optimum (above the Dantzig-Wolfe bound unless an artificial is in use)
    patterns: Patterns  # every pattern the master holds
    share: np.ndarray  # per pair (the caller's numbering): its weight in the master's last solution
    iterations: int


class Master:
    """The restricted master LP in HiGHS, grown column by column; one artificial column per grid
    (cost ``big``) keeps it feasible from the start."""

    def __init__(self, n: int, m: int, big: float) -> None:
        import highspy

        from gridgov.solve._highs import quiet_highs

        self.n, self.m = n, m
        self.h = quiet_highs()
        # Re-solved after every batch of columns from the last basis: presolve would redo its
        # work each time (measured at 1000 grids, smoothing 0.7: 5.4 s to the bound off, 8.2 s on).
        self.h.setOptionValue("presolve", "off")
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, n + m
        lp.col_cost_ = np.full(n, big)
        lp.col_lower_ = np.zeros(n)
        lp.col_upper_ = np.full(n, highspy.kHighsInf)
        lp.row_lower_ = np.concatenate([np.ones(n), np.full(m, -highspy.kHighsInf)])
        lp.row_upper_ = np.ones(n + m)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.arange(n + 1, dtype=np.int32)
        lp.a_matrix_.index_ = np.arange(n, dtype=np.int32)
        lp.a_matrix_.value_ = np.ones(n)
        self.h.passModel(lp)
        self.big = big
        self.raises = 0
        self.seen: set[bytes] = set()
        self.items: list[np.ndarray] = []
        self.owners: list[int] = []

    def add(self, j: int, pairs: np.ndarray, grids: np.ndarray, cost: float) -> bool:
        """Add worker j's pattern (its pair indices, their grids, its cost) unless held already."""
        key = np.int64(j).tobytes() + np.sort(pairs).tobytes()
        if key in self.seen:
            return False
        self.seen.add(key)
        rows = np.concatenate([grids, [self.n + j]]).astype(np.int32)
        self.h.addCol(float(cost), 0.0, 1.0, rows.size, rows, np.ones(rows.size))
        self.items.append(pairs)
        self.owners.append(j)
        return True

    def artificial_in_use(self) -> bool:
        """Whether the last solution covers a grid by its artificial column: its optimum is then
        no bound on the Dantzig-Wolfe bound, only on the master with that price of not covering."""
        return bool((np.asarray(self.h.getSolution().col_value[:self.n]) > 1e-9).any())

    def raise_artificial(self) -> None:
        """Make leaving a grid uncovered ten times dearer."""
        self.big *= 10.0
        self.raises += 1
        self.h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), np.full(self.n, self.big))

    def solve(self) -> tuple[float, np.ndarray, np.ndarray] | None:
        """(optimum, u per grid, v per worker <= 0); None when HiGHS did not solve it (e.g. a
        HiGHS in this process started its thread pool with other settings)."""
        import highspy

        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        dual = np.asarray(self.h.getSolution().row_dual, dtype=float)
        return self.h.getInfo().objective_function_value, dual[:self.n], np.minimum(dual[self.n:], 0.0)

    def shares(self, found: Patterns, size: int) -> np.ndarray:
        """Per pair: the sum of the weights of the patterns (``found``, as ``patterns()`` gave
        them) holding it in the last solution."""
        weights = np.asarray(self.h.getSolution().col_value, dtype=float)[self.n:]
        if weights.size != found.owners.size:
            return np.zeros(size)
        return np.bincount(found.items, weights=np.repeat(weights, np.diff(found.starts)), minlength=size)

    def patterns(self) -> Patterns:
        sizes = np.array([p.size for p in self.items], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        items = np.concatenate(self.items) if self.items else np.empty(0, dtype=np.int64)
        return Patterns(items.astype(np.int64), starts, np.array(self.owners, dtype=np.int64))


def dantzig_wolfe(cost: np.ndarray, grid: np.ndarray, weight: np.ndarray, wptr: np.ndarray,
                  pair_ids: np.ndarray, cap: np.ndarray, u0: np.ndarray, plan: np.ndarray | None,
                  *, stop_at: float, tol: float, clock: Stopwatch, seconds: float) -> DwOutcome:
    """Raise L(u) from ``u0`` towards the Dantzig-Wolfe bound. Pairs are grouped by worker
    (``wptr``) with their ``cost``, ``grid`` and ``weight``; ``pair_ids`` names them to the
    caller; ``plan`` (the caller's pair per grid, in the same numbering) seeds the master.
    Stops once the integer bound can rise no more or reaches ``stop_at``, when it has not risen
    for ``_STALL`` iterations, or after ``seconds`` (of ``clock``)."""
    n, m = u0.size, wptr.size - 1
    big = float(np.abs(cost).max() if cost.size else 1.0) * 4.0 + 1.0
    master = Master(n, m, big)
    position = np.full(int(pair_ids.max()) + 1 if pair_ids.size else 0, -1, dtype=np.int64)
    position[pair_ids] = np.arange(pair_ids.size)
    owner = np.repeat(np.arange(m), np.diff(wptr))
    if plan is not None:
        local = position[plan]
        for j in np.unique(owner[local]):
            mine = local[owner[local] == j]
            master.add(int(j), pair_ids[mine], grid[mine], float(cost[mine].sum()))
    taken = np.zeros(cost.size, dtype=np.bool_)
    center = u0.astype(np.float64).copy()
    best = kern.price(center, cost, grid, weight, wptr, cap, taken)
    _add_priced(master, taken, wptr, pair_ids, grid, cost, None, None)
    z, iterations, last_rise = math.inf, 0, 0
    while iterations < _MAX_ITERATIONS and clock.remaining(seconds) > 0 and iterations - last_rise < _STALL:
        iterations += 1
        master.h.setOptionValue("time_limit", max(0.05, clock.remaining(seconds)))
        solved = master.solve()
        if solved is None:
            break
        z, u_m, v_m = solved
        if math.ceil(best - tol) >= stop_at:
            break
        if math.ceil(best - tol) >= math.ceil(z - tol):
            if not master.artificial_in_use() or master.raises >= _MAX_RAISES:
                break
            master.raise_artificial()
            continue
        added = 0
        for alpha in (_SMOOTHING, 0.0):
            point = alpha * center + (1.0 - alpha) * u_m
            value = kern.price(point, cost, grid, weight, wptr, cap, taken)
            if value > best:
                if math.ceil(value - tol) > math.ceil(best - tol):
                    last_rise = iterations
                best, center = value, point
            added = _add_priced(master, taken, wptr, pair_ids, grid, cost, u_m, v_m)
            if added:
                break
        if not added:  # the master's own duals price out nothing: z is the bound
            if not master.artificial_in_use() or master.raises >= _MAX_RAISES:
                break
            master.raise_artificial()
    found = master.patterns()
    return DwOutcome(center, best, z, found, master.shares(found, position.size), iterations)


def _add_priced(master: Master, taken: np.ndarray, wptr: np.ndarray, pair_ids: np.ndarray,
                grid: np.ndarray, cost: np.ndarray, u_m: np.ndarray | None, v_m: np.ndarray | None) -> int:
    """Add each worker's priced pattern whose reduced cost at the master's duals is negative
    (every one when no duals are given yet); returns how many were new."""
    added = 0
    for j in range(wptr.size - 1):
        lo, hi = wptr[j], wptr[j + 1]
        mine = np.flatnonzero(taken[lo:hi]) + lo
        if mine.size == 0:
            continue
        c = float(cost[mine].sum())
        if u_m is not None and c - float(u_m[grid[mine]].sum()) - float(v_m[j]) >= -1e-9 * max(1.0, abs(c)):
            continue
        added += master.add(j, pair_ids[mine], grid[mine], c)
    return added
