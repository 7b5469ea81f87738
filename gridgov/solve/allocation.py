"""Assign workers (劳模) to grids (网格): min-cost flow where it suffices, CP-SAT otherwise.

Two entry points share one result contract (:class:`AllocationResult`):

* :func:`allocate` takes a dense ``cost`` array and every option (rules, loads, capacities,
  contiguity, balance, locks, minimal moves against a published plan).
* :func:`allocate_sparse` takes candidate pairs as a scipy sparse matrix plus an optional
  pricing oracle, for assignments too large for a dense matrix (10,000 x 10,000 and more):
  it solves on the candidates and proves optimality on the full problem through LP duals.

Algorithm by problem:

* ``rule="one"``, or ``rule="several"`` with the same load on every pair, and no contiguity or
  balance: a min-cost flow (OR-Tools) on the k cheapest pairs per grid and per worker, grown by
  pricing (pairs with negative reduced cost against the flow's duals) until none is left, which
  proves the optimum over all pairs. Locks are fixed beforehand; minimal moves are a cost
  penalty above any cost difference.
* ``rule="several"`` with one load per grid (whoever takes it), capacities and nothing else:
  the knapsack Lagrangian bound (lifted to the Dantzig-Wolfe bound by column generation,
  ``_alloc_colgen``) and an exact set partitioning over the worker patterns that bound leaves
  (``_alloc_lagr``), HiGHS for the small MIPs it builds.
* everything else: CP-SAT with variables only for eligible pairs. Phase 1 maximises covered
  load (skipped when a greedy plan already covers every grid); phase 2 keeps that coverage and
  minimises, in this order, the balance violation flag, the moves, the cost.

Units and exactness: costs are scaled to integers (:class:`~gridgov.solve.common.IntegerScale`);
integer costs stay exact, others are rounded to about 1e-7 of the largest cost (less with
``current`` or ``balance``, whose weights must fit above the cost). ``cost`` and ``bound`` are
always in the caller's units, and ``bound`` already allows for that rounding. "optimal" means
proven within a relative gap of 1e-5 of the caller's costs: when one outlying cost (1e12 for
"never") makes the unit so coarse that the proof for the rounded costs says less, the status
is "feasible" with the honest gap. Loads and
capacities that are not integers are taken to 0.001 (loads rounded up, capacities down, so a
plan never exceeds a capacity).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from gridgov.errors import UserError
from gridgov.solve._alloc_assign import solve_assignment
from gridgov.solve._alloc_geo import EuclideanPairs
from gridgov.solve._alloc_cpsat import CpInput, solve_cpsat
from gridgov.solve._alloc_explain import ExplainInput, Uncovered, explain
from gridgov.solve._alloc_lagr import solve_several_lagrangian
from gridgov.solve._alloc_flow import (
    FlowOutcome,
    max_int_for_flow,
    solve_flow,
    spill_penalty,
)
from gridgov.solve.common import (
    PROOF_GAP,
    IntegerScale,
    ProgressCallback,
    Status,
    Stopwatch,
    relative_gap,
)

__all__ = ["AllocationResult", "EuclideanPairs", "Pricing", "Uncovered", "allocate", "allocate_sparse"]

# price(u, v) -> (rows, cols, costs): allowed pairs missing from the candidates whose reduced
# cost ``cost - u[row] - v[col]`` is negative (u per grid, v per worker, in cost units).
Pricing = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]

_CANDIDATES = 10  # cheapest pairs per grid and per worker that seed the flow
_SHIFT = 0.51  # integer units by which sparse pricing lowers u (see _PricedPairs)
_PRICE_PER_ROW = 8  # improving pairs per grid that dense pricing returns
_CPSAT_OBJECTIVE_MAX = 2**53  # CP-SAT reports objectives as doubles: stay exact


@dataclass(frozen=True, eq=False)
class AllocationResult:
    """One allocation. ``status``: "optimal" (proven), "feasible" (a plan, with ``gap`` when a
    bound is known), "unknown" (no plan within the time limit: more time may find one) or
    "infeasible" (proven: no plan exists). Uncovered grids are part of a plan, each
    with a reason; ``cost`` sums the caller's float costs over covered grids; ``bound`` is a
    proven lower bound on the cost among plans with the same coverage (and moves), or None."""

    worker_of: np.ndarray
    status: Status
    cost: float
    bound: float | None
    gap: float | None
    moves: int
    uncovered: tuple[Uncovered, ...]
    wall_s: float
    algorithm: str
    load_of: np.ndarray  # (n_workers,) load each worker carries
    covered_load: float
    total_load: float
    balance_met: bool | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def n_uncovered(self) -> int:
        return len(self.uncovered)


@dataclass(frozen=True)
class _Problem:
    """Validated input: dense arrays with every default filled in."""

    rule: str
    cost: np.ndarray  # (n, m) float, inf = not allowed
    allowed: np.ndarray  # finite cost and pair load within capacity
    load: np.ndarray  # (n, m) float
    capacity: np.ndarray  # (m,) float, inf = unlimited
    edges: np.ndarray | None  # (k, 2) i < j
    current: np.ndarray | None
    lock_worker: np.ndarray  # (n,) -1 = not locked
    balance: float | None

    @property
    def n(self) -> int:
        return int(self.cost.shape[0])

    @property
    def m(self) -> int:
        return int(self.cost.shape[1])


class _Problems:
    """Collects every input problem so the user sees them all at once."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, zh: str, en: str) -> None:
        self.items.append((zh, en))

    def raise_if_any(self) -> None:
        if self.items:
            raise UserError(
                "分配输入有误：" + "；".join(zh for zh, _ in self.items),
                "invalid allocation input: " + "; ".join(en for _, en in self.items),
            )


# ----------------------------------------------------------------------------- public API


