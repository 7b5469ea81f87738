"""Solve a grid plan: apportion workers to wards, build each ward's arrays, solve wards in parallel."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
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

from gridgov.errors import SolverError
from gridgov.geo.adjacency import adjacency_edges
from gridgov.geo.crs import to_metric
from gridgov.geo.measure import anchor_points_m, distance_matrix_m, polsby_popper
from gridgov.plans.roster import available_workers

Rule = Literal["one", "several", "auto"]
WardProgress = Callable[["WardOutcome", int, int], None]


def _setting(name: str) -> float:
    from gridgov.settings import get_settings

    return float(getattr(get_settings(), name))


@dataclass(frozen=True)
class AllocationOptions:
    """How a plan is solved; every field is stored with the plan so a plan can be re-run."""

    rule: Rule = "auto"
    ward_rules: Mapping[str, Rule] = field(default_factory=dict)  # per-ward rule, overriding ``rule``
    contiguity: bool = True
    balance: float | None = None  # each territory's load within ±balance of the ward's mean
    # 人熟、地熟: living in the ward counts as this much closer (GRIDGOV_HOME_WARD_BONUS_M)
    home_ward_bonus_m: float = field(default_factory=lambda: _setting("home_ward_bonus_m"))
    # Beyond this a worker is not eligible for a grid (GRIDGOV_MAX_ASSIGN_KM)
    max_distance_m: float = field(default_factory=lambda: _setting("max_assign_km") * 1000)
    households_per_unit: float = 400.0  # one standard grid (标准网格) of load
    min_load: float = 0.25  # a grid is never less than this much work
    spare_factor: float = 1.05  # capacity apportioned per ward beyond its load (measured: 1.05 covers more than 1.15 or 1.3)
    time_limit: float = 10.0  # seconds per ward
    on: date | None = None  # availability date; today by default

    def to_params(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else dict(v) if isinstance(v, Mapping) else v)
                for k, v in self.__dict__.items()}

    def rule_for(self, ward_code: str) -> Rule:
        return self.ward_rules.get(ward_code, self.rule)


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
    max_distance_m: float | None = None
    distance: np.ndarray | None = None  # metres home -> grid; ``cost`` has the home-ward bonus taken off


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
    distance_m: float = 0.0  # metres from each worker's home to their grids, summed
    contiguous_share: float | None = None
    compactness: dict[str, float] = field(default_factory=dict)
    loads: dict[str, float] = field(default_factory=dict)
    balance_met: bool | None = None  # None: no balance was asked for


def grid_loads(grids: pd.DataFrame, options: AllocationOptions) -> np.ndarray:
    """Workload of each grid in standard grids: households / 400, never below ``min_load``."""
    households = pd.to_numeric(grids["households"], errors="coerce").to_numpy(dtype=float)
    load = np.where(np.isnan(households), 1.0, households / options.households_per_unit)
    return np.maximum(load, options.min_load)


# -- apportionment -------------------------------------------------------------------------------
_UNITS = 100  # capacity and load are flowed in hundredths of a standard grid


def apportion_workers(
    wards: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    workers: gpd.GeoDataFrame,
    options: AllocationOptions,
    *,
    committed: Mapping[str, str] | None = None,
) -> dict[str, list[str]]:
    """Which workers each ward draws on: a min-cost flow of capacity from workers to wards.

    Each ward needs its grids' load (with ``spare_factor`` head-room; one worker per grid under
    一格一劳模). A worker's capacity may flow to any ward within ``max_distance_m`` of their
    home, costing the distance (their own ward costs nothing), so a ward short of people draws
    on the nearest spare capacity around it. The flow covers as much need as possible, then
    travels least. Each worker then joins the ward that took most of their capacity; workers
    nobody needs stay in their home ward's pool (when it is one of ``wards``).

    ``committed`` (worker id -> ward code) are workers already placed in one of ``wards`` (the
    holders of its grids in the published plan): they join that ward, their capacity counts
    against its need, and only the others flow.

    The flow is fractional and each worker joins one ward, so a ward whose share came from
    workers split with another ward can end up short; such a ward then takes, nearest first,
    reachable workers whose ward keeps its need without them, then, if still short of its bare
    load, whose ward keeps its bare load (measured on the demo city: 12 wards were left below
    their load while 1,774 standard grids of capacity stood spare, 61 grids uncovered with "the
    eligible workers' capacity is less than the load").
    """
    codes = list(wards["code"])
    index = {c: v for v, c in enumerate(codes)}
    present = set(workers["worker_id"])
    committed = {w: c for w, c in (committed or {}).items() if c in index and w in present}
    pools: dict[str, list[str]] = {c: [] for c in codes}
    for worker_id, code in committed.items():
        pools[code].append(worker_id)
    fixed = workers["worker_id"].isin(set(committed)).to_numpy()
    supply_all, need = _flow_sizes(codes, grids, workers, options)
    held = np.zeros(len(codes), dtype=np.int64)
    for worker_id, units in zip(workers["worker_id"][fixed], supply_all[fixed]):
        held[index[committed[worker_id]]] += units
    bare = np.maximum((np.floor(need / options.spare_factor) if options.rule != "one" else need) - held, 0)
    need = np.maximum(need - held, 0)
    free = workers[~fixed]
    supply = supply_all[~fixed]
    if free.empty:
        return pools
    w_idx, v_idx, dist = _reachable_wards(wards, free, options)
    sent = _capacity_flow(supply, need, w_idx, v_idx, dist)
    joined = _joined_wards(index, free, w_idx, v_idx, sent)
    # First to each ward's need with its head-room; then, for a ward still short of its bare
    # load (grids certain to go uncovered), from wards that keep their bare load.
    _make_up_shortfalls(joined, supply, need, w_idx, v_idx, dist)
    _make_up_shortfalls(joined, supply, bare, w_idx, v_idx, dist)
    for worker_id, v in zip(free["worker_id"], joined):
        if v >= 0:
            pools[codes[v]].append(worker_id)
    return pools


def _capacity_flow(
    supply: np.ndarray, need: np.ndarray, w_idx: np.ndarray, v_idx: np.ndarray, dist: np.ndarray
) -> np.ndarray:
    """Units sent along each (worker, ward) pair: as much need covered as possible, then the
    fewest metres travelled."""
    from ortools.graph.python import min_cost_flow

    n_workers, n_wards = len(supply), len(need)
    # Nodes: 0 source, 1 sink, 2.. workers, then wards.
    worker_node = 2 + np.arange(n_workers)
    ward_node = 2 + n_workers + np.arange(n_wards)
    flow = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([np.zeros(n_workers), worker_node[w_idx], ward_node]).astype(np.int64)
    heads = np.concatenate([worker_node, ward_node[v_idx], np.ones(n_wards)]).astype(np.int64)
    caps = np.concatenate([supply, supply[w_idx], need]).astype(np.int64)
    costs = np.concatenate([np.zeros(n_workers), np.round(dist), np.zeros(n_wards)]).astype(np.int64)
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    total = int(supply.sum())
    flow.set_nodes_supplies(np.array([0, 1]), np.array([total, -total]))
    if (status := flow.solve_max_flow_with_min_cost()) != flow.OPTIMAL:
        raise SolverError("各街道劳模名额分配", "apportioning workers to wards", status)
    return flow.flows(arcs[n_workers : n_workers + len(w_idx)])


def _flow_sizes(
    codes: list[str], grids: gpd.GeoDataFrame, workers: gpd.GeoDataFrame, options: AllocationOptions
) -> tuple[np.ndarray, np.ndarray]:
    """(supply per worker, need per ward) in flow units."""
    if options.rule == "one":
        count = grids.groupby("ward_code").size()
        return (np.full(len(workers), _UNITS, dtype=np.int64),
                np.array([int(count.get(c, 0)) * _UNITS for c in codes], dtype=np.int64))
    capacity = pd.to_numeric(workers["capacity"], errors="coerce").fillna(1.0).to_numpy(dtype=float)
    load = pd.Series(grid_loads(grids, options), index=grids.index).groupby(grids["ward_code"]).sum()
    need = [math.ceil(options.spare_factor * float(load.get(c, 0.0)) * _UNITS) for c in codes]
    return np.round(capacity * _UNITS).astype(np.int64), np.asarray(need, dtype=np.int64)


def _reachable_wards(
    wards: gpd.GeoDataFrame, workers: gpd.GeoDataFrame, options: AllocationOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(worker, ward, metres) for every ward within reach of a worker's home; own ward costs 0."""
    homes = to_metric(workers.geometry)
    areas = to_metric(wards.geometry)
    w_idx, v_idx = shapely.STRtree(areas.to_numpy()).query(
        homes.to_numpy(), predicate="dwithin", distance=options.max_distance_m
    )
    anchors = anchor_points_m(wards)
    home_xy = shapely.get_coordinates(homes.to_numpy())
    dist = np.hypot(*(home_xy[w_idx] - anchors[v_idx]).T)
    own = workers["home_ward"].to_numpy()[w_idx] == wards["code"].to_numpy()[v_idx]
    return w_idx, v_idx, np.where(own, 0.0, dist)


def _joined_wards(
    index: Mapping[str, int], workers: gpd.GeoDataFrame, w_idx: np.ndarray, v_idx: np.ndarray, sent: np.ndarray
) -> np.ndarray:
    """Per worker, the index of the ward that took most of their capacity; else their home
    ward's; -1 when that is not in ``index`` (ward code -> index)."""
    best_ward = np.full(len(workers), -1)
    best_flow = np.zeros(len(workers))
    for w, v, f in zip(w_idx, v_idx, sent):
        if f > best_flow[w]:
            best_flow[w], best_ward[w] = f, v
    home = workers["home_ward"].to_numpy()
    return np.array([v if v >= 0 else index.get(h, -1) for v, h in zip(best_ward, home)], dtype=np.int64)


def _make_up_shortfalls(
    joined: np.ndarray, supply: np.ndarray, need: np.ndarray, w_idx: np.ndarray, v_idx: np.ndarray, dist: np.ndarray
) -> None:
    """Move workers (in place) into wards whose pool falls short of their need, nearest first,
    from wards that keep their own need without them (or from no ward)."""
    pooled = np.bincount(joined[joined >= 0], weights=supply[joined >= 0], minlength=len(need))
    short = np.flatnonzero(pooled < need)
    for v in short[np.argsort(pooled[short] - need[short])]:  # the largest shortfall first
        reach = np.flatnonzero(v_idx == v)
        for k in reach[np.argsort(dist[reach], kind="stable")]:
            if pooled[v] >= need[v]:
                break
            w = w_idx[k]
            donor = joined[w]
            if donor == v or (donor >= 0 and pooled[donor] - supply[w] < need[donor]):
                continue
            if donor >= 0:
                pooled[donor] -= supply[w]
            joined[w] = v
            pooled[v] += supply[w]


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
    rule = options.rule_for(ward_code)
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
        max_distance_m=options.max_distance_m, distance=dist,
    )


