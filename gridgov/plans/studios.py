"""Mediation studios (劳模调解工作室): dispute hotspots, studio placement per dispute type, staffing by sector."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from gridgov.errors import NotFoundError, SolverError, UserError
from gridgov.geo.crs import to_storage
from gridgov.geo.adjacency import adjacency_matrix
from gridgov.geo.hotspots import GiStar, IncidentCounts, count_incidents, gi_star, star_weights
from gridgov.geo.measure import anchor_points_m, distance_matrix_m
from gridgov.plans.allocation import AllocationOptions, grid_loads
from gridgov.plans.roster import available_workers
from gridgov.plans.versions import plan_assignment, published_plan, save_plan
from gridgov.schema import DISPUTE_TYPES
from gridgov.store import SqlStore

SiteModel = Literal["median", "coverage", "cover-all"]
Priority = Literal["grids-first", "studios-first"]
Progress = Callable[[str, dict], None]

# The 人民调解 types that the legal professions (司法、公安、检察、法院) mediate.
LEGAL_TYPES: tuple[str, ...] = (
    "合同", "损害赔偿", "征地拆迁", "房屋宅基地", "山林土地", "道路交通事故",
    "医疗", "消费", "生产经营", "环境污染", "其它",
)

# Which dispute types a worker of each sector (workers.sector) may mediate. The one place this
# mapping lives; pass ``StudioOptions(sector_types=...)`` to override it. Sectors missing here
# (教育, 医疗, 农业, 企业, 其他) staff no studio unless an override names them.
SECTOR_TYPES: dict[str, tuple[str, ...]] = {
    "司法": LEGAL_TYPES,
    "公安": LEGAL_TYPES,
    "检察": LEGAL_TYPES,
    "法院": LEGAL_TYPES,
    "人社": ("劳动争议",),
    "社会工作": ("婚姻家庭", "邻里"),
    "住建": ("物业",),
}

# Site kinds (sites.kind) where a 劳动争议 studio is welcome: workplaces and worker centres.
LABOUR_SITE_KINDS: tuple[str, ...] = ("园区服务站", "企业", "职工之家")
LABOUR = "劳动争议"
GRID_SITE_PREFIX = "grid:"  # site ids of candidates made from grid representative points


@dataclass(frozen=True)
class StudioOptions:
    """How studios are placed and staffed; every field is stored with the plan (``to_params``)."""

    types: tuple[str, ...] = DISPUTE_TYPES
    joint: bool = True  # one model over the summed weights; False: one model per type
    model: SiteModel = "median"
    count: int | None = None  # studios in total per model, existing ones included
    radius_m: float | None = None  # coverage / cover-all: the service radius
    keep_existing: bool = True  # existing sites (sites.existing) stay open
    start: date | None = None
    end: date | None = None
    months: tuple[str, ...] | None = None  # "YYYY-MM"
    # 劳动争议 demand counts distances to workplace sites as this share (median model only; the
    # reported distances are always true metres).
    labour_site_factor: float = 0.8
    labour_site_kinds: tuple[str, ...] = LABOUR_SITE_KINDS
    report_radius_m: float = 2000.0  # "within radius" share when the model has no radius
    seats: int = 2  # mediators per studio
    seat_cost: float = 0.5  # capacity a seat takes, in standard grids (400 households)
    travel_limit_km: float = 10.0  # home to studio, straight line
    priority: Priority = "grids-first"
    sector_types: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(SECTOR_TYPES))
    time_limit: float = 30.0  # seconds per model
    on: date | None = None  # availability date; today by default

    def to_params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, Mapping):
                value = {k: list(v) for k, v in value.items()}
            elif isinstance(value, tuple):
                value = list(value)
            out[key] = value
        return out


# -- hotspots for the CLI / API -------------------------------------------------------------------
@dataclass(frozen=True)
class GridHot:
    grid_code: str
    name: str
    count: int
    z: float
    level: int  # 99/95/90 hot, negative cold, 0 none


@dataclass(frozen=True)
class TypeHotspots:
    """One dispute type (or "合计" for all chosen together): its busiest grids and Gi* classes."""

    type: str
    total: int
    outside: int
    hot: dict[int, int]  # confidence -> grids in exactly that hot class
    cold: dict[int, int]
    top: tuple[GridHot, ...]


def hotspot_report(
    store: SqlStore,
    *,
    types: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    months: Iterable[str] | None = None,
    top: int = 5,
) -> tuple[tuple[TypeHotspots, ...], IncidentCounts]:
    """Per type with incidents in the window: top grids by count and Gi* hot/cold spot counts."""
    grids = _grids(store)
    chosen = _check_types(types) if types else DISPUTE_TYPES
    counts = count_incidents(store.load("incidents"), grids, types=chosen, start=start, end=end, months=months)
    weights = star_weights(adjacency_matrix(grids.geometry))  # once, shared by every type
    names = grids["name"].fillna(grids["code"]).tolist()
    rows = []
    for t in [t for t in chosen if counts.of([t]).sum() > 0]:
        values = counts.of([t])
        gi = gi_star(values.astype(float), weights)
        rows.append(_type_row(t, values, gi, counts.outside_by_type.get(t, 0), counts.grid_codes, names, top))
    return tuple(rows), counts


def _type_row(
    label: str, values: np.ndarray, gi: GiStar, outside: int, codes: tuple[str, ...], names: list[str], top: int
) -> TypeHotspots:
    order = np.lexsort((-gi.z, -values))[:top]  # by count, ties by z
    return TypeHotspots(
        type=label, total=int(values.sum()), outside=outside,
        hot={c: int((gi.level == c).sum()) for c in (99, 95, 90)},
        cold={c: int((gi.level == -c).sum()) for c in (99, 95, 90)},
        top=tuple(GridHot(codes[i], names[i], int(values[i]), round(float(gi.z[i]), 3), int(gi.level[i])) for i in order if values[i] > 0),
    )


# -- inputs ---------------------------------------------------------------------------------------
def _grids(store: SqlStore) -> gpd.GeoDataFrame:
    grids = store.load("grids")
    if grids.empty:
        raise UserError("数据库中没有网格，请先导入网格或运行 gridgov demo", "the store has no grids: import some or run gridgov demo")
    return grids


def _check_types(types: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(types))
    unknown = [t for t in chosen if t not in DISPUTE_TYPES]
    if unknown:
        raise UserError(
            f"未知纠纷类型：{'、'.join(unknown)}（可选：{'、'.join(DISPUTE_TYPES)}）",
            f"unknown dispute types: {', '.join(unknown)} (choose from: {', '.join(DISPUTE_TYPES)})",
        )
    if not chosen:
        raise UserError("至少选择一种纠纷类型", "choose at least one dispute type")
    return chosen


@dataclass(frozen=True)
class Candidates:
    """Candidate studio sites as arrays: imported sites, or grid representative points."""

    site_ids: tuple[str, ...]
    names: tuple[str, ...]
    kinds: tuple[str | None, ...]
    types: tuple[frozenset[str] | None, ...]  # None: may take any type
    capacity: np.ndarray  # nan: no limit given
    existing: np.ndarray  # bool
    xy: np.ndarray  # (n, 2) metres, EPSG:4547
    lonlat: np.ndarray  # (n, 2) EPSG:4490


def candidate_sites(sites: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> Candidates:
    """The sites layer when it holds located points; otherwise one candidate per grid."""
    sites = sites[sites.geometry.notna()] if len(sites) else sites
    if len(sites):
        lonlat = np.column_stack([to_storage(sites.geometry).x, to_storage(sites.geometry).y])
        return Candidates(
            site_ids=tuple(sites["site_id"]), names=tuple(sites["name"].fillna(sites["site_id"])),
            kinds=tuple(None if pd.isna(k) else k for k in sites["kind"]),
            types=tuple(frozenset(t) if isinstance(t, (list, tuple)) and t else None for t in sites["types"]),
            capacity=pd.to_numeric(sites["capacity"], errors="coerce").to_numpy(dtype=float),
            existing=sites["existing"].fillna(False).astype(bool).to_numpy(),
            xy=anchor_points_m(sites), lonlat=lonlat,
        )
    xy = anchor_points_m(grids)
    pts = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:4547").to_crs("EPSG:4490")
    n = len(grids)
    return Candidates(
        site_ids=tuple(GRID_SITE_PREFIX + c for c in grids["code"]),
        names=tuple(grids["name"].fillna(grids["code"])), kinds=(None,) * n, types=(None,) * n,
        capacity=np.full(n, np.nan), existing=np.zeros(n, dtype=bool), xy=xy,
        lonlat=np.column_stack([pts.x, pts.y]),
    )


# -- placement ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Placement:
    """One model's answer (one type, or all chosen types jointly), in store codes."""

    types: tuple[str, ...]
    open: tuple[int, ...]  # candidate positions
    served: dict[str, int]  # grid code -> candidate position (served demand only)
    unserved: tuple[str, ...]  # grids with disputes that no open studio serves
    weight: dict[str, float]  # grid code -> disputes (demand grids only)
    distance_m: dict[str, float]  # grid code -> metres to its studio (served only)
    status: str
    objective: float
    bound: float | None
    gap: float | None
    wall_s: float
    covered_weight: float