def allocate(
    cost: np.ndarray,
    *,
    load: np.ndarray | None = None,
    capacity: np.ndarray | None = None,
    rule: str = "several",
    adjacency: Any = None,
    current: np.ndarray | None = None,
    locked: Any = None,
    time_limit: float = 30.0,
    balance: float | None = None,
    progress: ProgressCallback | None = None,
    workers: int = 1,
) -> AllocationResult:
    """Assign each grid one worker at least cost; see the module docstring for the algorithms.

    ``cost`` (n_grids, n_workers), inf = pair not allowed, costs >= 0. ``load`` None (1 per
    grid), (n_grids,) or (n_grids, n_workers). ``capacity`` (n_workers,) most load per worker;
    a pair whose load exceeds the worker's capacity is not allowed. ``rule`` "one" (每格一人,
    每人至多一格) or "several" (每格一人, 每人负荷不超过容量). ``adjacency`` (scipy sparse
    n_grids x n_grids, or (k, 2) edges): each worker's grids form one connected territory.
    ``current`` (n_grids,) the published worker or -1: coverage first, fewest moves second,
    cost third. ``locked`` (k, 2) (grid, worker) pairs always kept. ``balance`` (rule
    "several"): each used worker's load within ±balance x the mean load per used worker, when
    possible without uncovering grids — otherwise ``balance_met`` is False and a note says so.
    ``time_limit`` bounds CP-SAT (flows run to optimality); ``workers`` is CP-SAT's
    ``num_workers``; ``progress(event, payload)`` receives each improving solution.
    """
    clock = Stopwatch()
    problem = _validate(cost, load, capacity, rule, adjacency, current, locked, balance,
                        time_limit, workers)
    if _flow_fits(problem):
        done = _solve_by_flow(problem, progress, clock)
        if done is not None:
            return done
    if _lp_fits(problem):
        done = _solve_by_lp(problem, time_limit, workers, progress, clock)
        if done is not None:
            return done
    return _solve_by_cpsat(problem, time_limit, workers, progress, clock)


def allocate_sparse(
    cost: Any,
    *,
    load: float | np.ndarray | None = None,
    capacity: np.ndarray | None = None,
    rule: str = "one",
    price: Pricing | None = None,
    cost_ceiling: float | None = None,
    max_rounds: int = 60,
    progress: ProgressCallback | None = None,
) -> AllocationResult:
    """Min-cost assignment on candidate pairs (a scipy sparse (n_grids, n_workers) matrix
    whose stored entries are the allowed pairs; explicit zeros count), for rule "one" or
    rule "several" with one load for every grid (``load`` a number, or equal per grid).

    Without ``price`` the stored pairs are the whole problem. With ``price``, pairs outside
    them may be allowed too: after each solve ``price(u, v)`` must return (rows, cols, costs)
    of every allowed pair outside the candidates with ``cost - u[row] - v[col] < 0``
    (u per grid, v <= 0 per worker, LP duals in cost units; returning more is harmless). When it
    returns nothing the plan is optimal over all pairs and ``bound`` proves it. ``cost_ceiling``
    is the largest cost ``price`` may return (default 4x the largest candidate); it fixes the
    integer scale. No locks, current plan, contiguity or balance here: use :func:`allocate`.
    """
    clock = Stopwatch()
    coo, unit, cap_units, ceiling = _validate_sparse(cost, load, capacity, rule, cost_ceiling)
    n, m = coo.shape
    finite = np.isfinite(coo.data)
    rows, cols, values = coo.row[finite], coo.col[finite], coo.data[finite]
    scale = IntegerScale.for_costs(np.append(values, ceiling), max_int=max_int_for_flow(n, m))
    int_price = _PricedPairs(price, scale, ceiling) if price is not None else None
    out = _solve_units(n, cap_units, rows, cols, scale.to_int(values), int_price, max_rounds,
                       _penalty(n, scale, ceiling))
    proven = out.proven or price is None
    exact = _is_exact(scale, values)
    worker_of = out.worker_of
    known = int_price.with_candidates(coo) if int_price else coo
    true_cost = _true_cost_sparse(known, worker_of)
    bound = _flow_bound(out, scale, exact, worker_of) if proven else None
    bound = min(bound, true_cost) if bound is not None else None
    _report(progress, "flow", true_cost, bound)
    notes = (f"定价 {out.rounds} 轮，{out.n_arcs} 条候选边 / pricing rounds {out.rounds}, "
             f"{out.n_arcs} candidate pairs",)
    if price is not None and not out.proven:
        notes += ("定价轮数达到上限，未证明全局最优 / pricing stopped at max_rounds: "
                  "optimality over all pairs not proven",)
    covered = worker_of >= 0
    load_of = np.bincount(worker_of[covered], minlength=m).astype(float) * unit
    reasons = tuple(
        Uncovered(int(i), "no_eligible_worker_left",
                  "候选劳模均已满员或没有候选劳模", "every candidate worker is full or the grid "
                  "has no candidate worker")
        for i in np.flatnonzero(~covered).tolist()
    )
    status, gap, notes = _honest("optimal" if proven else "feasible", true_cost, bound, notes)
    return AllocationResult(
        worker_of=_frozen(worker_of), status=status, cost=true_cost, bound=bound, gap=gap, moves=0,
        uncovered=reasons, wall_s=clock.elapsed, algorithm=f"{out.method}+pricing({out.rounds})",
        load_of=_frozen(load_of), covered_load=float(covered.sum()) * unit,
        total_load=float(n) * unit, notes=notes,
    )


# ----------------------------------------------------------------------------- validation


