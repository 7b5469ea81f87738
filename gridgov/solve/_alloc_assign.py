"""Rule "one" on candidate pairs: OR-Tools' linear sum assignment, exact LP duals, pricing.

Where every grid can be covered (n_grids <= n_workers and the candidates, completed through
the pricing oracle, hold a matching that covers every grid), the candidate problem is a plain
assignment problem and needs no spill node or penalty:

* solve it with OR-Tools' cost-scaling ``SimpleLinearSumAssignment`` (square) or
  ``SimpleMinCostFlow`` (more workers than grids);
* read exact LP duals off the optimal matching by shortest paths in its residual graph
  (:func:`assignment_duals`);
* ask the oracle for pairs with negative reduced cost, keep the most improving few per grid
  and per worker, and repeat; when the oracle finds none, the duals are feasible for the full
  problem and ``sum(u) + sum(v)`` equals the plan's cost: optimal over all pairs.

Anything else (more grids than workers, no covering matching) returns None and the caller uses
the general min-cost flow with a spill node (:mod:`gridgov.solve._alloc_flow`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from ortools.graph.python import linear_sum_assignment, min_cost_flow
from scipy.sparse.csgraph import maximum_bipartite_matching

from gridgov.solve import _alloc_jv
from gridgov.solve._alloc_flow import FlowOutcome, IntPricing

# Largest block of (uncovered grid x free worker) pairs taken whole when completing the
# candidates; above it only the cheapest few per grid and per worker are kept.
_COMPLETE_BLOCK = 2_000_000
_COMPLETE_PASSES = 50
_METHOD = "linear_sum_assignment"
_METHOD_JV = "sparse_jv"


def solve_assignment(
    n: int,
    m: int,
    rows: np.ndarray,
    cols: np.ndarray,
    cost: np.ndarray,
    *,
    price: IntPricing | None,
    max_rounds: int,
    penalty: int,
    per_row: int = 8,
    use_jv: bool = True,
) -> FlowOutcome | None:
    """Min-cost assignment covering every grid, proven over all pairs through ``price``.

    Integer costs; ``penalty`` is only reported (as what an uncovered grid would cost) so that
    the outcome reads like the flow's. Returns None when this path does not apply.
    """
    if n == 0 or n > m:
        return None
    rows, cols, cost = _unique(np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64),
                               np.asarray(cost, dtype=np.int64), m)
    pen = np.full(n, penalty, dtype=np.int64)
    # The compiled sparse JV (numba) is warm-started every round: the previous assignment and
    # prices are kept and only the rows that a new candidate pulls away from their worker (or
    # that no matching covered yet) are re-augmented. Without numba: OR-Tools' assignment
    # solved afresh each round and duals by shortest paths.
    jv = _alloc_jv.SparseJV(n, m) if use_jv and _alloc_jv.available() else None
    if jv is None:
        done = _complete(n, m, rows, cols, cost, price, penalty, per_row)
        if done is None:
            return None
        rows, cols, cost = done
    method = _METHOD if jv is None else _METHOD_JV
    rounds = passes = 0
    while True:
        if jv is not None and jv.solve(rows, cols, cost):
            # Rows the candidates cannot cover stay free: ask the oracle for pairs between
            # them and the workers nobody holds (as in _complete) and warm-start again.
            passes += 1
            grown = _grow_free_block(jv, rows, cols, cost, price, penalty, per_row, m)
            if grown is None or passes > _COMPLETE_PASSES:
                return None
            rows, cols, cost = grown
            continue
        rounds += 1
        if jv is not None:
            worker_of, objective = jv.x_row.copy(), jv.objective
            u, v = jv.duals()
        else:
            matched = _match(n, m, rows, cols, cost, penalty)
            if matched is None:
                return None
            worker_of, objective = matched
            u, v = assignment_duals(n, m, rows, cols, cost, worker_of)
        dual = int(u.sum() + v.sum())
        grown = None if price is None else _priced(price, u, v, rows, cols, cost, m, per_row)
        if grown is None or rounds >= max_rounds:
            proven = price is not None and grown is None
            return FlowOutcome(worker_of, objective, dual, proven, rounds, rows.size, pen,
                               method)
        rows, cols, cost = grown


def _grow_free_block(
    jv: _alloc_jv.SparseJV, rows: np.ndarray, cols: np.ndarray, cost: np.ndarray,
    price: IntPricing | None, penalty: int, per_row: int, m: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The candidates plus the oracle's pairs between free grids and free workers; None when
    there is no oracle or it adds nothing."""
    if price is None:
        return None
    free_rows, free_cols = jv.free_block()
    new_r, new_c, new_cost = _block_pairs(free_rows, free_cols, price, penalty, per_row)
    grown = _unique(np.concatenate([rows, new_r]), np.concatenate([cols, new_c]),
                    np.concatenate([cost, new_cost]), m)
    return None if grown[0].size == rows.size else grown