def _labour_factor(group: tuple[str, ...], counts: IncidentCounts, keep: np.ndarray, cand: Candidates,
                   mask: np.ndarray, options: StudioOptions) -> np.ndarray:
    """(n_demand, n_sites) distance multipliers: the labour share of each grid's weight is discounted."""
    factor = np.ones((int(keep.sum()), int(mask.sum())))
    if LABOUR not in group or options.model != "median" or options.labour_site_factor == 1.0:
        return factor
    share = counts.of([LABOUR])[keep] / np.maximum(counts.of(group)[keep], 1)
    workplace = np.array([k in options.labour_site_kinds for k in np.asarray(cand.kinds, dtype=object)[mask]])
    # Σ_t w_it d_ij f_jt = d_ij w_i (1 − share_i (1 − f_j)) with f_j the workplace factor.
    return 1.0 - np.outer(share, np.where(workplace, 1.0 - options.labour_site_factor, 0.0))


def _site_mask(cand: Candidates, group: tuple[str, ...]) -> np.ndarray:
    return np.array([t is None or bool(t & set(group)) for t in cand.types], dtype=bool)


def _check_counts(options: StudioOptions, n_fixed: int, n_sites: int, label: str) -> None:
    if options.model in ("median", "coverage"):
        if options.count is None:
            raise UserError(f"{options.model} 模型需要工作室数量 --count", f"the {options.model} model needs --count")
        if options.count < 1:
            raise UserError(f"工作室数量 --count 至少为 1（收到 {options.count}）", f"--count must be at least 1 (got {options.count})")
        if options.count < n_fixed:
            raise UserError(
                f"{label}：已建成工作室 {n_fixed} 个，多于 --count {options.count}；增大数量或使用 --no-keep-existing",
                f"{label}: {n_fixed} existing studios exceed --count {options.count}; raise it or use --no-keep-existing",
            )
        if options.count > n_sites:
            raise UserError(f"{label}：候选站点只有 {n_sites} 个，少于 --count {options.count}",
                            f"{label}: only {n_sites} candidate sites for --count {options.count}")
    if options.model in ("coverage", "cover-all") and not (options.radius_m and options.radius_m > 0):
        raise UserError(f"{options.model} 模型需要服务半径 --radius", f"the {options.model} model needs --radius")


