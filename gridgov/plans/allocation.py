"""Solve a grid plan: apportion workers to wards, build each ward's arrays, solve wards in parallel."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from gridgov.geo.adjacency import adjacency_edges
from gridgov.geo.crs import to_metric
from gridgov.geo.measure import anchor_points_m, distance_matrix_m, polsby_popper
from gridgov.plans.roster import available_workers

Rule = Literal["one", "several", "auto"]
WardProgress = Callable[["WardOutcome", int, int], None]


@dataclass(frozen=True)
class AllocationOptions:
    """How a plan is solved; every field is stored with the plan so a plan can be re-run."""

    rule: Rule = "auto"
    contiguity: bool = True
    balance: float | None = None  # each territory's load within ±balance of the ward's mean
    home_ward_bonus_m: float = 1500.0  # 人熟、地熟: living in the ward counts as this much closer
    max_distance_m: float = 15000.0  # beyond this a worker is not eligible for a grid
    households_per_unit: float = 400.0  # one standard grid (标准网格) of load
    min_load: float = 0.25  # a grid is never less than this much work
    spare_factor: float = 1.15  # workers apportioned per ward beyond the bare capacity need
    time_limit: float = 10.0  # seconds per ward
    on: date | None = None  # availability date; today by default

    def to_params(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class WardProblem:
    """One ward's plain arrays: what the solver core sees, plus the codes to map answers back."""

    ward_code: str
    rule: Literal["one", "several"]
    grid_codes: tuple[str, ...]
    worker_ids: tuple[str, ...]
    cost: np.ndarray
    load: np.ndarray
    capacity: np.ndarray
    edges: np.ndarray | None
    current: np.ndarray | None
    locked: tuple[tuple[int, int], ...]
    balance: float | None
    time_limit: float


@dataclass(frozen=True)
class WardOutcome:
    """A solved ward: the core's result with the codes, per-territory measures and reasons."""

    ward_code: str
    rule: str
    assignment: dict[str, str | None]  # grid code -> worker id (None: uncovered)
    reasons: dict[str, str]  # grid code -> why it is uncovered
    status: str
    cost: float
    bound: float | None
    gap: float | None
    moves: int
    wall_s: float
    workers_used: int
    workers_pool: int
    contiguous_share: float | None = None
    compactness: dict[str, float] = field(default_factory=dict)
    loads: dict[str, float] = field(default_factory=dict)


def grid_loads(grids: pd.DataFrame, options: AllocationOptions) -> np.ndarray:
    """Workload of each grid in standard grids: households / 400, never below ``min_load``."""
    households = pd.to_numeric(grids["households"], errors="coerce").to_numpy(dtype=float)
    load = np.where(np.isnan(households), 1.0, households / options.households_per_unit)
    return np.maximum(load, options.min_load)


# -- apportionment -------------------------------------------------------------------------------
def apportion_workers(
    wards: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    workers: gpd.GeoDataFrame,
    options: AllocationOptions,
) -> dict[str, list[str]]:
    """Which workers each ward draws on: a min-cost flow of worker counts over neighbouring wards.

    Each ward needs enough workers for its load (or one per grid under 一格一劳模); a ward short
    of people draws on its neighbours' spare workers, nearest first. Workers nobody needs stay
    in their home ward's pool, so every available worker is in exactly one pool.
    """
    from ortools.graph.python import min_cost_flow

    codes = list(wards["code"])
    index = {c: i for i, c in enumerate(codes)}
    n = len(codes)
    home = workers["home_ward"].map(index)
    supply = np.bincount(home.dropna().astype(int), minlength=n)
    need = _worker_need(codes, grids, workers, options)
    anchors = anchor_points_m(wards)
    edges = adjacency_edges(wards.geometry, min_shared_m=50.0, snap_m=20.0)
    pairs = np.concatenate([edges, edges[:, ::-1], np.column_stack([np.arange(n)] * 2)])
    dist = np.hypot(*(anchors[pairs[:, 0]] - anchors[pairs[:, 1]]).T)

    source, sink = 0, 1
    flow = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([np.full(n, source), 2 + pairs[:, 0], 2 + n + np.arange(n)])
    heads = np.concatenate([2 + np.arange(n), 2 + n + pairs[:, 1], np.full(n, sink)])
    caps = np.concatenate([supply, supply[pairs[:, 0]], need])
    costs = np.concatenate([np.zeros(n), np.round(dist), np.zeros(n)]).astype(np.int64)
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps.astype(np.int64), costs)
    total = int(supply.sum())
    flow.set_nodes_supplies(np.array([source, sink]), np.array([total, -total]))
    flow.solve_max_flow_with_min_cost()
    moved = flow.flows(arcs[n : n + len(pairs)])
    return _pick_movers(codes, workers, anchors, pairs, moved)