def _priced(
    price: IntPricing, u: np.ndarray, v: np.ndarray, rows: np.ndarray, cols: np.ndarray,
    cost: np.ndarray, m: int, per_row: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The candidates grown by the most improving pairs the oracle finds; None when it finds
    none (the duals are then feasible for every pair: the plan is optimal)."""
    new_r, new_c, new_cost = (np.asarray(a, dtype=np.int64) for a in price(u, v))
    if new_r.size == 0:
        return None
    keep = most_improving(new_r, new_c, new_cost - u[new_r] - v[new_c], per_row)
    return _unique(np.concatenate([rows, new_r[keep]]), np.concatenate([cols, new_c[keep]]),
                   np.concatenate([cost, new_cost[keep]]), m)


def most_improving(rows: np.ndarray, cols: np.ndarray, reduced: np.ndarray, k: int) -> np.ndarray:
    """Mask of the pairs that are among the ``k`` lowest reduced costs of their grid or of their
    worker: enough to move the duals far each round without growing towards the dense problem."""
    return (_rank_within(rows, reduced) < k) | (_rank_within(cols, reduced) < k)


def _rank_within(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((values, keys))
    sorted_keys = keys[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_keys)) + 1]
    lengths = np.diff(np.r_[starts, keys.size])
    rank = np.empty(keys.size, dtype=np.int64)
    rank[order] = np.arange(keys.size) - np.repeat(starts, lengths)
    return rank


def _unique(
    rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each (row, col) once, its first occurrence kept."""
    _, first = np.unique(rows * m + cols, return_index=True)
    return rows[first], cols[first], cost[first]


def _covering(n: int, m: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    graph = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, m))
    return np.asarray(maximum_bipartite_matching(graph, perm_type="column"), dtype=np.int64)