def place_group(
    group: tuple[str, ...],
    counts: IncidentCounts,
    demand_xy: np.ndarray,
    cand: Candidates,
    options: StudioOptions,
    *,
    progress: Progress | None = None,
) -> Placement | None:
    """Solve one placement model for ``group``; None when the group has no disputes in the window."""
    from gridgov.solve import place_sites

    weight_all = counts.of(group).astype(float)
    keep = weight_all > 0
    if not keep.any():
        return None
    mask = _site_mask(cand, group)
    positions = np.flatnonzero(mask)
    fixed = np.flatnonzero(cand.existing[mask]) if options.keep_existing else np.empty(0, dtype=np.int64)
    _check_counts(options, len(fixed), len(positions), "、".join(group) if len(group) < 4 else f"{len(group)} 类")
    weight = weight_all[keep]
    true_d = distance_matrix_m(demand_xy[keep], cand.xy[mask])
    distance = true_d * _labour_factor(group, counts, keep, cand, mask, options)
    capacity = cand.capacity[mask]
    # Site capacities bind the median model only (the capacitated p-median); a site without one
    # may take every dispute of the group.
    has_cap = options.model == "median" and bool(np.isfinite(capacity).any())
    result = place_sites(
        distance, weight=weight, p=options.count if options.model != "cover-all" else None,
        model=options.model, radius=options.radius_m, fixed=fixed if len(fixed) else None,
        capacity=np.where(np.isfinite(capacity), capacity, weight.sum()) if has_cap else None,
        load=weight if has_cap else None, time_limit=options.time_limit, progress=progress,
    )
    codes = np.asarray(counts.grid_codes)[keep]
    site_of = np.asarray(result.site_of)
    served = {str(c): int(positions[s]) for c, s in zip(codes, site_of) if s >= 0}
    dist = {str(c): round(float(true_d[i, s]), 1) for i, (c, s) in enumerate(zip(codes, site_of)) if s >= 0}
    return Placement(
        types=group, open=tuple(int(positions[j]) for j in np.asarray(result.open)), served=served,
        unserved=tuple(str(c) for c, s in zip(codes, site_of) if s < 0),
        weight={str(c): float(w) for c, w in zip(codes, weight)}, distance_m=dist,
        status=str(result.status), objective=float(result.objective),
        bound=None if result.bound is None else float(result.bound),
        gap=None if result.gap is None else float(result.gap), wall_s=float(result.wall_s),
        covered_weight=float(result.covered_weight),
    )