def solve_ward(problem: WardProblem) -> WardOutcome:
    """Solve one ward with the core; a pure function of its input, so any executor can run it.

    With contiguity the core starts from region growing's connected plan and keeps it when the
    exact model covers less within the time limit (``allocate``); at equal coverage the exact
    model's plan stands, as it also weighed moves and balance.
    """
    from gridgov.solve import allocate

    if not problem.worker_ids:
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
    reasons = {problem.grid_codes[int(u.grid)]: _reason(u, problem) for u in result.uncovered}
    return _outcome(problem, worker_of, reasons, status=result.status, bound=result.bound, gap=result.gap,
                    wall_s=float(result.wall_s))


def _outcome(
    problem: WardProblem, worker_of: np.ndarray, reasons: dict[str, str], *,
    status: str, bound: float | None, gap: float | None, wall_s: float,
) -> WardOutcome:
    on = worker_of >= 0
    loads = np.bincount(worker_of[on], weights=problem.load[on], minlength=len(problem.worker_ids))
    used = np.unique(worker_of[on])
    pairs = (np.flatnonzero(on), worker_of[on])
    distance = problem.distance if problem.distance is not None else problem.cost
    moves = 0
    if problem.current is not None:
        held = problem.current >= 0
        moves = int((worker_of[held] != problem.current[held]).sum())
    return WardOutcome(
        ward_code=problem.ward_code, rule=problem.rule,
        assignment={g: (problem.worker_ids[w] if w >= 0 else None) for g, w in zip(problem.grid_codes, worker_of)},
        reasons=reasons, status=status, cost=float(problem.cost[pairs].sum()),
        bound=bound, gap=gap, moves=moves, wall_s=wall_s, workers_used=int(used.size),
        workers_pool=len(problem.worker_ids), distance_m=float(distance[pairs].sum()),
        loads={problem.worker_ids[j]: round(float(loads[j]), 3) for j in used},
        balance_met=_balance_met(loads[used], problem.balance),
    )


