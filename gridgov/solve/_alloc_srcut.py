"""The best plan of a pattern pool below a threshold: cut LP, reduced-cost fixing, a small MIP.

``LagrangianSearch`` proves optimality by enumerating every worker's patterns within a gap g of
its knapsack optimum at u: every plan costing at most L(u) + g is made of them. On that finite
pool the set-partitioning LP can take non-robust cuts with no pricing problem to disturb. Here:
subset-row cuts (rank-1 Chvatal-Gomory cuts on three grid rows,
``sum_p floor(|p & S| / 2) l_p <= 1``), separated exactly over the triples of grids that share a
fractional pattern. At 1,000 grids they lift the LP from the Dantzig-Wolfe bound 579,331 to
579,627 (optimum 579,663) in 0.4 s; the LP's reduced costs then drop every pattern no plan below
the threshold can use (88,637 -> 4,136), and HiGHS solves the set partitioning over the rest.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import scipy.sparse as sp

from gridgov.solve._alloc_colgen import partition_columns, partition_mip
from gridgov.solve.common import Stopwatch

_MAX_ROUNDS = 30  # separation rounds
_CUTS_PER_ROUND = 200
_MIN_VIOLATION = 1e-3
_STALL_ROUNDS = 3  # rounds whose bound rose by less than 0.5 before it stops separating
_EXACT_MIP = 10_000  # patterns below the threshold up to which the exact MIP runs at once
_HEURISTIC_PATTERNS = 3_000  # patterns of least reduced cost in the heuristic MIP
_HEURISTIC_TRIES = 4
_ABOVE_TRIES = 2  # heuristic MIPs of a pool whose cut LP is above the target
_START_PER_WORKER = 30  # patterns per worker in the first LP of the pool (8: 0.62 s vs 0.42 s at 1,000 grids)
_PRICE_BATCH = 10_000  # most negative patterns added per pricing pass


def best_in_pool(items: np.ndarray, starts: np.ndarray, owners: np.ndarray, grid: np.ndarray,
                 cost: np.ndarray, n: int, m: int, threshold: float, target: float, tol: float,
                 seconds: float, u: np.ndarray | None = None) -> tuple[str, np.ndarray | None, float]:
    """The cheapest plan made of the pool's patterns (pattern k: pairs ``items[starts[k]:
    starts[k + 1]]`` of worker ``owners[k]``, one per worker and each grid once), if it costs at
    most ``threshold``. Returns ("found", its pairs, bound); ("none", None, bound) when no plan of
    the pool costs at most ``threshold``; ("none", a plan or None, bound) when no plan of the pool
    costs at most ``target`` (the plan, if any, one below ``threshold`` found on the way); or
    ("stopped" or "stopped-with-plan", a plan or None, bound) when time ran out. The bound is
    the cut LP's value, a lower bound on every plan of the pool. ``u`` (per grid, optional):
    multipliers whose reduced costs pick the patterns the first LP starts from. Every plan
    costing at most ``target`` must be in the pool (the caller's enumeration guarantees it)."""
    clock = Stopwatch()
    k = owners.size
    sizes = np.diff(starts)
    col_start, index = partition_columns(items, starts, owners, grid, m)
    pat_grid = grid[items]
    covered = np.zeros(m + n, dtype=bool)
    covered[index] = True
    if not covered.all():
        return "none", None, math.inf  # a grid or a worker has no pattern: the pool holds no plan
    column = np.repeat(np.arange(k), sizes)
    objective = np.bincount(column, weights=cost[items], minlength=k)

    base = sp.csc_matrix((np.ones(index.size), index, col_start), shape=(m + n, k)).tocsr()
    rank_by = objective if u is None else objective - np.bincount(column, weights=u[pat_grid], minlength=k)
    pool = _PoolLp(base, objective, rank_by, owners, m + n, start_size=_START_PER_WORKER)
    # Grid -> patterns incidence, for the cut coefficients.
    order = np.argsort(pat_grid, kind="stable")
    gptr = np.searchsorted(pat_grid[order], np.arange(n + 1))
    gcols = column[order]
    cut_rows: list[tuple[np.ndarray, np.ndarray]] = []
    z = pool.solve(cut_rows, max(0.05, seconds))
    if z is None:
        return "stopped", None, -math.inf
    stall = 0
    for _ in range(_MAX_ROUNDS):
        if z > threshold + tol or clock.elapsed > seconds:
            break
        found = _separate(pool.weights(), starts, pat_grid, _CUTS_PER_ROUND)
        if not found:
            break
        new_rows = []
        for triple in found:
            count = np.bincount(np.concatenate([gcols[gptr[i]:gptr[i + 1]] for i in triple]), minlength=k)
            nz = np.flatnonzero(count >= 2)
            new_rows.append((nz, np.floor(count[nz] / 2.0)))
        pool.add_cuts(new_rows)
        cut_rows.extend(new_rows)
        before, z = z, pool.solve(cut_rows, max(0.05, seconds - clock.elapsed))
        if z is None:
            return "stopped", None, before
        stall = stall + 1 if z < before + 0.5 else 0
        if stall >= _STALL_ROUNDS:
            break
    if z > threshold + tol:
        return "none", None, z
    if clock.elapsed > seconds:
        return "stopped", None, z
    # Reduced-cost fixing: a plan of cost <= threshold uses only patterns of reduced cost
    # <= threshold - z (``_safe_bound``).
    z, rc = pool.z, pool.rc
    plan: np.ndarray | None = None
    # Above the target no plan of the pool can prove anything: only a better incumbent is
    # sought, by the heuristic alone.
    above = z > target + tol
    size, tries = _HEURISTIC_PATTERNS, 0
    while True:
        keep = np.flatnonzero(z + rc <= threshold + tol)
        if tries >= (_ABOVE_TRIES if above else _HEURISTIC_TRIES) or (not above and keep.size <= _EXACT_MIP):
            break
        # Too many patterns below the threshold (a poor incumbent): first a plan from the
        # patterns of least reduced cost, which lowers the threshold, then the exact MIP; twice
        # as many patterns when those hold no plan.
        few = keep[np.argsort(rc[keep], kind="stable")[:size]]
        status, found, _z = _mip(few, col_start, index, objective, k, n, m, items, starts,
                                 threshold, tol, max(0.05, seconds - clock.elapsed), z)
        tries += 1
        if found is None:
            if status != "none" or few.size == keep.size:
                break
            size *= 2
            continue
        plan = found
        threshold = math.floor(float(cost[found].sum()) - 1.0 + tol)
        if above:
            break
    if above:
        return "none", plan, z
    out = _mip(keep, col_start, index, objective, k, n, m, items, starts, threshold, tol,
               max(0.05, seconds - clock.elapsed), z)
    if out[1] is None and plan is not None:
        # No plan of the pool below the heuristic's: it is the pool's best (when the MIP finished).
        return ("found" if out[0] == "none" else "stopped-with-plan"), plan, z
    return out


def _mip(keep: np.ndarray, col_start: np.ndarray, index: np.ndarray, objective: np.ndarray,
         k: int, n: int, m: int, items: np.ndarray, starts: np.ndarray, threshold: float, tol: float,
         seconds: float, z: float) -> tuple[str, np.ndarray | None, float]:
    """HiGHS on the set partitioning over the ``keep`` columns. The cuts stay out: they make
    its LP denser and HiGHS finds its own (128 grids, 3,638 patterns: 16 s without them and
    with presolve, 42-54 s with them; 500 grids, 7,112 patterns: 1.2 s either way)."""
    import highspy

    from gridgov.solve._highs import quiet_highs

    q = keep.size
    starts_c = np.concatenate([[0], np.cumsum(col_start[keep + 1] - col_start[keep])]).astype(np.int32)
    idx = np.concatenate([index[col_start[c]:col_start[c + 1]] for c in keep]) if q else np.empty(0, np.int32)
    rows = m + n
    covered = np.zeros(rows, dtype=bool)
    covered[idx] = True
    if not covered.all():
        return "none", None, z  # some grid or worker has no pattern left below the threshold
    lp = partition_mip(objective[keep], starts_c, idx.astype(np.int32), rows)
    h = quiet_highs()
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("time_limit", seconds)
    h.setOptionValue("objective_bound", float(threshold) + 0.5)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return "none", None, z
    values = np.asarray(h.getSolution().col_value)
    plan = None
    if values.size == q and h.getInfo().primal_solution_status != 0:
        chosen = keep[values > 0.5]
        # Its cost summed here, not taken from HiGHS (see ``_mip_pairs`` on a start HiGHS misread).
        if float(objective[chosen].sum()) <= threshold + tol:
            plan = np.concatenate([items[starts[c]:starts[c + 1]] for c in chosen]) if chosen.size else items[:0]
    if status != highspy.HighsModelStatus.kOptimal:
        return ("stopped-with-plan", plan, z) if plan is not None else ("stopped", None, z)
    return ("found", plan, z) if plan is not None else ("none", None, z)


class _PoolLp:
    """The set-partitioning LP over a pool of patterns, solved over a growing subset of them:
    the rest are priced by scanning (the pool is explicit, so pricing is exact with any cuts).
    Artificial columns (one per row, dear) keep the subset feasible; the bound is computed from
    the duals over the whole pool (``_safe_bound``), so it holds whatever the subset."""

    def __init__(self, base: "sp.csr_matrix", objective: np.ndarray, rank_by: np.ndarray, owners: np.ndarray,
                 rows: int, start_size: int) -> None:
        import highspy

        from gridgov.solve._highs import quiet_highs

        self.base, self.objective, self.rows = base, objective, rows
        self.base_csc = base.tocsc()
        self.cuts = 0
        self.cut_csc: "sp.csc_matrix | None" = None
        big = float(np.abs(objective).max()) * 10.0 + 1.0 if objective.size else 1.0
        self.h = quiet_highs()
        self.h.setOptionValue("presolve", "off")
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = rows, rows
        lp.col_cost_ = np.full(rows, big)
        lp.col_lower_ = np.zeros(rows)
        lp.col_upper_ = np.full(rows, highspy.kHighsInf)
        lp.row_lower_ = np.ones(rows)
        lp.row_upper_ = np.ones(rows)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.arange(rows + 1, dtype=np.int32)
        lp.a_matrix_.index_ = np.arange(rows, dtype=np.int32)
        lp.a_matrix_.value_ = np.ones(rows)
        self.h.passModel(lp)
        self.active = np.empty(0, dtype=np.int64)  # pool index of LP column rows + i
        self.in_lp = np.zeros(objective.size, dtype=bool)
        # Start: each worker's patterns of least ``rank_by``.
        order = np.lexsort((rank_by, owners))
        first = np.searchsorted(owners[order], owners[order], side="left")
        rank = np.arange(order.size) - first
        self._add(order[rank < start_size])
        self.z = -math.inf
        self.rc = np.zeros(objective.size)

    def _add(self, cols: np.ndarray) -> None:
        cols = cols[~self.in_lp[cols]]
        if cols.size == 0:
            return
        sub = self.base_csc[:, cols]
        if self.cut_csc is not None:
            sub = sp.vstack([sub, self.cut_csc[:, cols]]).tocsc()
        sub.sort_indices()
        self.h.addCols(int(cols.size), self.objective[cols], np.zeros(cols.size), np.ones(cols.size),
                       int(sub.nnz), sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32),
                       sub.data.astype(float))
        self.active = np.concatenate([self.active, cols])
        self.in_lp[cols] = True

    def add_cuts(self, new_rows: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Add cut rows (pool columns, coefficients), each <= 1."""
        import highspy

        position = np.full(self.objective.size, -1, dtype=np.int64)
        position[self.active] = self.rows + np.arange(self.active.size)
        starts, idx, val = [0], [], []
        for cols, vals in new_rows:
            where = position[cols]
            here = where >= 0
            idx.append(where[here])
            val.append(vals[here])
            starts.append(starts[-1] + int(here.sum()))
        self.h.addRows(len(new_rows), np.full(len(new_rows), -highspy.kHighsInf), np.ones(len(new_rows)),
                       starts[-1], np.array(starts[:-1], dtype=np.int32),
                       np.concatenate(idx).astype(np.int32), np.concatenate(val))
        r = np.concatenate([np.full(c.size, self.cuts + a) for a, (c, _) in enumerate(new_rows)])
        c = np.concatenate([c for c, _ in new_rows])
        v = np.concatenate([v for _, v in new_rows])
        self.cuts += len(new_rows)
        extra = sp.csc_matrix((v, (r, c)), shape=(self.cuts, self.objective.size))
        if self.cut_csc is None:
            self.cut_csc = extra
        else:
            old = self.cut_csc.tocoo()
            self.cut_csc = sp.csc_matrix(
                (np.concatenate([old.data, v]), (np.concatenate([old.row, r]), np.concatenate([old.col, c]))),
                shape=(self.cuts, self.objective.size))

    def solve(self, cut_rows: list[tuple[np.ndarray, np.ndarray]], seconds: float) -> float | None:
        """Re-optimise, pricing the pool until no pattern has a negative reduced cost; returns
        the bound (None when HiGHS stopped)."""
        import highspy

        clock = Stopwatch()
        while True:
            self.h.setOptionValue("time_limit", max(0.05, seconds - clock.elapsed))
            self.h.run()
            if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            self.z, self.rc = _safe_bound(self.h, self.base, cut_rows, self.objective)
            neg = np.flatnonzero((self.rc < -1e-7) & ~self.in_lp)
            if neg.size == 0 or clock.elapsed > seconds:
                return self.z
            if neg.size > _PRICE_BATCH:
                neg = neg[np.argpartition(self.rc[neg], _PRICE_BATCH)[:_PRICE_BATCH]]
            self._add(neg)

    def weights(self) -> np.ndarray:
        """Per pool pattern: its value in the last LP solution."""
        values = np.asarray(self.h.getSolution().col_value)[self.rows:]
        out = np.zeros(self.objective.size)
        out[self.active] = values[:self.active.size]
        return out


def _safe_bound(h: object, base: "sp.csr_matrix", cut_rows: list[tuple[np.ndarray, np.ndarray]],
                objective: np.ndarray) -> tuple[float, np.ndarray]:
    """A lower bound on the pool's plans from HiGHS's row duals y, recomputed here rather than
    taken from its objective: with y <= 0 on the cut rows (<= 1) and free on the partitioning rows
    (= 1), rc = c - A'y and L(y) = sum y + sum_p min(0, rc_p) bounds the LP over 0 <= l <= 1.
    For a plan x, cost(x) >= L(y) + max(0, rc_q) for each pattern q it uses, which is the fixing
    test. Returns (L(y), rc)."""
    y = np.asarray(h.getSolution().row_dual, dtype=float)  # type: ignore[attr-defined]
    rows = base.shape[0]
    if len(cut_rows) + rows != y.size:
        raise ValueError("row duals do not match the rows")
    y_base = y[:rows]
    rc = objective - base.T @ y_base
    total = float(y_base.sum())
    if cut_rows:
        y_cut = np.minimum(y[rows:rows + len(cut_rows)], 0.0)
        for (cols, vals), yc in zip(cut_rows, y_cut):
            if yc < 0.0:
                rc[cols] -= vals * yc
        total += float(y_cut.sum())
    return total + float(np.minimum(rc, 0.0).sum()), rc


def _separate(lam: np.ndarray, starts: np.ndarray, pat_grid: np.ndarray, limit: int) -> list[tuple[int, int, int]]:
    """The most violated subset-row cuts on three grids (at most ``limit``): over the patterns
    of positive weight, w(ab) sums the weights holding grids a and b, w(abc) all three; a triple
    with two grid pairs in a fractional pattern is violated when w(ab) + w(ac) + w(bc) - 2 w(abc)
    exceeds 1."""
    pos = np.flatnonzero(lam > 1e-9)
    w2: dict[tuple[int, int], float] = {}
    w3: dict[tuple[int, int, int], float] = {}
    near: dict[int, set[int]] = {}
    for p in pos.tolist():
        weight = float(lam[p])
        gs = sorted(pat_grid[starts[p]:starts[p + 1]].tolist())
        if len(gs) < 2:
            continue
        fractional = weight < 1.0 - 1e-6
        for a, b in combinations(gs, 2):
            w2[(a, b)] = w2.get((a, b), 0.0) + weight
            if fractional:
                near.setdefault(a, set()).add(b)
                near.setdefault(b, set()).add(a)
        for t in combinations(gs, 3):
            w3[t] = w3.get(t, 0.0) + weight
    violated: dict[tuple[int, int, int], float] = {}
    for a, others in near.items():
        for b, c in combinations(sorted(others), 2):
            t = tuple(sorted((a, b, c)))
            if t in violated:
                continue
            x, y, z = t
            v = w2.get((x, y), 0.0) + w2.get((x, z), 0.0) + w2.get((y, z), 0.0) - 2.0 * w3.get(t, 0.0) - 1.0
            if v > _MIN_VIOLATION:
                violated[t] = v  # type: ignore[index]
    best = sorted(violated.items(), key=lambda kv: -kv[1])[:limit]
    return [t for t, _ in best]