def _complete(
    n: int,
    m: int,
    rows: np.ndarray,
    cols: np.ndarray,
    cost: np.ndarray,
    price: IntPricing | None,
    penalty: int,
    per_row: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Candidates with a matching that covers every grid, or None.

    While a maximum matching leaves grids out, the oracle is asked for allowed pairs between
    those grids and the workers it leaves free (u = a value above any cost on those grids and
    0 elsewhere; v = 0 on those workers and minus that value elsewhere: exactly that block has
    negative reduced cost). An uncovered grid of a maximum matching has no candidate among the
    free workers, so whatever the oracle returns for it is new: each pass adds pairs or stops.
    """
    big = int(penalty)
    for _ in range(_COMPLETE_PASSES):
        mate = _covering(n, m, rows, cols)
        if (mate >= 0).all():
            return rows, cols, cost
        if price is None:
            return None
        free = np.ones(m, dtype=bool)
        free[mate[mate >= 0]] = False
        new_r, new_c, new_cost = _block_pairs(mate < 0, free, price, big, per_row)
        size = rows.size
        rows, cols, cost = _unique(np.concatenate([rows, new_r]), np.concatenate([cols, new_c]),
                                   np.concatenate([cost, new_cost]), m)
        if rows.size == size:
            return None
    return None


def _block_pairs(
    free_rows: np.ndarray, free_cols: np.ndarray, price: IntPricing, big: int, per_row: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allowed pairs between the masked grids and workers, from the oracle: u = ``big`` (above
    any cost) on those grids and 0 elsewhere; v = 0 on those workers and -``big`` elsewhere:
    exactly that block has negative reduced cost."""
    u = np.where(free_rows, big, 0).astype(np.int64)
    v = np.where(free_cols, 0, -big).astype(np.int64)
    new_r, new_c, new_cost = (np.asarray(a, dtype=np.int64) for a in price(u, v))
    block = free_rows[new_r] & free_cols[new_c]
    new_r, new_c, new_cost = new_r[block], new_c[block], new_cost[block]
    if new_r.size > _COMPLETE_BLOCK:
        keep = most_improving(new_r, new_c, new_cost, per_row)
        new_r, new_c, new_cost = new_r[keep], new_c[keep], new_cost[keep]
    return new_r, new_c, new_cost


def _match(
    n: int, m: int, rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, penalty: int
) -> tuple[np.ndarray, int] | None:
    """An optimal matching covering every grid: the assignment solver when square, else a flow."""
    worker_of = np.full(n, -1, dtype=np.int64)
    if n == m:
        lsa = linear_sum_assignment.SimpleLinearSumAssignment()
        lsa.add_arcs_with_cost(rows, cols, cost)
        status = lsa.solve()
        if status == lsa.OPTIMAL:
            mate = lsa.right_mate
            worker_of[:] = [mate(i) for i in range(n)]
            return worker_of, int(lsa.optimal_cost())
        if status != lsa.POSSIBLE_OVERFLOW:
            return None
    flow = min_cost_flow.SimpleMinCostFlow()
    sink = n + m
    tails = np.concatenate([rows, n + np.arange(m, dtype=np.int64)])
    heads = np.concatenate([n + cols, np.full(m, sink, dtype=np.int64)])
    flow.add_arcs_with_capacity_and_unit_cost(
        tails, heads, np.ones(tails.size, dtype=np.int64),
        np.concatenate([cost, np.zeros(m, dtype=np.int64)]))
    supplies = np.zeros(n + m + 1, dtype=np.int64)
    supplies[:n] = 1
    supplies[sink] = -n
    flow.set_nodes_supplies(np.arange(n + m + 1, dtype=np.int64), supplies)
    if flow.solve() != flow.OPTIMAL:
        return None
    used = flow.flows(np.arange(rows.size, dtype=np.int64)) > 0
    worker_of[rows[used]] = cols[used]
    return worker_of, int(cost[used].sum())


def assignment_duals(
    n: int, m: int, rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, worker_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exact LP duals of an optimal matching that covers every grid (integers).

    Residual graph: a root s with an arc s -> j of cost 0 to every worker, an arc grid i ->
    worker j of cost c_ij for every unused candidate, and an arc m(i) -> i of cost -c_i,m(i)
    for every used pair. Folding each grid into its worker leaves arcs m(i) -> j of cost
    c_ij - c_i,m(i). An optimal matching has no negative cycle, so shortest distances d from
    s exist; v_j = d(j) <= 0 and u_i = c_i,m(i) - v_m(i) then give u_i + v_j = c_ij on used
    pairs, u_i + v_j <= c_ij on every candidate, and v_j = 0 on every free worker (a negative
    path to one would be an improving augmenting path): sum(u) + sum(v) is the plan's cost.
    Label-correcting Bellman-Ford that relaxes only arcs out of nodes whose label changed.
    """
    own = np.zeros(n, dtype=np.int64)
    used = worker_of[rows] == cols
    own[rows[used]] = cost[used]
    other = ~used
    tails = worker_of[rows[other]]
    heads = cols[other]
    weights = cost[other] - own[rows[other]]
    order = np.argsort(tails, kind="stable")
    tails, heads, weights = tails[order], heads[order], weights[order]
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(tails, minlength=m), out=indptr[1:])
    d = np.zeros(m, dtype=np.int64)
    active = np.unique(tails)
    for _ in range(m + 1):
        if active.size == 0:
            break
        starts = indptr[active]
        counts = indptr[active + 1] - starts
        total = int(counts.sum())
        if total == 0:
            break
        idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        cand = d[tails[idx]] + weights[idx]
        head = heads[idx]
        better = cand < d[head]
        if not better.any():
            break
        new = d.copy()
        np.minimum.at(new, head[better], cand[better])
        active = np.flatnonzero(new < d)
        d = new
    else:  # pragma: no cover - an optimal matching has no negative cycle
        raise RuntimeError("negative cycle in the residual graph: the matching is not optimal")
    u = own - d[worker_of]
    return u, d