def _validate(
    cost: Any,
    load: Any,
    capacity: Any,
    rule: str,
    adjacency: Any,
    current: Any,
    locked: Any,
    balance: float | None,
    time_limit: float,
    workers: int,
) -> _Problem:
    problems = _Problems()
    if sp.issparse(cost):
        problems.add("稠密 cost 请用 allocate；稀疏候选请用 allocate_sparse",
                     "allocate takes a dense cost array; use allocate_sparse for sparse candidates")
        problems.raise_if_any()
    try:
        cost_arr = np.asarray(cost, dtype=float)
    except (TypeError, ValueError):
        problems.add("cost 必须是数字数组（网格 x 劳模）", "cost must be an array of numbers (grids x workers)")
        problems.raise_if_any()
    if cost_arr.ndim != 2:
        problems.add(f"cost 必须是二维数组（网格 x 劳模），实际维数 {cost_arr.ndim}",
                     f"cost must be 2-D (grids x workers), got {cost_arr.ndim}-D")
        problems.raise_if_any()
    n, m = cost_arr.shape
    _check_cost(problems, cost_arr)
    _check_options(problems, rule, balance, time_limit, workers)
    load_arr = _check_load(problems, load, n, m)
    cap = _check_capacity(problems, capacity, m)
    edges = _check_adjacency(problems, adjacency, n)
    cur = _check_current(problems, current, n, m)
    problems.raise_if_any()
    allowed = np.isfinite(cost_arr) & (load_arr <= cap[None, :] + 1e-12)
    lock_worker = _check_locks(problems, locked, cost_arr, allowed, load_arr, cap, rule, edges)
    problems.raise_if_any()
    return _Problem(rule, cost_arr, allowed, load_arr, cap, edges if rule == "several" else None,
                    cur, lock_worker, balance if rule == "several" else None)


def _check_cost(problems: _Problems, cost: np.ndarray) -> None:
    if np.isnan(cost).any():
        problems.add(f"cost 含 {int(np.isnan(cost).sum())} 个 NaN；不允许的组合请用 inf",
                     f"cost has {int(np.isnan(cost).sum())} NaN value(s); use inf for a pair "
                     "that is not allowed")
    finite = cost[np.isfinite(cost)]
    if (finite < 0).any() or np.isneginf(cost).any():
        problems.add("cost 含负数；请整体加上一个常数使其非负",
                     "cost has negative values; shift it by a constant so it is >= 0")


def _check_options(
    problems: _Problems, rule: str, balance: float | None, time_limit: float, workers: int
) -> None:
    if rule not in ("one", "several"):
        problems.add(f"rule 只能是 'one'（一格一劳模）或 'several'（多格一劳模），而不是 {rule!r}",
                     f"rule must be 'one' or 'several', not {rule!r}")
    if balance is not None and not (math.isfinite(balance) and balance >= 0):
        problems.add(f"balance 必须是非负数（如 0.3），而不是 {balance!r}",
                     f"balance must be a non-negative number such as 0.3, not {balance!r}")
    if isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real) or not time_limit > 0:
        problems.add(f"time_limit 必须是大于 0 的秒数，而不是 {time_limit!r}",
                     f"time_limit must be a number of seconds > 0, not {time_limit!r}")
    if int(workers) < 1:
        problems.add("workers 至少为 1", "workers must be at least 1")


def _check_load(problems: _Problems, load: Any, n: int, m: int) -> np.ndarray:
    if load is None:
        return np.ones((n, m))
    arr = np.asarray(load, dtype=float)
    if arr.shape == (n,):
        arr = np.repeat(arr[:, None], m, axis=1)
    elif arr.shape != (n, m):
        problems.add(f"load 的形状应为 ({n},) 或 ({n}, {m})，实际为 {arr.shape}",
                     f"load must have shape ({n},) or ({n}, {m}), got {arr.shape}")
        return np.ones((n, m))
    if not np.isfinite(arr).all() or (arr < 0).any():
        problems.add("load 必须是有限的非负数", "load must be finite and >= 0")
        return np.ones((n, m))
    return arr


def _check_capacity(problems: _Problems, capacity: Any, m: int) -> np.ndarray:
    if capacity is None:
        return np.full(m, np.inf)
    arr = np.asarray(capacity, dtype=float)
    if arr.shape != (m,):
        problems.add(f"capacity 的形状应为 ({m},)，实际为 {arr.shape}",
                     f"capacity must have shape ({m},), got {arr.shape}")
        return np.full(m, np.inf)
    if np.isnan(arr).any() or (arr < 0).any():
        problems.add("capacity 必须是非负数（inf 表示不限）",
                     "capacity must be >= 0 (inf = unlimited)")
        return np.full(m, np.inf)
    return arr


def _check_adjacency(problems: _Problems, adjacency: Any, n: int) -> np.ndarray | None:
    if adjacency is None:
        return None
    if sp.issparse(adjacency):
        if adjacency.shape != (n, n):
            problems.add(f"adjacency 应为 {n}x{n} 的稀疏矩阵，实际为 {adjacency.shape}",
                         f"adjacency must be {n}x{n}, got {adjacency.shape}")
            return None
        coo = sp.coo_matrix(adjacency)
        pairs = np.column_stack([coo.row, coo.col])[coo.data != 0]
    else:
        pairs = np.asarray(adjacency)
        if pairs.size == 0:
            return np.zeros((0, 2), dtype=np.int64)
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            problems.add(f"adjacency 边表的形状应为 (k, 2)，实际为 {pairs.shape}",
                         f"an adjacency edge list must have shape (k, 2), got {pairs.shape}")
            return None
    pairs = pairs.astype(np.int64)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= n):
        problems.add(f"adjacency 的网格编号超出 0..{n - 1}",
                     f"adjacency refers to grids outside 0..{n - 1}")
        return None
    lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    keep = lo != hi
    return np.unique(np.column_stack([lo[keep], hi[keep]]), axis=0).reshape(-1, 2)


def _check_current(problems: _Problems, current: Any, n: int, m: int) -> np.ndarray | None:
    if current is None:
        return None
    arr = np.asarray(current)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        problems.add(f"current 应为长度 {n} 的整数数组（-1 表示未分配）",
                     f"current must be an integer array of length {n} (-1 = unassigned)")
        return None
    if (arr < -1).any() or (arr >= m).any():
        problems.add(f"current 的劳模编号超出 -1..{m - 1}",
                     f"current refers to workers outside -1..{m - 1}")
        return None
    return arr.astype(np.int64)