def _worker_need(
    codes: list[str], grids: gpd.GeoDataFrame, workers: gpd.GeoDataFrame, options: AllocationOptions
) -> np.ndarray:
    mean_capacity = float(pd.to_numeric(workers["capacity"], errors="coerce").fillna(1.0).mean() or 1.0)
    load = pd.Series(grid_loads(grids, options), index=grids.index).groupby(grids["ward_code"]).sum()
    count = grids.groupby("ward_code").size()
    need = []
    for code in codes:
        by_load = math.ceil(options.spare_factor * float(load.get(code, 0.0)) / max(mean_capacity, 1e-9))
        need.append(int(count.get(code, 0)) if options.rule == "one" else by_load)
    return np.asarray(need, dtype=np.int64)


def _pick_movers(
    codes: list[str], workers: gpd.GeoDataFrame, anchors: np.ndarray, pairs: np.ndarray, moved: np.ndarray
) -> dict[str, list[str]]:
    pools: dict[str, list[str]] = {c: [] for c in codes}
    homes = anchor_points_m(workers) if len(workers) else np.empty((0, 2))
    by_home: dict[str, list[int]] = {}
    for i, code in enumerate(workers["home_ward"]):
        by_home.setdefault(code, []).append(i)
    ids = list(workers["worker_id"])
    taken: set[int] = set()
    for (src, dst), k in zip(pairs, moved):
        if src == dst or k == 0:
            continue
        candidates = [i for i in by_home.get(codes[src], []) if i not in taken]
        nearest = sorted(candidates, key=lambda i: float(np.hypot(*(homes[i] - anchors[dst]))))[: int(k)]
        taken.update(nearest)
        pools[codes[dst]].extend(ids[i] for i in nearest)
    for code in codes:
        pools[code].extend(ids[i] for i in by_home.get(code, []) if i not in taken)
    return pools


# -- one ward's arrays ---------------------------------------------------------------------------
def build_ward_problem(
    ward_code: str,
    grids: gpd.GeoDataFrame,
    pool: gpd.GeoDataFrame,
    options: AllocationOptions,
    *,
    current: dict[str, str] | None = None,
    locked: Iterable[tuple[str, str]] = (),
) -> WardProblem:
    """Arrays for one ward: metres from each pool worker's home to each grid, loads, capacities."""
    grid_codes = tuple(grids["code"])
    worker_ids = tuple(pool["worker_id"])
    dist = distance_matrix_m(anchor_points_m(grids), anchor_points_m(pool)) if len(pool) else np.zeros((len(grids), 0))
    local = (pool["home_ward"].to_numpy() == ward_code)[None, :]
    cost = np.where(local, np.maximum(dist - options.home_ward_bonus_m, 0.0), dist)
    cost = np.where(dist > options.max_distance_m, np.inf, cost)
    rule = options.rule
    if rule == "auto":
        rule = "one" if len(pool) >= len(grids) else "several"
    edges = adjacency_edges(grids.geometry) if options.contiguity and rule == "several" else None
    col = {w: j for j, w in enumerate(worker_ids)}
    row = {g: i for i, g in enumerate(grid_codes)}
    cur = None
    if current:
        cur = np.array([col.get(current.get(g, ""), -1) for g in grid_codes], dtype=np.int64)
    pins = tuple((row[g], col[w]) for g, w in locked if g in row and w in col)
    capacity = pd.to_numeric(pool["capacity"], errors="coerce").fillna(1.0).to_numpy(dtype=float)
    return WardProblem(
        ward_code=ward_code, rule=rule, grid_codes=grid_codes, worker_ids=worker_ids, cost=cost,
        load=grid_loads(grids, options), capacity=capacity, edges=edges, current=cur, locked=pins,
        balance=options.balance if rule == "several" else None, time_limit=options.time_limit,
    )