# -- staffing -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Seat:
    worker_id: str
    sector: str
    km: float


@dataclass(frozen=True)
class Staffing:
    """Seats per studio (candidate position) and what was short."""

    seats: dict[int, tuple[Seat, ...]]
    unfilled: dict[int, int]
    leftover: dict[str, float]  # worker id -> capacity free for studios before staffing
    eligible_workers: int


def fits(sector: str | None, types: Iterable[str], sector_types: Mapping[str, Iterable[str]]) -> bool:
    """True when a worker of ``sector`` may mediate at least one of ``types``."""
    return bool(sector) and bool(set(sector_types.get(str(sector), ())) & set(types))


def grid_plan_loads(store: SqlStore, grids: gpd.GeoDataFrame) -> dict[str, float]:
    """worker id -> load (standard grids) they carry in the published grid plan (empty if none)."""
    plan = published_plan(store, kind="grid")
    if plan is None:
        return {}
    params = plan.get("params") or {}
    opts = AllocationOptions(**{k: params[k] for k in ("households_per_unit", "min_load") if k in params})
    load_of = dict(zip(grids["code"], grid_loads(grids, opts)))
    loads: dict[str, float] = {}
    for g, w in plan_assignment(store, int(plan["plan_id"])).items():
        if w is not None:
            loads[w] = loads.get(w, 0.0) + float(load_of.get(g, 0.0))
    return loads


def free_capacity(workers: gpd.GeoDataFrame, grid_load: Mapping[str, float], priority: Priority) -> dict[str, float]:
    """Capacity a worker can give to studios: all of it (studios-first) or what the grid plan leaves."""
    cap = pd.to_numeric(workers["capacity"], errors="coerce").fillna(1.0)
    used = workers["worker_id"].map(lambda w: grid_load.get(w, 0.0)) if priority == "grids-first" else 0.0
    return dict(zip(workers["worker_id"], np.maximum(cap - used, 0.0)))