def _check_locks(
    problems: _Problems,
    locked: Any,
    cost: np.ndarray,
    allowed: np.ndarray,
    load: np.ndarray,
    cap: np.ndarray,
    rule: str,
    edges: np.ndarray | None,
) -> np.ndarray:
    n, m = cost.shape
    lock_worker = np.full(n, -1, dtype=np.int64)
    if locked is None:
        return lock_worker
    try:
        raw = np.asarray(locked, dtype=float)
        pairs = raw.reshape(-1, 2).astype(np.int64) if raw.size else np.zeros((0, 2), dtype=np.int64)
        whole = raw.size == 0 or (raw.ndim == 2 and raw.shape[1] == 2 and np.array_equal(raw, np.round(raw)))
    except (TypeError, ValueError):
        whole = False
    if not whole:  # [0, 1, 1], {0: 1}, 0.7 were read as something else or crashed
        problems.add("locked 应为 (网格, 劳模) 整数对的列表，如 [(0, 2), (5, 1)]",
                     "locked must be a list of (grid, worker) integer pairs, e.g. [(0, 2), (5, 1)]")
        return lock_worker
    for g, w in pairs.tolist():
        if not (0 <= g < n and 0 <= w < m):
            problems.add(f"锁定 ({g}, {w}) 超出范围", f"lock ({g}, {w}) is out of range")
        elif not np.isfinite(cost[g, w]):
            problems.add(f"锁定 ({g}, {w}) 的费用为 inf（不允许的组合）",
                         f"lock ({g}, {w}) pins a pair whose cost is inf (not allowed)")
        elif not allowed[g, w]:
            problems.add(f"锁定 ({g}, {w}) 的负荷超过劳模 {w} 的容量",
                         f"lock ({g}, {w}): the load exceeds worker {w}'s capacity")
        elif lock_worker[g] >= 0 and lock_worker[g] != w:
            problems.add(f"网格 {g} 被锁定给两位劳模（{lock_worker[g]} 和 {w}）",
                         f"grid {g} is locked to two workers ({lock_worker[g]} and {w})")
        else:
            lock_worker[g] = w
    _check_lock_totals(problems, lock_worker, load, cap, rule, allowed, edges)
    return lock_worker


def _check_lock_totals(
    problems: _Problems,
    lock_worker: np.ndarray,
    load: np.ndarray,
    cap: np.ndarray,
    rule: str,
    allowed: np.ndarray,
    edges: np.ndarray | None,
) -> None:
    grids = np.flatnonzero(lock_worker >= 0)
    workers = lock_worker[grids]
    for w in np.unique(workers).tolist():
        mine = grids[workers == w]
        if rule == "one" and mine.size > 1:
            problems.add(f"一格一劳模下劳模 {w} 被锁定了 {mine.size} 个网格",
                         f"rule 'one': worker {w} is locked to {mine.size} grids")
        used = float(load[mine, w].sum())
        if rule == "several" and used > cap[w] + 1e-9:
            problems.add(f"劳模 {w} 的锁定负荷 {used:g} 超过容量 {cap[w]:g}",
                         f"worker {w}'s locked load {used:g} exceeds its capacity {cap[w]:g}")
        if rule == "several" and edges is not None and mine.size > 1:
            # Through grids the worker may take and whose load still fits beside the locked ones
            # (a path is at least as heavy as its heaviest grid; CP-SAT proves the rest).
            room = allowed[:, w] & (load[:, w] <= cap[w] - used + 1e-9)
            room[mine] = True
            if not _connected_within(mine, np.flatnonzero(room), edges):
                problems.add(f"劳模 {w} 的锁定网格无法在其可用网格内、不超过容量地连成一片",
                             f"worker {w}'s locked grids cannot be joined into one territory "
                             "through grids the worker may take within capacity")


def _connected_within(targets: np.ndarray, nodes: np.ndarray, edges: np.ndarray) -> bool:
    inside = np.zeros(int(edges.max(initial=0)) + 1 + int(nodes.max(initial=0)) + 1, dtype=bool)
    inside[nodes] = True
    keep = inside[edges[:, 0]] & inside[edges[:, 1]]
    size = inside.size
    graph = sp.coo_matrix((np.ones(int(keep.sum())), (edges[keep, 0], edges[keep, 1])),
                          shape=(size, size))
    _, label = connected_components(graph, directed=False)
    return bool(np.unique(label[targets]).size == 1)


def _validate_sparse(
    cost: Any, load: Any, capacity: Any, rule: str, ceiling: float | None
) -> tuple[sp.coo_matrix, float, np.ndarray, float]:
    problems = _Problems()
    if not sp.issparse(cost):
        problems.add("allocate_sparse 需要 scipy 稀疏矩阵", "allocate_sparse needs a scipy sparse matrix")
        problems.raise_if_any()
    coo = sp.coo_matrix(sp.csr_matrix(cost))  # csr sums duplicate entries
    n, m = coo.shape
    _check_cost(problems, coo.data)
    if rule not in ("one", "several"):
        problems.add(f"rule 只能是 'one' 或 'several'，而不是 {rule!r}",
                     f"rule must be 'one' or 'several', not {rule!r}")
    unit = 1.0 if load is None else np.asarray(load, dtype=float).reshape(-1)
    if np.size(unit) not in (1, n) or not np.all(np.isfinite(unit)) or np.any(unit < 0):
        problems.add("allocate_sparse 的 load 须为一个非负数或长度为网格数的数组",
                     "allocate_sparse: load must be one non-negative number or one per grid")
        unit = np.ones(1)
    if np.ptp(unit) > 0:
        problems.add("allocate_sparse 只支持每个网格负荷相同；不同负荷请用 allocate",
                     "allocate_sparse needs the same load on every grid; use allocate otherwise")
    cap = _check_capacity(problems, capacity, m)
    problems.raise_if_any()
    unit_value = float(np.asarray(unit).reshape(-1)[0])
    cap_units = _capacity_units(rule, cap, unit_value, n)
    finite = coo.data[np.isfinite(coo.data)]
    ceil = float(ceiling) if ceiling is not None else 4.0 * float(finite.max(initial=1.0))
    return coo, unit_value, cap_units, max(ceil, float(finite.max(initial=0.0)), 1e-12)


# ----------------------------------------------------------------------------- min-cost flow


def _flow_fits(p: _Problem) -> bool:
    """No side constraint a flow cannot express; coverage by count equals coverage by load."""
    if p.balance is not None or p.edges is not None:
        return False
    if p.rule == "one":
        return True
    loads = p.load[p.allowed]
    return loads.size == 0 or bool(np.all(loads == loads[0]))