def solve_ward(problem: WardProblem) -> WardOutcome:
    """Solve one ward with the core; a pure function of its input, so any executor can run it."""
    from gridgov.solve import allocate

    n_workers = len(problem.worker_ids)
    if n_workers == 0:
        return _nobody(problem)
    result = allocate(
        problem.cost,
        load=problem.load if problem.rule == "several" else None,
        capacity=problem.capacity if problem.rule == "several" else None,
        rule=problem.rule,
        adjacency=problem.edges if problem.edges is not None and len(problem.edges) else None,
        current=problem.current,
        locked=list(problem.locked) or None,
        time_limit=problem.time_limit,
        balance=problem.balance,
    )
    worker_of = np.asarray(result.worker_of)
    assignment = {
        g: (problem.worker_ids[w] if w >= 0 else None) for g, w in zip(problem.grid_codes, worker_of)
    }
    reasons = {problem.grid_codes[int(u.grid)]: f"{u.reason} / {u.reason_en}" for u in result.uncovered}
    loads = np.bincount(worker_of[worker_of >= 0], weights=problem.load[worker_of >= 0], minlength=n_workers)
    used = np.unique(worker_of[worker_of >= 0])
    return WardOutcome(
        ward_code=problem.ward_code, rule=problem.rule, assignment=assignment, reasons=reasons,
        status=result.status, cost=float(result.cost), bound=result.bound, gap=result.gap,
        moves=int(result.moves), wall_s=float(result.wall_s), workers_used=int(used.size),
        workers_pool=n_workers,
        loads={problem.worker_ids[j]: round(float(loads[j]), 3) for j in used},
    )


def _nobody(problem: WardProblem) -> WardOutcome:
    """A ward whose pool is empty: every grid uncovered, with the reason a planner can act on."""
    reason = ("本街道及相邻街道没有可用劳模（在岗、未暂停）/ no available worker lives in this ward "
              "or its neighbours")
    return WardOutcome(
        ward_code=problem.ward_code, rule=problem.rule,
        assignment={g: None for g in problem.grid_codes}, reasons={g: reason for g in problem.grid_codes},
        status="feasible", cost=0.0, bound=0.0, gap=None, moves=0, wall_s=0.0,
        workers_used=0, workers_pool=0,
    )


def territory_measures(outcome: WardOutcome, grids: gpd.GeoDataFrame) -> WardOutcome:
    """Add contiguity share and Polsby-Popper compactness of each worker's territory."""
    if not outcome.loads:
        return outcome
    metric = to_metric(grids.set_index("code").geometry)
    edges = adjacency_edges(grids.geometry)
    position = {c: i for i, c in enumerate(grids["code"])}
    territories: dict[str, list[str]] = {}
    for g, w in outcome.assignment.items():
        if w is not None:
            territories.setdefault(w, []).append(g)
    n = len(grids)
    graph = sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    contiguous = 0
    compactness: dict[str, float] = {}
    for w, codes in territories.items():
        idx = [position[c] for c in codes]
        k, _ = connected_components(graph[idx][:, idx], directed=False)
        contiguous += int(k == 1)
        compactness[w] = round(polsby_popper(shapely.union_all(metric.loc[codes].to_numpy())), 3)
    return replace(outcome, contiguous_share=contiguous / len(territories), compactness=compactness)


# -- the whole scope -----------------------------------------------------------------------------
def solve_wards(
    problems: list[WardProblem],
    *,
    executor: Executor | None = None,
    progress: WardProgress | None = None,
) -> Iterator[WardOutcome]:
    """Solve independent wards through ``executor`` (threads by default), yielding as they finish."""
    own = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=2)
    try:
        futures = [pool.submit(solve_ward, p) for p in problems]
        from concurrent.futures import as_completed

        for done, fut in enumerate(as_completed(futures), start=1):
            outcome = fut.result()
            if progress:
                progress(outcome, done, len(problems))
            yield outcome
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)


def available_pool(workers: gpd.GeoDataFrame, options: AllocationOptions) -> gpd.GeoDataFrame:
    """Available workers with a home ward and a home point (others cannot be placed)."""
    ok = available_workers(workers, on=options.on)
    return ok[ok["home_ward"].notna() & ok.geometry.notna()]