def staff_studios(
    studio_types: Mapping[int, tuple[str, ...]],
    cand: Candidates,
    workers: gpd.GeoDataFrame,
    leftover: Mapping[str, float],
    options: StudioOptions,
) -> Staffing:
    """Seat workers at studios: most seats filled, then least total travel (a min-cost flow).

    source → worker (capacity: seats their free capacity pays for) → studio (capacity 1: one
    seat per worker and studio; cost: metres, only if the sector fits and within the travel
    limit) → sink (capacity: ``options.seats``).
    """
    from ortools.graph.python import min_cost_flow

    studios = sorted(studio_types)
    ids = list(workers["worker_id"])
    sectors = list(workers["sector"])
    units = np.array([math.floor(leftover.get(w, 0.0) / options.seat_cost + 1e-9) if options.seat_cost > 0 else options.seats * len(studios) for w in ids], dtype=np.int64)
    dist = distance_matrix_m(anchor_points_m(workers), cand.xy[studios]) if ids and studios else np.zeros((len(ids), len(studios)))
    ok = (dist <= options.travel_limit_km * 1000.0) & (units[:, None] > 0)
    ok &= np.array([[fits(s, studio_types[j], options.sector_types) for j in studios] for s in sectors], dtype=bool).reshape(ok.shape)
    wi, sj = np.nonzero(ok)
    n_w, n_s = len(ids), len(studios)
    source, sink = n_w + n_s, n_w + n_s + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([np.full(n_w, source), wi, n_w + np.arange(n_s)]).astype(np.int64)
    heads = np.concatenate([np.arange(n_w), n_w + sj, np.full(n_s, sink)]).astype(np.int64)
    caps = np.concatenate([units, np.ones(len(wi)), np.full(n_s, options.seats)]).astype(np.int64)
    costs = np.concatenate([np.zeros(n_w), np.round(dist[wi, sj]), np.zeros(n_s)]).astype(np.int64)
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    # solve_max_flow_with_min_cost treats supplies as limits, so they need not balance.
    flow.set_nodes_supplies(np.array([source, sink]), np.array([int(units.sum()), -options.seats * n_s]))
    if len(wi):
        if (status := flow.solve_max_flow_with_min_cost()) != flow.OPTIMAL:
            raise SolverError("调解工作室人员配置", "staffing the studios", status)
        used = flow.flows(arcs[n_w : n_w + len(wi)]) > 0
    else:
        used = np.zeros(0, dtype=bool)
    seats: dict[int, list[Seat]] = {j: [] for j in studios}
    for i, k in zip(wi[used], sj[used]):
        seats[studios[k]].append(Seat(ids[i], str(sectors[i]), round(float(dist[i, k]) / 1000, 2)))
    return Staffing(
        seats={j: tuple(sorted(s, key=lambda x: x.km)) for j, s in seats.items()},
        unfilled={j: options.seats - len(s) for j, s in seats.items() if len(s) < options.seats},
        leftover={w: round(float(leftover.get(w, 0.0)), 3) for w in ids},
        eligible_workers=int(len(np.unique(wi))),
    )


def staffable_workers(store: SqlStore, options: StudioOptions) -> gpd.GeoDataFrame:
    """Workers available on ``options.on`` with a home point (the others cannot travel anywhere)."""
    workers = available_workers(store.load("workers"), on=options.on)
    return workers[workers.geometry.notna()]


# -- the use case ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class StudioOutcome:
    plan_id: int
    placements: tuple[Placement, ...]
    staffing: Staffing
    summary: dict[str, Any]