def _capacity_units(rule: str, cap: np.ndarray, unit: float, n: int) -> np.ndarray:
    if rule == "one":
        return np.ones(cap.size, dtype=np.int64)
    if unit <= 0:
        return np.full(cap.size, n, dtype=np.int64)
    units = np.floor(np.minimum(cap / unit, n) + 1e-9)
    return units.astype(np.int64)


def _solve_by_flow(
    p: _Problem, progress: ProgressCallback | None, clock: Stopwatch
) -> AllocationResult | None:
    free = np.flatnonzero(p.lock_worker < 0)
    locked = np.flatnonzero(p.lock_worker >= 0)
    loads = p.load[p.allowed]
    unit = float(loads[0]) if loads.size else 1.0
    units = _capacity_units(p.rule, p.capacity, unit, p.n)
    units = np.maximum(units - np.bincount(p.lock_worker[locked], minlength=p.m), 0)
    levels = 2 if p.current is not None else 1
    scale = IntegerScale.for_costs(p.cost[p.allowed],
                                   max_int=max_int_for_flow(free.size, p.m, levels=levels))
    base = scale.to_int(p.cost[free])
    penalised, move_weight = _with_move_penalty(base, p.allowed[free], p.current, free)
    allowed = p.allowed[free]
    rows, cols = _seed_candidates(penalised, allowed, p.current, free)
    # Leaving a published grid uncovered is a move too.
    extra = None if p.current is None else move_weight * (p.current[free] >= 0)
    pricing = _dense_pricing(penalised, allowed)
    if extra is None:
        out = _solve_units(free.size, units, rows, cols, penalised[rows, cols], pricing, 60,
                           spill_penalty(free.size, int(penalised[allowed].max(initial=1))))
    else:
        out = solve_flow(free.size, units, rows, cols, penalised[rows, cols], price=pricing,
                         spill_extra=extra)
    worker_of = p.lock_worker.copy()
    worker_of[free] = out.worker_of
    if (out.worker_of < 0).any() and not _uniform_cover(p):
        return None  # coverage by load differs from coverage by count: CP-SAT decides
    exact = _is_exact(scale, p.cost[p.allowed])
    true_cost = _true_cost(p.cost, worker_of)
    bound = None
    if out.proven:
        covered = out.worker_of >= 0
        cost_int = int(base[np.flatnonzero(covered), out.worker_of[covered]].sum())
        cost_int += int(scale.to_int(p.cost[locked, p.lock_worker[locked]]).sum())
        slack = 0.0 if exact else 0.5 * float((worker_of >= 0).sum())
        bound = min(true_cost, (cost_int - slack) / scale.factor)
    _report(progress, "flow", true_cost, bound)
    note = (f"最小费用流：定价 {out.rounds} 轮，{out.n_arcs} 条候选边 / min-cost flow: "
            f"{out.rounds} pricing round(s), {out.n_arcs} candidate pairs",)
    return _finish(p, worker_of, "optimal" if out.proven else "feasible", bound,
                   f"{out.method}+pricing({out.rounds})", note, True, None, clock)


def _uniform_cover(p: _Problem) -> bool:
    weights = np.where(p.allowed, p.load, np.inf).min(axis=1, initial=np.inf)
    weights = weights[np.isfinite(weights)]
    return weights.size == 0 or bool(np.all(weights == weights[0]))


def _with_move_penalty(
    base: np.ndarray, allowed: np.ndarray, current: np.ndarray | None, free: np.ndarray
) -> tuple[np.ndarray, int]:
    """Add a penalty above the whole cost range to every pair that moves a published grid."""
    if current is None:
        return base, 0
    cur = current[free]
    weight = int(np.where(allowed, base, 0).max(axis=1, initial=0).sum()) + 1
    moves = (cur[:, None] >= 0) & (np.arange(base.shape[1])[None, :] != cur[:, None])
    return base + weight * moves.astype(np.int64), weight


