"""Min-cost-flow assignment on candidate pairs, with LP duals and pricing that prove optimality."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

# price(u, v) -> (rows, cols, costs): allowed pairs outside the candidates whose integer reduced
# cost cost - u[row] - v[col] is negative. Returning nothing proves the candidate optimum optimal.
IntPricing = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]

# OR-Tools' cost-scaling push-relabel multiplies costs by about the node count: keep headroom.
_INT64_HEADROOM = 2**62


@dataclass(frozen=True)
class FlowOutcome:
    """An optimal flow on the final candidate set and, when pricing found nothing, a proof."""

    worker_of: np.ndarray  # -1 = sent to the spill node (uncovered)
    objective: int  # integer cost of covered grids (penalties included, spill excluded)
    dual_bound: int  # dual objective of the candidate LP, spill penalties included
    proven: bool  # pricing over the full problem found no improving pair
    rounds: int
    n_arcs: int
    penalty: np.ndarray  # integer cost of leaving each grid uncovered
    method: str = "min_cost_flow"  # which solver found the plan


def spill_penalty(n_grids: int, max_pair_cost: int) -> int:
    """A per-grid penalty above any chain of reassignments, so coverage always comes first."""
    return (n_grids + 1) * max(int(max_pair_cost), 1) + 1


def max_int_for_flow(n_grids: int, n_workers: int, *, levels: int = 1) -> int:
    """Largest integer pair cost that keeps penalties x node count inside int64.

    ``levels`` counts how many times a weight of ~n_grids x cost is stacked (moves over cost).
    """
    nodes = n_grids + n_workers + 3
    room = _INT64_HEADROOM // (8 * nodes * (n_grids + 2) ** levels)
    return int(max(1, min(10**9, room)))


def solve_flow(
    n_grids: int,
    capacity_units: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    cost: np.ndarray,
    *,
    price: IntPricing | None = None,
    max_rounds: int = 60,
    penalty: int | None = None,
    spill_extra: np.ndarray | None = None,
    per_row: int = 8,
) -> FlowOutcome:
    """Min-cost assignment of every grid to one candidate worker (or to the spill), with duals.

    ``capacity_units[j]`` is how many grids worker j may take. When ``price`` is given the
    candidate set grows until no pair outside it has a negative reduced cost: then the
    candidate optimum is the optimum of the full problem (LP duality; the assignment LP is
    totally unimodular). ``spill_extra`` adds a per-grid cost to leaving it uncovered (a move,
    when the grid has a published worker).
    """
    rows, cols, cost = (np.asarray(a, dtype=np.int64) for a in (rows, cols, cost))
    m = int(capacity_units.size)
    final = penalty if penalty is not None else spill_penalty(n_grids, int(cost.max(initial=1)))
    extra = np.zeros(n_grids, dtype=np.int64) if spill_extra is None else spill_extra.astype(
        np.int64)
    # With pricing, start from a modest spill penalty: a huge one makes the duals of every
    # worker near an uncovered grid huge too, and pricing would then add almost every pair.
    # A plan without uncovered grids that prices out at a lower penalty is optimal at the
    # final one as well (the same duals stay feasible), so the penalty only rises while grids
    # remain uncovered.
    level = final if price is None else min(final, 2 * int(cost.max(initial=1)) + 1)
    rounds = 0
    while True:
        rounds += 1
        pen = level + extra
        worker_of, objective = _min_cost_flow(n_grids, capacity_units, rows, cols, cost, pen)
        u, v, dual = _duals(n_grids, capacity_units, rows, cols, cost, worker_of, pen)
        if price is None:
            return FlowOutcome(worker_of, objective, dual, False, rounds, rows.size, pen)
        new_r, new_c, new_cost = price(u, v[:m])
        if new_r.size == 0:
            if level == final or (worker_of >= 0).all():
                return FlowOutcome(worker_of, objective, dual, True, rounds, rows.size, pen)
            level = min(final, 4 * level)
            continue
        if rounds >= max_rounds:
            return FlowOutcome(worker_of, objective, dual, False, rounds, rows.size, pen)
        new_r, new_c, new_cost = _most_negative(new_r, new_c, new_cost, u, v[:m], per_row)
        rows, cols, cost = _merge(rows, cols, cost, new_r, new_c, new_cost, m)


def _most_negative(
    rows: np.ndarray,
    cols: np.ndarray,
    cost: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    per_row: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Only the ``per_row`` most improving pairs of each grid: early duals are poor, and adding
    every negative pair would grow the candidate set towards the dense problem."""
    rows, cols, cost = (np.asarray(a, dtype=np.int64) for a in (rows, cols, cost))
    reduced = cost - u[rows] - v[cols]
    order = np.lexsort((reduced, rows))
    rows, cols, cost = rows[order], cols[order], cost[order]
    starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    rank = np.arange(rows.size) - np.repeat(starts, np.diff(np.r_[starts, rows.size]))
    keep = rank < per_row
    return rows[keep], cols[keep], cost[keep]