def place_studios(
    store: SqlStore,
    *,
    options: StudioOptions,
    actor: str = "cli",
    progress: Progress | None = None,
) -> StudioOutcome:
    """Place studios for the chosen types, staff them, and store a draft plan of kind "studio"."""
    types = _check_types(options.types)
    if options.seats < 0 or options.seat_cost < 0 or options.travel_limit_km < 0:
        raise UserError("席位数、席位占用和通勤上限不能为负", "seats, seat cost and travel limit cannot be negative")
    grids = _grids(store)
    counts = count_incidents(store.load("incidents"), grids, types=types, start=options.start, end=options.end, months=options.months)
    cand = candidate_sites(store.load("sites"), grids)
    demand_xy = anchor_points_m(grids)
    groups = [types] if options.joint else [(t,) for t in types]
    placements = tuple(p for g in groups if (p := place_group(g, counts, demand_xy, cand, options, progress=progress)))
    if not placements:
        raise UserError("所选时间段内没有所选类型的矛盾纠纷，无法布局工作室",
                        "no disputes of the chosen types in the chosen window: nothing to place studios for")
    studio_types = _studio_types(placements, cand)
    workers = staffable_workers(store, options)
    leftover = free_capacity(workers, grid_plan_loads(store, grids), options.priority)
    staffing = staff_studios(studio_types, cand, workers, leftover, options)
    summary = studio_plan_summary(placements, staffing, studio_types, cand, counts, options)
    plan_id = save_plan(
        store, kind="studio", rule=options.model, params=options.to_params(), scope=None,
        assignment={}, reasons={}, solver_status=_worst_status(placements),
        objective=sum(p.objective for p in placements),
        bound=None if any(p.bound is None for p in placements) else sum(p.bound for p in placements),  # type: ignore[misc]
        summary=summary, actor=actor,
    )
    return StudioOutcome(plan_id, placements, staffing, summary)


def _studio_types(placements: Iterable[Placement], cand: Candidates) -> dict[int, tuple[str, ...]]:
    """Per open candidate: the types it serves (the placement's types it accepts)."""
    out: dict[int, list[str]] = {}
    for p in placements:
        for j in p.open:
            accepts = cand.types[j]
            out.setdefault(j, []).extend(t for t in p.types if accepts is None or t in accepts)
    return {j: tuple(dict.fromkeys(t)) for j, t in out.items()}


def _worst_status(placements: Iterable[Placement]) -> str:
    order = ["infeasible", "unknown", "feasible", "optimal"]
    return min((p.status for p in placements), key=lambda s: order.index(s) if s in order else 0, default="optimal")


def _group_key(types: tuple[str, ...]) -> str:
    return "+".join(types)


def _within(p: Placement, radius: float) -> float:
    return sum(p.weight[g] for g, d in p.distance_m.items() if d <= radius)


def studio_plan_summary(
    placements: tuple[Placement, ...],
    staffing: Staffing,
    studio_types: Mapping[int, tuple[str, ...]],
    cand: Candidates,
    counts: IncidentCounts,
    options: StudioOptions,
) -> dict[str, Any]:
    """The plan's JSON: per studio (site, types, demand, distance, staff), grid → site, totals."""
    radius = options.radius_m or options.report_radius_m
    studios = [_studio_entry(j, placements, staffing, studio_types, cand, radius) for j in sorted(studio_types)]
    total = sum(sum(p.weight.values()) for p in placements)
    within = sum(_within(p, radius) for p in placements)
    filled = sum(len(s) for s in staffing.seats.values())
    return {
        "model": options.model, "types": list(options.types), "joint": options.joint,
        "priority": options.priority, "radius_m": radius,
        "window": {"start": _iso(options.start), "end": _iso(options.end), "months": list(options.months or [])},
        "studios": studios,
        "served": {_group_key(p.types): {g: cand.site_ids[j] for g, j in p.served.items()} for p in placements},
        "unserved": {_group_key(p.types): list(p.unserved) for p in placements if p.unserved},
        "placements": [
            {"types": list(p.types), "status": p.status, "objective": round(p.objective, 3),
             "bound": p.bound, "gap": p.gap, "wall_s": round(p.wall_s, 3),
             "covered_weight": p.covered_weight, "disputes": sum(p.weight.values())}
            for p in placements
        ],
        "totals": {
            "studios": len(studios), "existing": sum(s["existing"] for s in studios),
            "new": sum(not s["existing"] for s in studios), "disputes": total,
            "within_radius_share": round(within / total, 4) if total else None,
            "seats": options.seats * len(studios), "seats_filled": filled,
            "eligible_workers": staffing.eligible_workers,
            "incidents_outside_grids": counts.outside, "incidents_unlocated": counts.unlocated,
        },
    }


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _studio_entry(
    j: int, placements: tuple[Placement, ...], staffing: Staffing,
    studio_types: Mapping[int, tuple[str, ...]], cand: Candidates, radius: float,
) -> dict[str, Any]:
    served = [(p, g) for p in placements for g, s in p.served.items() if s == j]
    disputes = sum(p.weight[g] for p, g in served)
    weighted = sum(p.weight[g] * p.distance_m[g] for p, g in served)
    return {
        "site_id": cand.site_ids[j], "name": cand.names[j], "kind": cand.kinds[j],
        "existing": bool(cand.existing[j]), "types": list(studio_types[j]),
        "lon": round(float(cand.lonlat[j, 0]), 6), "lat": round(float(cand.lonlat[j, 1]), 6),
        "grids": len({g for _, g in served}), "disputes": disputes,
        "weighted_km": round(weighted / 1000, 3),
        "mean_km": round(weighted / disputes / 1000, 3) if disputes else None,
        "within_radius": sum(p.weight[g] for p, g in served if p.distance_m[g] <= radius),
        "staff": [{"worker_id": s.worker_id, "sector": s.sector, "km": s.km} for s in staffing.seats.get(j, ())],
        "unfilled": staffing.unfilled.get(j, 0),
    }