def _seed_candidates(
    cost: np.ndarray, allowed: np.ndarray, current: np.ndarray | None, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The k cheapest allowed pairs of each grid and of each worker, and the published pairs."""
    n, m = cost.shape
    big = np.iinfo(np.int64).max
    masked = np.where(allowed, cost, big)
    pick = np.zeros((n, m), dtype=bool)
    if n and m:
        k = min(_CANDIDATES, m)
        by_row = np.argpartition(masked, k - 1, axis=1)[:, :k]
        pick[np.arange(n)[:, None], by_row] = True
        k = min(_CANDIDATES, n)
        by_col = np.argpartition(masked, k - 1, axis=0)[:k, :]
        pick[by_col, np.arange(m)[None, :]] = True
    if current is not None:
        cur = current[free]
        has = np.flatnonzero(cur >= 0)
        pick[has, cur[has]] = True
    return np.nonzero(pick & allowed)


def _dense_pricing(cost: np.ndarray, allowed: np.ndarray) -> Callable[..., Any]:
    """The most improving allowed pairs (negative reduced cost) of each grid, in row chunks."""

    big = np.iinfo(np.int64).max // 4

    def price(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        found_r, found_c = [], []
        k = min(_PRICE_PER_ROW, cost.shape[1])
        for start in range(0, cost.shape[0], 1024):
            stop = min(start + 1024, cost.shape[0])
            reduced = np.where(allowed[start:stop],
                               cost[start:stop] - u[start:stop, None] - v[None, :], big)
            if k < cost.shape[1]:  # the most improving few per grid: enough, and small
                pick = np.argpartition(reduced, k - 1, axis=1)[:, :k]
                local, slot = np.nonzero(np.take_along_axis(reduced, pick, axis=1) < 0)
                r, c = local, pick[local, slot]
            else:
                r, c = np.nonzero(reduced < 0)
            found_r.append(r + start)
            found_c.append(c)
        rows = np.concatenate(found_r) if found_r else np.zeros(0, dtype=np.int64)
        cols = np.concatenate(found_c) if found_c else np.zeros(0, dtype=np.int64)
        return rows, cols, cost[rows, cols]

    return price


class _PricedPairs:
    """The caller's oracle in cost units, filtered to pairs that improve the integer model;
    remembers the true cost of every pair it adds (the candidate matrix does not hold them)."""

    def __init__(self, price: Pricing, scale: IntegerScale, ceiling: float) -> None:
        self._price = price
        self._scale = scale
        self._ceiling = ceiling
        self._found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def __call__(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f = self._scale.factor
        # Ask for pairs below -_SHIFT units: each then improves the integer model (rounding
        # moves a cost by at most 0.5 unit), and none returned proves the float duals
        # (u - _SHIFT) / f, v / f feasible for every pair: the bound allows for that shift.
        rows, cols, costs = (np.asarray(a) for a in self._price((u - _SHIFT) / f, v / f))
        costs = costs.astype(float)
        if costs.size and (costs > self._ceiling * (1 + 1e-12)).any():
            raise UserError(f"定价返回的费用 {costs.max():g} 超过 cost_ceiling {self._ceiling:g}",
                            f"price returned a cost {costs.max():g} above cost_ceiling "
                            f"{self._ceiling:g}; pass a larger cost_ceiling")
        keep = np.isfinite(costs)
        rows, cols, costs = rows[keep].astype(np.int64), cols[keep].astype(np.int64), costs[keep]
        ints = self._scale.to_int(costs)
        improving = ints - u[rows] - v[cols] < 0
        rows, cols, costs = rows[improving], cols[improving], costs[improving]
        self._found.append((rows, cols, costs))
        return rows, cols, ints[improving]

    def with_candidates(self, coo: sp.coo_matrix) -> sp.coo_matrix:
        """The candidates plus every pair the oracle added, each once (candidates win)."""
        rows = np.concatenate([coo.row, *(r for r, _, _ in self._found)]).astype(np.int64)
        cols = np.concatenate([coo.col, *(c for _, c, _ in self._found)]).astype(np.int64)
        costs = np.concatenate([coo.data, *(k for _, _, k in self._found)])
        _, first = np.unique(rows * coo.shape[1] + cols, return_index=True)
        return sp.coo_matrix((costs[first], (rows[first], cols[first])), shape=coo.shape)


def _solve_units(
    n: int,
    units: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    cost: np.ndarray,
    price: Callable[..., Any] | None,
    max_rounds: int,
    penalty: int,
) -> FlowOutcome:
    """One grid per worker and every grid coverable: the assignment path (linear sum
    assignment + shortest-path duals); anything else, or when it does not apply: the flow."""
    if units.size >= n and bool(np.all(units == 1)):
        out = solve_assignment(n, int(units.size), rows, cols, cost, price=price,
                               max_rounds=max_rounds, penalty=penalty)
        if out is not None:
            return out
    return solve_flow(n, units, rows, cols, cost, price=price, max_rounds=max_rounds,
                      penalty=penalty)


def _penalty(n: int, scale: IntegerScale, ceiling: float) -> int:
    return (n + 1) * max(int(round(ceiling * scale.factor)), 1) + 1


def _flow_bound(
    out: FlowOutcome, scale: IntegerScale, exact: bool, worker_of: np.ndarray
) -> float:
    slack = 0.0 if exact else _SHIFT * float((worker_of >= 0).sum())
    return (out.objective - slack) / scale.factor


# ----------------------------------------------------------------------------- Lagrangian


def _lp_fits(p: _Problem) -> bool:
    """Rule "several", one load per grid whatever the worker, no side constraint."""
    if p.rule != "several" or p.edges is not None or p.balance is not None:
        return False
    if p.current is not None or (p.lock_worker >= 0).any() or p.n == 0 or p.m == 0:
        return False
    return bool(np.all(p.load == p.load[:, :1]))


def _solve_by_lp(
    p: _Problem,
    time_limit: float,
    workers: int,
    progress: ProgressCallback | None,
    clock: Stopwatch,
) -> AllocationResult | None:
    scale = IntegerScale.for_costs(p.cost[p.allowed], max_int=_cpsat_max_int(p.n, 0))
    out = solve_several_lagrangian(p.cost, p.allowed, p.load[:, 0], p.capacity, scale=scale,
                                   load_scale=_load_scale(p), time_limit=clock.remaining(time_limit),
                                   progress=progress)
    if out is None:
        return None  # LP infeasible or no full plan by rounding: CP-SAT handles coverage
    status: Status = "optimal" if out.optimal else "feasible"
    return _finish(p, out.worker_of, status, out.bound, out.algorithm, out.notes, True, None,
                   clock)


# ----------------------------------------------------------------------------- CP-SAT


def _solve_by_cpsat(
    p: _Problem,
    time_limit: float,
    workers: int,
    progress: ProgressCallback | None,
    clock: Stopwatch,
) -> AllocationResult:
    keep = p.allowed & ((p.lock_worker[:, None] < 0)
                        | (np.arange(p.m)[None, :] == p.lock_worker[:, None]))
    rows, cols = np.nonzero(keep)
    levels = (p.current is not None) + (p.balance is not None)
    scale = IntegerScale.for_costs(p.cost[p.allowed], max_int=_cpsat_max_int(p.n, levels))
    load_scale = _load_scale(p)
    load_int = np.ceil(p.load[rows, cols] * load_scale - 1e-9).astype(np.int64)
    cap_int = _capacity_int(p, load_scale)
    greedy = _greedy(p, keep) if p.edges is None else None
    grown = _grown(p, keep)
    heuristic = greedy if greedy is not None else grown
    if heuristic is not None and not _keeps_locks(p, heuristic):
        heuristic = None  # greedy knows no locks: a planner's pin is never traded for speed
    if clock.remaining(time_limit) <= 0 and heuristic is not None:
        # The time went to the LP and the Lagrangian: building CP-SAT's model over millions of
        # pairs would take tens of seconds more (3,000 x 1,000: 45 s before the solver starts).
        return _finish(p, heuristic, "feasible", None, "greedy" if greedy is not None else "region-growing",
                       ("时限已到，给出启发式方案（未证明最优）/ the time limit was reached: a heuristic plan, not proven",),
                       False, None, clock)
    full = greedy is not None and bool((greedy >= 0).all())
    data = CpInput(
        n=p.n, m=p.m, rule=p.rule, rows=rows, cols=cols,
        cost=scale.to_int(p.cost[rows, cols]), load=load_int, capacity=cap_int,
        edges=p.edges, current=p.current,
        locked=np.flatnonzero(p.lock_worker[rows] == cols), balance=p.balance,
        cover_weight=_cover_weight(p, keep, load_scale), full_cover_known=full,
        hint=p.current if p.current is not None else (greedy if greedy is not None else grown),
    )
    out = solve_cpsat(data, time_limit=clock.remaining(time_limit), workers=workers,
                      progress=progress)
    if out.locks_infeasible:
        exact_loads = bool(np.all(p.load[rows, cols] * load_scale == load_int)) and bool(
            np.all(~np.isfinite(p.capacity) | (p.capacity * load_scale == np.floor(p.capacity * load_scale))))
        if exact_loads:
            raise UserError("锁定的网格无法在容量内各自连成一片（已证明无解）：请减少或调整锁定",
                            "the locked grids cannot each be joined into one territory within capacity "
                            "(proven): lock fewer or other grids")
        # Loads rounded up and capacities down made the locks too heavy for the integer model
        # only (133 + 134 + 133 households in a capacity of 400): the locked plan itself is real.
        if p.edges is not None and _valid_territories(p, keep, out.worker_of):
            return _finish(p, out.worker_of, "feasible", None, "locks",
                           ("整数化后的负荷使锁定方案超出容量，按锁定给出 / rounded loads made the locks exceed "
                            "capacity in the integer model: the locked plan is given",), False, None, clock)
    if grown is not None and _covers_more(grown, out.worker_of, data.cover_weight):
        return _finish(p, grown, "feasible", None, "region-growing",
                       ("CP-SAT 时限内的方案不如区域生长方案，采用后者（各片区连片，未证明最优）/ CP-SAT's plan within "
                        "the time limit covered less than region growing's, which is used (contiguous, not proven)",),
                       False, None, clock)
    exact = _is_exact(scale, p.cost[p.allowed])
    true_cost = _true_cost(p.cost, out.worker_of)
    bound = None
    if out.cost_bound is not None:
        slack = 0.0 if exact else 0.5 * float((out.worker_of >= 0).sum())
        bound = min(true_cost, (out.cost_bound - slack) / scale.factor)
    # Coverage is soft, so CP-SAT's model always has a plan (all uncovered): none found is the
    # time limit, never a proof.
    status: Status = "optimal" if out.optimal else ("feasible" if out.found else "unknown")
    notes = [f"CP-SAT 阶段 / phases: {', '.join(out.phases)}"]
    if not out.found:
        notes.append("时限内未找到方案 / no plan found within the time limit")
    notes += _balance_notes(p, out.balance_met)
    return _finish(p, out.worker_of, status, bound, "cp-sat", tuple(notes), out.coverage_proven,
                   out.balance_met, clock)


def _grown(p: _Problem, keep: np.ndarray) -> np.ndarray | None:
    """For contiguous territories: region growing's plan (milliseconds, connected by
    construction) as CP-SAT's hint and its floor — on a 64-grid lattice with 10 workers CP-SAT
    alone found no plan in 10 s where this covers 63 grids."""
    if p.edges is None or p.rule != "several":
        return None
    from gridgov.solve._alloc_grow import grow_territories

    locks = [(int(i), int(p.lock_worker[i])) for i in np.flatnonzero(p.lock_worker >= 0)]
    plan = grow_territories(np.where(keep, p.cost, np.inf), p.load, p.capacity, p.edges,
                            current=p.current, locked=locks or None)
    # Locks and kept current grids are placed before growing and need not touch: checked, not assumed.
    return plan if _valid_territories(p, keep, plan) else None


def _valid_territories(p: _Problem, keep: np.ndarray, worker_of: np.ndarray) -> bool:
    """Allowed pairs, locks kept, capacities held, each worker's grids one connected piece."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    on = np.flatnonzero(worker_of >= 0)
    if not keep[on, worker_of[on]].all() or not _keeps_locks(p, worker_of):
        return False
    used = np.bincount(worker_of[on], weights=p.load[on, worker_of[on]], minlength=p.m)
    if np.any(used > p.capacity + 1e-9):
        return False
    a, b = p.edges[:, 0], p.edges[:, 1]
    same = (worker_of[a] >= 0) & (worker_of[a] == worker_of[b])
    graph = coo_matrix((np.ones(int(same.sum())), (a[same], b[same])), shape=(p.n, p.n))
    pieces = connected_components(graph, directed=False)[1][on]
    return len(np.unique(pieces)) == len(np.unique(worker_of[on]))


