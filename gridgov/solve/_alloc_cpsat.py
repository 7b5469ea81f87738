"""CP-SAT model of the allocation: per-pair loads, capacities, contiguity, balance, locks, moves."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from ortools.sat.python import cp_model

from gridgov.solve.common import ProgressCallback, Stopwatch

_BALANCE_DEN = 1000  # balance tolerance is taken to 0.1 %


@dataclass(frozen=True)
class CpInput:
    """Integer data for the model: only eligible pairs appear (``rows``/``cols``)."""

    n: int
    m: int
    rule: str
    rows: np.ndarray
    cols: np.ndarray
    cost: np.ndarray  # int64 >= 0 per pair
    load: np.ndarray  # int64 >= 0 per pair
    capacity: np.ndarray | None  # int64 per worker; None = unlimited
    edges: np.ndarray | None  # (k, 2) undirected grid edges, i < j, unique
    current: np.ndarray | None  # (n,) worker or -1
    locked: np.ndarray  # indices into rows/cols of pinned pairs
    balance: float | None
    cover_weight: np.ndarray  # (n,) int64 >= 1: what leaving a grid uncovered costs
    full_cover_known: bool  # a heuristic already covered every grid
    hint: np.ndarray | None  # (n,) worker or -1


@dataclass(frozen=True)
class CpOutcome:
    """What CP-SAT found; ``cost_bound`` is a proven bound on the cost term, in integers."""

    worker_of: np.ndarray
    found: bool
    optimal: bool
    coverage_proven: bool
    cost_bound: int | None
    balance_met: bool | None
    phases: tuple[str, ...]
    # Coverage is a minimum, so leaving grids uncovered is always allowed: a proven infeasible
    # model means the locks themselves cannot stand together (contiguity within capacity).
    locks_infeasible: bool = False


class _Callback(cp_model.CpSolverSolutionCallback):
    """Forwards each improving solution to the caller's progress callback."""

    def __init__(self, progress: ProgressCallback, phase: str) -> None:
        super().__init__()
        self._progress = progress
        self._phase = phase

    def on_solution_callback(self) -> None:
        self._progress(
            "solution",
            {
                "phase": self._phase,
                "objective": self.objective_value,
                "bound": self.best_objective_bound,
                "wall_s": self.wall_time,
            },
        )


@dataclass
class _Model:
    model: cp_model.CpModel
    x: list[cp_model.IntVar]
    uncovered: list[cp_model.IntVar]
    balanced: cp_model.IntVar | None


def solve_cpsat(
    data: CpInput,
    *,
    time_limit: float,
    workers: int,
    progress: ProgressCallback | None,
) -> CpOutcome:
    """Coverage first (phase 1, skipped when a heuristic covered all), then balance, moves, cost."""
    clock = Stopwatch()
    built = _build(data)
    hint = data.hint
    phases: list[str] = []
    uncovered_limit = 0
    coverage_proven = True
    if not data.full_cover_known:
        weights = data.cover_weight.tolist()
        built.model.minimize(sum(w * u for w, u in zip(weights, built.uncovered, strict=True)))
        _set_hint(built, data, hint)
        status, solver = _solve(built.model, clock.remaining(time_limit) * 0.5, workers,
                                progress, "coverage")
        phases.append(f"coverage:{solver.status_name(status)}")
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return replace(_nothing(data, phases), locks_infeasible=status == cp_model.INFEASIBLE)
        coverage_proven = status == cp_model.OPTIMAL
        uncovered_limit = round(solver.objective_value)
        hint = _read(solver, built, data)
        built.model.add(
            sum(w * u for w, u in zip(weights, built.uncovered, strict=True)) <= uncovered_limit
        )
    else:
        for u in built.uncovered:
            built.model.add(u == 0)
    return _optimise(built, data, hint, clock, time_limit, workers, progress, phases,
                     coverage_proven)