# -- reading plans back ---------------------------------------------------------------------------
def latest_studio_plan(store: SqlStore) -> dict[str, Any] | None:
    """The published studio plan, else the newest draft; None when there is none."""
    plan = published_plan(store, kind="studio")
    if plan is not None:
        return plan
    plans = store.load("plans", where={"kind": "studio"})
    return None if plans.empty else plans.iloc[-1].to_dict()


def studio_summary(store: SqlStore) -> dict[str, Any]:
    """Lines for ``gridgov demo``'s summary: studios, types, share within radius, staffed seats."""
    plan = latest_studio_plan(store)
    if plan is None:
        return {}
    s = plan["summary"] or {}
    totals = s.get("totals", {})
    share = totals.get("within_radius_share")
    types = sorted({t for st in s.get("studios", []) for t in st["types"]}, key=DISPUTE_TYPES.index)
    return {
        "调解工作室 studios": f"{totals.get('studios', 0)}（已建 existing {totals.get('existing', 0)}，方案 plan {plan['plan_id']} {plan['status']}）",
        "工作室纠纷类型 studio types": "、".join(types),
        f"{s.get('radius_m', 0) / 1000:g} km 内纠纷占比 disputes within radius": "" if share is None else f"{share:.1%}",
        "调解席位 staffed seats": f"{totals.get('seats_filled', 0)}/{totals.get('seats', 0)}",
    }


def studio_commitments(store: SqlStore) -> dict[str, float]:
    """worker id -> capacity the published studio plan takes (seats × seat cost).

    Under "studios-first" the next grid solve should lower each worker's capacity by this.
    """
    plan = published_plan(store, kind="studio")
    if plan is None:
        return {}
    cost = float((plan["params"] or {}).get("seat_cost", 0.0))
    out: dict[str, float] = {}
    for studio in (plan["summary"] or {}).get("studios", []):
        for seat in studio.get("staff", []):
            out[seat["worker_id"]] = out.get(seat["worker_id"], 0.0) + cost
    return out


def unavailable_studio_staff(store: SqlStore) -> tuple[int | None, list[str]]:
    """(the published studio plan, its mediators who are retired, away or gone today): their
    seats stand empty, and nothing in the weekly grid cycle said so (a year on, a published studio
    plan still named three retired workers)."""
    plan = published_plan(store, kind="studio")
    if plan is None:
        return None, []
    ids = sorted({seat["worker_id"] for studio in (plan["summary"] or {}).get("studios", [])
                  for seat in studio.get("staff", [])})
    if not ids:
        return int(plan["plan_id"]), []
    ok = set(available_workers(store.load("workers", where={"worker_id": ids}))["worker_id"])
    return int(plan["plan_id"]), [w for w in ids if w not in ok]


def get_studio_plan(store: SqlStore, plan_id: int) -> dict[str, Any]:
    plans = store.load("plans", where={"plan_id": int(plan_id), "kind": "studio"})
    if plans.empty:
        raise NotFoundError(f"没有编号为 {plan_id} 的工作室方案", f"no studio plan with id {plan_id}")
    return plans.iloc[0].to_dict()