def _merge(
    rows: np.ndarray,
    cols: np.ndarray,
    cost: np.ndarray,
    new_r: np.ndarray,
    new_c: np.ndarray,
    new_cost: np.ndarray,
    m: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # A pricing oracle may repeat pairs: keep the first occurrence of every (row, col).
    r = np.concatenate([rows, np.asarray(new_r, dtype=np.int64)])
    c = np.concatenate([cols, np.asarray(new_c, dtype=np.int64)])
    k = np.concatenate([cost, np.asarray(new_cost, dtype=np.int64)])
    _, first = np.unique(r * m + c, return_index=True)
    first.sort()
    return r[first], c[first], k[first]


def _min_cost_flow(
    n: int,
    capacity_units: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    cost: np.ndarray,
    pen: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Nodes: grids 0..n-1, workers n..n+m-1, spill n+m, sink n+m+1."""
    m = int(capacity_units.size)
    spill, sink = n + m, n + m + 1
    grids = np.arange(n, dtype=np.int64)
    tails = np.concatenate([rows, grids, n + np.arange(m, dtype=np.int64), [spill]])
    heads = np.concatenate([n + cols, np.full(n, spill), np.full(m, sink), [sink]])
    caps = np.concatenate(
        [np.ones(rows.size + n, dtype=np.int64), capacity_units.astype(np.int64), [n]]
    )
    costs = np.concatenate([cost, pen, np.zeros(m + 1, dtype=np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n + m + 2, dtype=np.int64)
    supplies[:n] = 1
    supplies[sink] = -n
    flow.set_nodes_supplies(np.arange(n + m + 2, dtype=np.int64), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    used = flow.flows(np.arange(rows.size, dtype=np.int64)) > 0
    worker_of = np.full(n, -1, dtype=np.int64)
    worker_of[rows[used]] = cols[used]
    return worker_of, int(cost[used].sum())


def _duals(
    n: int,
    capacity_units: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    cost: np.ndarray,
    worker_of: np.ndarray,
    pen: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """LP duals (u per grid, v per worker and spill) from an optimal flow, by shortest paths.

    Complementary slackness gives u_i = c[i, a(i)] - v[a(i)] for the node a(i) that grid i
    uses, and dual feasibility v_j <= v_a(i) + c[i, j] - c[i, a(i)]: a shortest-path system
    over workers (v <= 0, a virtual root at 0) with no negative cycle because the flow is optimal.
    """
    m = int(capacity_units.size)
    spill = m
    node_of = np.where(worker_of >= 0, worker_of, spill)
    own = pen.copy()
    pos = _pair_cost_lookup(rows, cols, cost, worker_of, m)
    own[worker_of >= 0] = pos
    # Edges: the node a grid uses -> any other candidate of that grid, and -> the spill.
    tails = np.concatenate([node_of[rows], node_of])
    heads = np.concatenate([cols, np.full(n, spill)])
    weights = np.concatenate([cost - own[rows], pen - own])
    keep = tails != heads
    tails, heads, weights = tails[keep], heads[keep], weights[keep]
    v = np.zeros(m + 1, dtype=np.int64)
    for _ in range(m + 2):
        cand = v[tails] + weights
        nv = v.copy()
        np.minimum.at(nv, heads, cand)
        if np.array_equal(nv, v):
            break
        v = nv
    else:  # pragma: no cover - an optimal flow has no negative cycle
        raise RuntimeError("negative cycle in the residual graph: the flow is not optimal")
    u = own - v[node_of]
    dual = int(u.sum() + (capacity_units.astype(np.int64) * v[:m]).sum() + n * v[spill])
    return u, v, dual


def _pair_cost_lookup(
    rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, worker_of: np.ndarray, m: int
) -> np.ndarray:
    """Cost of each covered grid's own pair, found by key search over the candidate list."""
    keys = rows * m + cols
    order = np.argsort(keys, kind="stable")
    covered = np.flatnonzero(worker_of >= 0)
    want = covered * m + worker_of[covered]
    idx = order[np.searchsorted(keys, want, sorter=order)]
    return cost[idx]