def _balance_met(loads: np.ndarray, tolerance: float | None) -> bool | None:
    """Every used worker's load within ±tolerance of the ward's mean load per used worker."""
    if tolerance is None or loads.size == 0:
        return None
    mean = float(loads.mean())
    return bool(np.all(np.abs(loads - mean) <= tolerance * mean + 1e-9))


def _reason(u: Any, problem: WardProblem) -> str:
    """The core's reason, in the planner's terms where the geography explains it better."""
    if u.code == "no_eligible_worker":
        km = _max_km(problem)
        return (f"{km:g} 公里内没有可用劳模（本街道的劳模池中）{REASON_SEPARATOR}no available worker in this "
                f"ward's pool lives within {km:g} km")
    return f"{u.reason}{REASON_SEPARATOR}{u.reason_en}"


# A stored reason is "中文 / English": one column of the plan, each view shows its language.
REASON_SEPARATOR = " / "


def reason_in(stored: Any, lang: str) -> str | None:
    """A stored reason in one language ("zh" or "en"; "both" keeps it whole): a street office's
    printed sheet and a Chinese map showed the English half too."""
    if not isinstance(stored, str) or not stored:
        return None  # none stored (a store's NULL comes back as NaN)
    if lang == "both":
        return stored
    zh, _, en = stored.partition(REASON_SEPARATOR)
    return (en or zh) if lang == "en" else zh


def _max_km(problem: WardProblem) -> float:
    return round(float(problem.max_distance_m or 0.0) / 1000, 1)


def _nobody(problem: WardProblem) -> WardOutcome:
    """A ward whose pool is empty: every grid uncovered, with the reason a planner can act on."""
    reason = ("本街道及相邻街道没有可用劳模（在岗、未暂停）" + REASON_SEPARATOR + "no available worker lives in this ward "
              "or its neighbours")
    return WardOutcome(
        ward_code=problem.ward_code, rule=problem.rule,
        assignment={g: None for g in problem.grid_codes}, reasons={g: reason for g in problem.grid_codes},
        status="feasible", cost=0.0, bound=0.0, gap=None, moves=0, wall_s=0.0,
        workers_used=0, workers_pool=0,
    )


def territory_measures(
    outcome: WardOutcome, grids: gpd.GeoDataFrame, *, edges: np.ndarray | None = None
) -> WardOutcome:
    """Add contiguity share and Polsby-Popper compactness of each worker's territory.

    ``edges``: the ward's grid adjacency when the caller has it already (the solve built it).
    """
    if not outcome.loads:
        return outcome
    metric = to_metric(grids.set_index("code").geometry)
    if edges is None:
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