def _keeps_locks(p: _Problem, worker_of: np.ndarray) -> bool:
    locked = np.flatnonzero(p.lock_worker >= 0)
    return bool((worker_of[locked] == p.lock_worker[locked]).all())


def _covers_more(candidate: np.ndarray, incumbent: np.ndarray, weight: np.ndarray) -> bool:
    """Strictly more coverage, as CP-SAT weighs it (``weight``: what leaving each grid uncovered
    costs): coverage comes first; at equal coverage CP-SAT's plan also weighed balance, moves and
    cost, which region growing does not."""
    return int(weight[candidate < 0].sum()) < int(weight[incumbent < 0].sum())


def _cpsat_max_int(n: int, levels: int) -> int:
    # Each lexicographic level above cost multiplies the objective range by about n + 1.
    return int(max(1, min(10**7, _CPSAT_OBJECTIVE_MAX // (4 * (n + 1) ** (levels + 1)))))


def _load_scale(p: _Problem) -> float:
    values = np.concatenate([p.load[p.allowed], p.capacity[np.isfinite(p.capacity)]])
    return 1.0 if np.all(values == np.round(values)) else 1000.0


def _capacity_int(p: _Problem, load_scale: float) -> np.ndarray | None:
    if p.rule == "one" or not np.isfinite(p.capacity).any():
        return None
    top = float(p.load.sum()) * load_scale + 1
    cap = np.where(np.isfinite(p.capacity), p.capacity * load_scale, top)
    return np.floor(np.minimum(cap, top) + 1e-9).astype(np.int64)


def _cover_weight(p: _Problem, keep: np.ndarray, load_scale: float) -> np.ndarray:
    """Uncovering a grid costs its load first and one grid second (so zero loads still count)."""
    cheapest = np.where(keep, p.load, np.inf).min(axis=1, initial=np.inf)
    cheapest = np.where(np.isfinite(cheapest), cheapest, 0.0)
    return (np.ceil(cheapest * load_scale - 1e-9).astype(np.int64) * (p.n + 1) + 1)


def _greedy(p: _Problem, keep: np.ndarray) -> np.ndarray:
    """Cheapest worker with room, hardest grids first: a hint, and proof of full coverage."""
    room = np.where(np.isfinite(p.capacity), p.capacity, np.inf).astype(float)
    if p.rule == "one":
        room = np.ones(p.m)
    worker_of = np.full(p.n, -1, dtype=np.int64)
    order = np.lexsort((-p.load.max(axis=1), keep.sum(axis=1)))
    for i in order.tolist():
        need = p.load[i] if p.rule == "several" else np.ones(p.m)
        fits = keep[i] & (need <= room + 1e-9)
        if not fits.any():
            continue
        j = int(np.argmin(np.where(fits, p.cost[i], np.inf)))
        worker_of[i] = j
        room[j] -= need[j]
    return worker_of


def _balance_notes(p: _Problem, met: bool | None) -> list[str]:
    if p.balance is None:
        return []
    if met is None:
        return ["时限内未能确认负荷均衡 / balance could not be established within the time limit"]
    if met:
        return []
    return [f"无法在不减少覆盖的前提下使每位劳模负荷处于均值 ±{p.balance:.0%} 内，已放弃均衡约束 / "
            f"no plan keeps every used worker within ±{p.balance:.0%} of the mean load without "
            "uncovering grids: balance was dropped"]


# ----------------------------------------------------------------------------- result


def _finish(
    p: _Problem,
    worker_of: np.ndarray,
    status: Status,
    bound: float | None,
    algorithm: str,
    notes: tuple[str, ...],
    coverage_proven: bool,
    balance_met: bool | None,
    clock: Stopwatch,
) -> AllocationResult:
    covered = worker_of >= 0
    grids = np.flatnonzero(covered)
    pair_load = p.load[grids, worker_of[grids]]
    load_of = np.bincount(worker_of[grids], weights=pair_load, minlength=p.m)
    total = _total_load(p)
    reasons = explain(
        ExplainInput(p.rule, p.allowed, np.isfinite(p.cost), p.load, p.capacity, p.lock_worker,
                     p.edges is not None, coverage_proven),
        worker_of,
    )
    true_cost = _true_cost(p.cost, worker_of)
    status, gap, notes = _honest(status, true_cost, bound, notes)
    return AllocationResult(
        worker_of=_frozen(worker_of), status=status, cost=true_cost, bound=bound,
        gap=gap, moves=_moves(p.current, worker_of), uncovered=reasons,
        wall_s=clock.elapsed, algorithm=algorithm, load_of=_frozen(load_of),
        covered_load=float(pair_load.sum()), total_load=total, balance_met=balance_met,
        notes=notes,
    )


def _honest(status: Status, cost: float, bound: float | None,
            notes: tuple[str, ...]) -> tuple[Status, float | None, tuple[str, ...]]:
    """(status, gap, notes) with "optimal" kept only within PROOF_GAP of the bound: the proof is
    for the integer-rounded costs, and one outlying cost (1e12 for "never") can make the unit so
    coarse that ordinary costs round to 0 — the plan was then up to 5x the optimum."""
    gap = relative_gap(cost, bound)
    if status != "optimal" or gap is None or gap <= PROOF_GAP:
        return status, gap, notes
    return "feasible", gap, notes + (f"费用跨度过大，整数化后只能证明差距 {gap:.2%} / costs span too wide a range "
                                     f"for integer scaling: proven only within a gap of {gap:.2%}",)


def _total_load(p: _Problem) -> float:
    """Each grid's load with its lightest allowed worker (its own load when none is allowed)."""
    lightest = np.where(p.allowed, p.load, np.inf).min(axis=1, initial=np.inf)
    fallback = p.load.min(axis=1, initial=0.0)
    return float(np.where(np.isfinite(lightest), lightest, fallback).sum())


def _true_cost(cost: np.ndarray, worker_of: np.ndarray) -> float:
    grids = np.flatnonzero(worker_of >= 0)
    return float(cost[grids, worker_of[grids]].sum())


def _true_cost_sparse(coo: sp.coo_matrix, worker_of: np.ndarray) -> float:
    """Sum of the stored costs of the pairs the plan uses (pairs not stored add nothing)."""
    m = coo.shape[1]
    keys = coo.row.astype(np.int64) * m + coo.col
    if keys.size == 0:
        return 0.0
    order = np.argsort(keys)
    grids = np.flatnonzero(worker_of >= 0)
    want = grids * m + worker_of[grids]
    pos = np.minimum(np.searchsorted(keys, want, sorter=order), keys.size - 1)
    found = keys[order[pos]] == want
    return float(coo.data[order[pos[found]]].sum())


def _moves(current: np.ndarray | None, worker_of: np.ndarray) -> int:
    if current is None:
        return 0
    had = current >= 0
    return int((worker_of[had] != current[had]).sum())


def _is_exact(scale: IntegerScale, values: np.ndarray) -> bool:
    return scale.factor == 1.0 and bool(np.all(values == np.round(values)))


def _report(progress: ProgressCallback | None, phase: str, cost: float, bound: float | None) -> None:
    if progress is not None:
        progress("solution", {"phase": phase, "objective": cost, "bound": bound})


def _frozen(arr: np.ndarray) -> np.ndarray:
    out = np.array(arr, copy=True)
    out.setflags(write=False)
    return out
