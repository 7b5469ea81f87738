"""Why a grid stayed uncovered, in words a planner understands (Chinese and English)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class Uncovered:
    """One uncovered grid and the reason; ``code`` is stable for programs, the texts for people."""

    grid: int
    code: str
    reason: str
    reason_en: str


@dataclass(frozen=True)
class ExplainInput:
    """The eligibility picture the solver saw, in the caller's units."""

    rule: str
    allowed: np.ndarray  # (n, m) bool: finite cost and load within capacity
    finite: np.ndarray  # (n, m) bool: finite cost
    load: np.ndarray  # (n, m) float
    capacity: np.ndarray  # (m,) float, inf = unlimited
    lock_worker: np.ndarray  # (n,) worker a grid is locked to, or -1
    contiguity: bool
    coverage_proven: bool


def explain(data: ExplainInput, worker_of: np.ndarray) -> tuple[Uncovered, ...]:
    """A reason for every grid with ``worker_of == -1``, most specific first."""
    missing = np.flatnonzero(worker_of < 0)
    if missing.size == 0:
        return ()
    locked_load, locked_count = _locked_usage(data)
    shortage = _component_shortage(data)
    return tuple(
        _reason(data, int(i), locked_load, locked_count, shortage) for i in missing.tolist()
    )


def _reason(
    data: ExplainInput,
    i: int,
    locked_load: np.ndarray,
    locked_count: np.ndarray,
    shortage: dict[int, tuple[float, float, int]],
) -> Uncovered:
    if not data.finite[i].any():
        return Uncovered(i, "no_eligible_worker", "没有可用劳模：所有劳模对该网格的费用均为 inf（不允许）",
                         "no eligible worker: every worker's cost for this grid is inf (not allowed)")
    eligible = np.flatnonzero(data.allowed[i])
    if eligible.size == 0:
        top = float(data.capacity[data.finite[i]].max())
        need = float(data.load[i][data.finite[i]].min())
        return Uncovered(i, "load_exceeds_capacity",
                         f"网格负荷 {need:g} 超过所有可用劳模的容量（最大 {top:g}）",
                         f"the grid's load {need:g} exceeds every eligible worker's capacity "
                         f"(largest {top:g})")
    if _blocked_by_locks(data, i, eligible, locked_load, locked_count):
        names = ", ".join(str(j) for j in eligible[:5].tolist())
        return Uncovered(i, "lock_conflict",
                         f"可用劳模（{names}）已被锁定的网格占满，无法再承担该网格",
                         f"the eligible workers ({names}) are filled by locked grids and "
                         "cannot take this grid")
    # A capacity shortfall is a fact whatever the search proved: it comes before the time limit.
    if i in shortage:
        have, need, grids = shortage[i]
        if data.rule == "one":
            return Uncovered(i, "capacity_shortfall",
                             f"可用劳模人数 {have:g} 少于共用这些劳模的网格数 {need:g}（一格一劳模）",
                             f"{have:g} eligible workers for {need:g} grids that share them "
                             "(one grid per worker)")
        return Uncovered(i, "capacity_shortfall",
                         f"可用劳模总容量 {have:g} 小于 {grids} 个网格的总负荷 {need:g}",
                         f"the eligible workers' total capacity {have:g} is below the total load "
                         f"{need:g} of the {grids} grids that share them")
    if not data.coverage_proven:
        # Not "more time may cover it": over a simulated year a tenfold limit covered almost none.
        return Uncovered(i, "time_limit", "时限内未找到覆盖该网格的方案（未证明不能覆盖）；可能是附近劳模的承担能力或连片要求所限",
                         "no plan covering this grid was found within the time limit (not proven impossible); "
                         "the nearby workers' capacities or contiguous territories may be what limits it")
    if data.contiguity:
        return Uncovered(i, "contiguity", "在每位劳模辖区保持连片的前提下无法覆盖该网格",
                         "no worker can take this grid while keeping one connected territory")
    return Uncovered(i, "capacity_packing",
                     "可用劳模总容量够，但剩余容量分散，装不下该网格的负荷（网格不可拆分）",
                     "the eligible workers' capacity suffices in total but is split so that no "
                     "one of them has room left for this grid's load (grids cannot be split)")


def _locked_usage(data: ExplainInput) -> tuple[np.ndarray, np.ndarray]:
    m = data.capacity.size
    grids = np.flatnonzero(data.lock_worker >= 0)
    workers = data.lock_worker[grids]
    used = np.zeros(m)
    np.add.at(used, workers, data.load[grids, workers])
    count = np.bincount(workers, minlength=m)
    return used, count


def _blocked_by_locks(
    data: ExplainInput,
    i: int,
    eligible: np.ndarray,
    locked_load: np.ndarray,
    locked_count: np.ndarray,
) -> bool:
    if not (locked_count[eligible] > 0).any():
        return False
    if data.rule == "one":
        return bool((locked_count[eligible] > 0).all())
    room = data.capacity[eligible] - locked_load[eligible]
    return bool((room < data.load[i, eligible]).all())


def _component_shortage(data: ExplainInput) -> dict[int, tuple[float, float, int]]:
    """Grids in a part of the eligibility graph whose workers cannot carry its whole load."""
    n, m = data.allowed.shape
    rows, cols = np.nonzero(data.allowed)
    graph = coo_matrix((np.ones(rows.size), (rows, n + cols)), shape=(n + m, n + m))
    _, label = connected_components(graph, directed=False)
    grid_label, worker_label = label[:n], label[n:]
    if data.rule == "one":
        have = np.bincount(worker_label, minlength=label.max() + 1).astype(float)
        need = np.bincount(grid_label, minlength=label.max() + 1).astype(float)
    else:
        cheapest = np.where(data.allowed, data.load, np.inf).min(axis=1, initial=np.inf)
        cheapest[~np.isfinite(cheapest)] = 0.0
        have = np.bincount(worker_label, weights=data.capacity, minlength=label.max() + 1)
        need = np.bincount(grid_label, weights=cheapest, minlength=label.max() + 1)
    grids = np.bincount(grid_label, minlength=label.max() + 1)
    short = have < need - 1e-9
    return {
        i: (float(have[c]), float(need[c]), int(grids[c]))
        for i, c in enumerate(grid_label.tolist())
        if short[c]
    }