def _optimise(
    built: _Model,
    data: CpInput,
    hint: np.ndarray | None,
    clock: Stopwatch,
    time_limit: float,
    workers: int,
    progress: ProgressCallback | None,
    phases: list[str],
    coverage_proven: bool,
) -> CpOutcome:
    cost_range = int(_per_grid_max(data).sum())
    w_moves = cost_range + 1
    cur_vars = _current_vars(built, data)
    w_balance = w_moves * (len(cur_vars) + 1)
    terms = [int(c) * x for c, x in zip(data.cost.tolist(), built.x, strict=True)]
    objective = sum(terms) + w_moves * (len(cur_vars) - sum(cur_vars))
    if built.balanced is not None:
        objective += w_balance * (1 - built.balanced)
    built.model.minimize(objective)
    _set_hint(built, data, hint)
    status, solver = _solve(built.model, clock.remaining(time_limit), workers, progress,
                            "optimise")
    phases.append(f"optimise:{solver.status_name(status)}")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if hint is None:
            return _nothing(data, phases)
        return CpOutcome(hint, True, False, coverage_proven, None, None, tuple(phases))
    worker_of = _read(solver, built, data)
    cost_term = int(sum(int(c) for c, x in zip(data.cost.tolist(), built.x, strict=True)
                        if solver.boolean_value(x)))
    prefix = round(solver.objective_value) - cost_term
    bound = math.ceil(solver.best_objective_bound - 1e-6)
    optimal = status == cp_model.OPTIMAL and coverage_proven
    # The cost bound holds among plans with the same coverage, balance and moves: only when
    # the solver's bound proves no plan improves those is it a bound on the cost itself.
    cost_bound = cost_term if optimal else (bound - prefix if bound >= prefix and coverage_proven
                                            else None)
    balance_met = None if built.balanced is None else solver.boolean_value(built.balanced)
    return CpOutcome(worker_of, True, optimal, coverage_proven, cost_bound, balance_met,
                     tuple(phases))


def _nothing(data: CpInput, phases: list[str]) -> CpOutcome:
    worker_of = np.full(data.n, -1, dtype=np.int64)
    worker_of[data.rows[data.locked]] = data.cols[data.locked]
    return CpOutcome(worker_of, False, False, False, None, None, tuple(phases))


def _solve(
    model: cp_model.CpModel,
    seconds: float,
    workers: int,
    progress: ProgressCallback | None,
    phase: str,
) -> tuple[int, cp_model.CpSolver]:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, seconds)
    solver.parameters.num_workers = workers
    callback = _Callback(progress, phase) if progress is not None else None
    status = solver.solve(model, callback)
    return status, solver


def _per_grid_max(data: CpInput) -> np.ndarray:
    top = np.zeros(data.n, dtype=np.int64)
    np.maximum.at(top, data.rows, data.cost)
    return top


def _current_vars(built: _Model, data: CpInput) -> list[cp_model.IntVar]:
    """x of the pair each grid has in the published plan (grids whose pair is gone are moves)."""
    if data.current is None:
        return []
    keep = data.current[data.rows] == data.cols
    missing = int((data.current >= 0).sum() - keep.sum())
    # Grids whose published worker is no longer eligible move for sure: a constant 1 each.
    ones = [built.model.new_constant(0) for _ in range(missing)]
    return [built.x[k] for k in np.flatnonzero(keep)] + ones


def _set_hint(built: _Model, data: CpInput, hint: np.ndarray | None) -> None:
    built.model.clear_hints()
    if hint is None:
        return
    for k, x in enumerate(built.x):
        built.model.add_hint(x, bool(hint[data.rows[k]] == data.cols[k]))
    for i, u in enumerate(built.uncovered):
        built.model.add_hint(u, bool(hint[i] < 0))


def _read(solver: cp_model.CpSolver, built: _Model, data: CpInput) -> np.ndarray:
    worker_of = np.full(data.n, -1, dtype=np.int64)
    chosen = np.array([solver.boolean_value(x) for x in built.x], dtype=bool)
    worker_of[data.rows[chosen]] = data.cols[chosen]
    return worker_of


def _build(data: CpInput) -> _Model:
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{k}") for k in range(data.rows.size)]
    uncovered = [model.new_bool_var(f"u{i}") for i in range(data.n)]
    by_grid = _group(data.rows, data.n)
    by_worker = _group(data.cols, data.m)
    for i in range(data.n):
        model.add_exactly_one([x[k] for k in by_grid[i]] + [uncovered[i]])
    for k in data.locked.tolist():
        model.add(x[k] == 1)
    for j in range(data.m):
        _add_capacity(model, data, x, by_worker[j], j)
    balanced = None
    if data.balance is not None and data.rule == "several":
        balanced = _add_balance(model, data, x, by_worker)
    if data.edges is not None and data.rule == "several":
        neighbours = _neighbours(data.edges, data.n)
        for j in range(data.m):
            _add_contiguity(model, data, x, by_worker[j], neighbours)
    return _Model(model, x, uncovered, balanced)


def _group(keys: np.ndarray, size: int) -> list[list[int]]:
    groups: list[list[int]] = [[] for _ in range(size)]
    for k, key in enumerate(keys.tolist()):
        groups[key].append(k)
    return groups


def _add_capacity(
    model: cp_model.CpModel, data: CpInput, x: list[cp_model.IntVar], pairs: list[int], j: int
) -> None:
    if not pairs:
        return
    if data.rule == "one":
        model.add_at_most_one([x[k] for k in pairs])
        return
    if data.capacity is None:
        return
    loads = data.load[pairs]
    if int(loads.sum()) <= int(data.capacity[j]):
        return  # the worker can take every grid it is eligible for: no constraint needed
    model.add(sum(int(w) * x[k] for w, k in zip(loads.tolist(), pairs, strict=True))
              <= int(data.capacity[j]))


def _add_balance(
    model: cp_model.CpModel, data: CpInput, x: list[cp_model.IntVar], by_worker: list[list[int]]
) -> cp_model.IntVar:
    """Each used worker's load within ±tol of the mean load per used worker, while ``balanced``.

    load_j * U (U = number of used workers) is compared with (1 ± tol) * total load, which
    keeps the mean exact without division; ``balanced`` is false only when that is impossible
    (the objective prefers it true just below coverage).
    """
    balanced = model.new_bool_var("balanced")
    tol = int(round(float(data.balance) * _BALANCE_DEN))
    total_max = int(data.load.sum())
    used = []
    loads = []
    for j, pairs in enumerate(by_worker):
        if not pairs:
            continue
        u = model.new_bool_var(f"used{j}")
        for k in pairs:
            model.add_implication(x[k], u)
        model.add_bool_or([x[k] for k in pairs]).only_enforce_if(u)
        load_j = model.new_int_var(0, int(data.load[pairs].sum()), f"load{j}")
        model.add(load_j == sum(int(w) * x[k] for w, k in zip(data.load[pairs].tolist(), pairs,
                                                              strict=True)))
        used.append(u)
        loads.append(load_j)
    count = model.new_int_var(0, len(used), "used")
    model.add(count == sum(used))
    total = model.new_int_var(0, total_max, "total")
    model.add(total == sum(loads))
    for u, load_j in zip(used, loads, strict=True):
        prod = model.new_int_var(0, total_max * len(used), "")
        model.add_multiplication_equality(prod, [load_j, count])
        model.add(_BALANCE_DEN * prod <= (_BALANCE_DEN + tol) * total).only_enforce_if(
            [u, balanced])
        model.add(_BALANCE_DEN * prod >= (_BALANCE_DEN - tol) * total).only_enforce_if(
            [u, balanced])
    return balanced


def _neighbours(edges: np.ndarray, n: int) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges.tolist():
        out[a].append(b)
    return out


def _add_contiguity(
    model: cp_model.CpModel,
    data: CpInput,
    x: list[cp_model.IntVar],
    pairs: list[int],
    neighbours: list[list[int]],
) -> None:
    """One connected territory: a flow from one root reaches every grid the worker takes.

    Flow runs only along edges between grids eligible for this worker and only when both
    ends are taken, so the taken grids are connected through taken grids.
    """
    if len(pairs) <= 1:
        return
    local = {int(data.rows[k]): k for k in pairs}
    size = len(pairs)
    edges = [(a, b) for a in local for b in neighbours[a] if b in local]
    roots = {g: model.new_bool_var("") for g in local}
    model.add(sum(roots.values()) <= 1)
    net: dict[int, list] = {g: [] for g in local}
    for a, b in edges:
        for s, t in ((a, b), (b, a)):
            f = model.new_int_var(0, size - 1, "")
            model.add(f <= (size - 1) * x[local[s]])
            model.add(f <= (size - 1) * x[local[t]])
            net[t].append(f)
            net[s].append(-f)
    for g, k in local.items():
        model.add_implication(roots[g], x[k])
        supply = model.new_int_var(0, size, "")
        model.add(supply <= size * roots[g])
        model.add(sum(net[g]) + supply == x[k])
