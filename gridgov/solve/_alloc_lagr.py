"""Rule "several" with one load per grid and capacities: Lagrangian bound, exact set partitioning.

Relaxing "every grid exactly once" with multipliers u leaves one 0/1 knapsack per worker::

    L(u) = sum_i u_i + sum_j k_j(u),   k_j(u) = min { sum_i (c_ij - u_i) x_ij : sum_i load_i x_ij <= cap_j }

a lower bound on every plan for every u (the knapsack bound of the generalized assignment
problem; on the benchmark instances 30-60 times closer to the optimum than the LP bound).
Subgradient ascent (started from the LP duals) finds good u; a Lagrangian heuristic (the
knapsack choices, repaired and improved by local search) finds plans.

The proof: for any plan, cost - L(u) = sum over workers of (the reduced cost of the worker's set
of grids - k_j(u)), each term >= 0. So every plan costing at most L(u) + g gives each worker a
set within g of its knapsack optimum, and uses only pairs whose forcing in keeps L within g.
Those sets ("patterns") are enumerated and a set-partitioning MIP (HiGHS; one pattern per worker,
each grid exactly once) picks the cheapest plan among them: if it costs at most L(u) + g it is
optimal over all plans; if not, L(u) + g + 1 is a new lower bound, and g doubles. These rounds
run first at the subgradient's u while the patterns are few; then column generation
(``_alloc_colgen``) lifts L to the Dantzig-Wolfe bound (the best any u gives; at 500 grids 0.2%
above the subgradient's) and its master yields two more plans (its shares rounded, the best
plan of its patterns), and the rounds go on at that u. When the patterns get too many, a MIP of
the compact model over the pairs some better plan may use, started from the incumbent, with
HiGHS's own heuristics off, finishes the proof. Costs are integers here (the caller scales
them), so a plan is better only by 1 or more; every bound test allows 1e-6 for float sums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gridgov.solve import _alloc_lagr_kernels as kern
from gridgov.solve._alloc_colgen import Patterns, dantzig_wolfe, partition_columns, partition_mip
from gridgov.solve._alloc_lp import LpOutcome, compact_model, solve_lp_relaxation
from gridgov.solve._alloc_srcut import best_in_pool
from gridgov.solve.common import IntegerScale, ProgressCallback, Stopwatch

_EPS = 1e-6
_ROUND_LIMIT = 40  # heuristic + subgradient rounds before the proof
_ROUND_ITERS = 40  # subgradient iterations per round
_FIRST_GAP = 1e-4  # the first pattern gap, relative to the bound; doubled until it holds a proof
_PASSES = 30  # local-search passes of the heuristic
_MAX_DP_CELLS = 50_000_000  # knapsack DP cells (pairs x capacity units) beyond which CP-SAT is used
_PATTERN_STEPS = 20_000_000  # search steps of the pattern enumeration before it gives up
_MAX_PATTERNS = 250_000  # beyond this many patterns the compact MIP over pairs takes over the proof
_SHRINK = 0.7  # the top-down gap's factor while its pool is too large (0.5: two rounds at 1,000 grids)
_CUT_PATTERNS = 2_000  # from this many patterns on, the cut LP and fixing (``best_in_pool``) first
_PRESOLVE_PATTERNS = 10_000  # HiGHS presolve of larger set partitionings costs more than it saves
_QUICK_PATTERNS = 5_000  # the pattern limit of the rounds before column generation
_MASTER_MIP_SHARE = 0.1  # of the time limit, at most, for the best plan of the master's patterns
_DIRECT_GRIDS_PER_WORKER = 10  # from this many grids per worker on, HiGHS alone (``run_mip``)
_CLOSE_PLAN = 0.002  # a plan this close to the bound (relative) turns HiGHS's heuristics off
_COLGEN_SHARE = 0.2  # of the time limit, at most, for column generation


@dataclass(frozen=True)
class LagrOutcome:
    """``pair_of`` the pair index chosen per grid (-1 when no plan was found); ``bound`` an
    integer lower bound on the optimum (the optimum itself when ``optimal``)."""

    pair_of: np.ndarray
    optimal: bool
    bound: int
    rounds: int  # set-partitioning models solved
    root_bound: float
    kept_pairs: int


class _Sub:
    """Pairs grouped by worker (``wptr``, the order the kernels need) and by grid (``gptr``)."""

    def __init__(self, pairs: np.ndarray, grid: np.ndarray, owner: np.ndarray, n: int, m: int) -> None:
        order = np.lexsort((grid[pairs], owner[pairs]))
        self.pairs = pairs[order]  # indices into the full pair arrays
        self.grid = grid[self.pairs]
        self.owner = owner[self.pairs]
        self.wptr = np.searchsorted(self.owner, np.arange(m + 1)).astype(np.int64)
        self.gperm = np.argsort(self.grid, kind="stable").astype(np.int64)
        self.gptr = np.searchsorted(self.grid[self.gperm], np.arange(n + 1)).astype(np.int64)


class LagrangianSearch:
    """The bound, the heuristic and the proof over integer costs ``cost`` (per pair), pairs
    (``grid``, ``owner``), integer ``load`` per grid and ``cap`` per worker."""

    def __init__(self, grid: np.ndarray, owner: np.ndarray, cost: np.ndarray, load: np.ndarray,
                 cap: np.ndarray, n: int, m: int) -> None:
        self.grid = grid.astype(np.int64)
        self.owner = owner.astype(np.int64)
        self.cost = cost.astype(np.float64)
        self.load = load.astype(np.int64)
        self.cap = cap.astype(np.int64)
        self.n, self.m = n, m
        self.weight = self.load[self.grid]
        self.ub = math.inf
        self.best: np.ndarray | None = None  # pair per grid
        self.rounds = 0  # set-partitioning models solved
        # Float sums of integer costs up to ~1e11 are off by ~1e-5: tolerances grow with them.
        self.tol = _EPS + 1e-12 * float(np.abs(self.cost).sum())

    # -- bound and heuristic -------------------------------------------------------------------
    def _bound(self, sub: _Sub, u: np.ndarray, iters: int) -> tuple[np.ndarray, float]:
        """Subgradient ascent from u towards the incumbent's cost: (best u, L at it)."""
        active = np.ones(self.n, dtype=bool)
        cost, weight = self.cost[sub.pairs], self.weight[sub.pairs]
        if math.isfinite(self.ub):
            target = self.ub
        else:  # no plan yet: aim 1% above the current value
            value = kern.evaluate(u, cost, sub.grid, weight, sub.wptr, self.cap, active,
                                  np.zeros(self.n, dtype=np.int64))
            target = value + abs(value) * 0.01 + 1.0
        return kern.subgradient(u, cost, sub.grid, weight, sub.wptr, self.cap, active, float(target), iters, 10)

    def _heuristic(self, sub: _Sub, u: np.ndarray) -> None:
        """The Lagrangian heuristic: the knapsack choices at u, repaired and improved."""
        local = kern.repair_and_improve(u, self.cost[sub.pairs], sub.grid, sub.owner,
                                        self.weight[sub.pairs], sub.wptr, sub.gptr, sub.gperm, self.cap,
                                        self.load, _PASSES)
        if (local >= 0).all():
            self._keep(sub.pairs[local])

    def _mip_pairs(self, pairs: np.ndarray, lower: int, seconds: float) -> tuple[bool, int]:
        """HiGHS on the compact model over ``pairs`` (plus the incumbent's), started from the
        incumbent; keeps a better plan; returns (proven optimal, integer lower bound)."""
        import highspy

        if self.best is not None:
            pairs = np.union1d(pairs, self.best)
        rows, cols = self.grid[pairs], self.owner[pairs]
        if np.unique(rows).size < self.n:
            return lower >= self.ub, lower  # a grid has no pair left: only the incumbent's plans
        lp = compact_model(rows, cols, self.cost[pairs], self.load, self.cap, self.n, self.m, integer=True)
        # With a plan close to the bound HiGHS's sub-MIP heuristics only slow the proof (1000
        # grids, plan 0.05% above the bound: 7.0 s with them, 1.7 s without); with a plan far
        # from it they find better ones (300 grids x 12 workers, 1.6% above: 0.6 s without).
        close = self.best is not None and self.ub - lower <= _CLOSE_PLAN * abs(self.ub)
        clock = Stopwatch()
        h = _highs(seconds, heuristics=not close)
        h.passModel(lp)
        if self.best is not None:
            start = highspy.HighsSolution()
            start.col_value = np.isin(pairs, self.best).astype(float).tolist()
            h.setSolution(start)
        self._run_and_keep(h, pairs)
        if (h.getModelStatus() == highspy.HighsModelStatus.kOptimal
                and h.getInfo().objective_function_value < self.ub - 0.5):
            # HiGHS 1.16 can map the start through presolve to a cheaper point, call that optimal
            # and hand back the start itself (found by fuzzing: 252 returned, 250 "optimal").
            # Its optimum is then not ours: solve again without the start.
            h = _highs(max(0.05, seconds - clock.elapsed))
            h.passModel(lp)
            self._run_and_keep(h, pairs)
        if (h.getModelStatus() == highspy.HighsModelStatus.kOptimal
                and h.getInfo().objective_function_value >= self.ub - 0.5):
            return True, int(self.ub)
        dual = h.getInfo().mip_dual_bound  # +-inf when stopped before the root LP or infeasible
        return False, max(lower, math.ceil(dual - self.tol)) if math.isfinite(dual) else lower

    def _run_and_keep(self, h: object, pairs: np.ndarray) -> None:
        h.run()
        take = _solution(h, int(pairs.size))
        if take is not None:
            self._keep(pairs[take])

    def _keep(self, chosen: np.ndarray) -> None:
        """Keep the plan of these pairs when it covers every grid once, fits every capacity and
        beats the incumbent."""
        plan = np.full(self.n, -1, dtype=np.int64)
        plan[self.grid[chosen]] = chosen
        if (plan < 0).any() or chosen.size != self.n:
            return
        if (np.bincount(self.owner[plan], weights=self.weight[plan], minlength=self.m) > self.cap).any():
            return  # every source keeps capacities; this guards the next one written
        value = float(self.cost[plan].sum())
        if value < self.ub - 0.5:
            self.ub, self.best = value, plan

    # -- search --------------------------------------------------------------------------------
    def run(self, u0: np.ndarray, *, clock: Stopwatch, time_limit: float,
            progress: ProgressCallback | None = None) -> LagrOutcome:
        all_pairs = np.arange(self.grid.size, dtype=np.int64)
        sub = _Sub(all_pairs, self.grid, self.owner, self.n, self.m)
        u, root, stale = u0.astype(np.float64).copy(), -math.inf, 0
        for _ in range(_ROUND_LIMIT):
            self._heuristic(sub, u)
            u, value = self._bound(sub, u, _ROUND_ITERS)
            stale = stale + 1 if value <= root + 0.5 else 0
            root = max(root, value)
            self._report(progress, "lagrangian", root)
            if self.ub - root < 1.0 - self.tol or stale >= 3 or clock.remaining(time_limit) <= 0:
                break
        lower = math.ceil(root - self.tol)
        # Cheap rounds first (few patterns at these multipliers), then the Dantzig-Wolfe bound,
        # whose multipliers leave a narrower gap but many more patterns within any given one.
        state = self._pattern_rounds(sub, u, root, lower, _QUICK_PATTERNS, clock, time_limit, progress)
        if state[0] == "open" and clock.remaining(time_limit) > 0:
            u, root = self._dantzig_wolfe(sub, u, root, clock, time_limit)
            lower = max(state[1], math.ceil(root - self.tol))
            self._report(progress, "dantzig-wolfe", lower)
            state = ("open", lower, state[2], state[3])
            if lower < self.ub and clock.remaining(time_limit) > 0:
                state = self._pattern_rounds(sub, u, root, lower, _MAX_PATTERNS, clock, time_limit, progress)
        status, lower, kept, up = state
        if status != "open" or lower >= self.ub or clock.remaining(time_limit) <= 0:
            return self._outcome(status == "optimal" or lower >= self.ub, lower, root, kept)
        # The gap is too wide for patterns: a MIP over the pairs some better plan may use.
        pairs = np.flatnonzero(root + up <= self.ub - 1.0 + self.tol)
        closed, lower = self._mip_pairs(pairs, lower, clock.remaining(time_limit))
        return self._outcome(closed or lower >= self.ub, lower, root, int(pairs.size))

    def _pattern_rounds(self, sub: _Sub, u: np.ndarray, root: float, lower: int, max_patterns: int,
                        clock: Stopwatch, time_limit: float, progress: ProgressCallback | None
                        ) -> tuple[str, int, int, np.ndarray]:
        """Set partitioning over the patterns within a gap of L(u) = ``root`` that doubles from
        just above the proven ``lower``, until it proves the incumbent optimal, time runs out
        ("stopped") or the patterns exceed ``max_patterns`` ("open"). Returns (status, lower
        bound, pairs in the last model, every pair's forcing-in penalty at u)."""
        up_sub, down_sub = np.zeros(sub.pairs.size), np.zeros(sub.pairs.size)
        kern.fixing_penalties(u, self.cost[sub.pairs], sub.grid, self.weight[sub.pairs], sub.wptr,
                              self.cap, up_sub, down_sub)
        up = np.empty(sub.pairs.size)
        up[sub.pairs] = up_sub  # back to the caller's pair order
        all_pairs = np.arange(sub.pairs.size, dtype=np.int64)
        gap = max(1.0, _FIRST_GAP * abs(root), lower - root)
        # With the cut LP a large pool is cheap: start from the whole gap to the incumbent and
        # shrink it while the pool is too large (one round holds both the search and the proof).
        top_down = max_patterns > _QUICK_PATTERNS and math.isfinite(self.ub)
        if top_down:
            gap = max(gap, self.ub - root)
        # No pattern is further than this from its knapsack optimum: a pool at this gap is complete.
        span = float(np.abs(self.cost - u[self.grid]).sum()) + 1.0
        kept = 0
        while lower < self.ub and clock.remaining(time_limit) > 0:
            gap = min(gap, self.ub - root, span)
            target = root + gap
            pairs = all_pairs[root + up <= target + self.tol]
            kept = int(pairs.size)
            outcome = self._partition(pairs, u, gap, target, max_patterns, clock.remaining(time_limit))
            if outcome == "too many":
                if top_down and gap * _SHRINK >= max(1.0, lower - root):
                    gap *= _SHRINK
                    continue
                return "open", lower, kept, up
            if outcome == "stopped":
                return "stopped", lower, kept, up
            self._report(progress, "set partitioning", max(root, lower))
            if outcome == "optimal" and self.ub <= target + self.tol:
                # No plan at all (ub infinite) with every pattern in the model: none covers every
                # grid (loads that add up but do not pack); the caller turns to coverage.
                return "optimal", int(self.ub) if math.isfinite(self.ub) else lower, kept, up
            if gap >= span and not math.isfinite(self.ub):
                return "optimal", lower, kept, up  # every pattern was in the model and no plan exists
            # Every plan costing at most the target was in the model: none is cheaper than its optimum.
            lower = max(lower, math.floor(target - self.tol) + 1)
            gap = self.ub - root if top_down else 2 * gap
        return ("optimal" if lower >= self.ub else "stopped"), lower, kept, up

    def run_mip(self, *, clock: Stopwatch, time_limit: float) -> LagrOutcome:
        """HiGHS alone on the compact model, for many grids per worker: each capacity then holds
        many grids, the LP bound is about as tight as the knapsack one, and HiGHS's own search is
        quicker (300 grids, 12 workers: 0.10-0.51 s vs the Lagrangian search's 0.31-0.50 s)."""
        pairs = np.arange(self.grid.size, dtype=np.int64)
        closed, lower = self._mip_pairs(pairs, -(2**62), clock.remaining(time_limit))
        return self._outcome(closed or lower >= self.ub, lower, -math.inf, int(pairs.size))

    def _dantzig_wolfe(self, sub: _Sub, u: np.ndarray, root: float, clock: Stopwatch,
                       time_limit: float) -> tuple[np.ndarray, float]:
        """The Dantzig-Wolfe bound by column generation from u, then two heuristics: the best
        plan of the master's patterns (a set-partitioning MIP) and the Lagrangian one at the
        new u. Returns the new (u, bound)."""
        # Its own share of the time: on instances with few workers and many grids each, the
        # master tails off for seconds where the pattern rounds alone take a tenth of one.
        budget = clock.elapsed + min(clock.remaining(time_limit), _COLGEN_SHARE * time_limit)
        out = dantzig_wolfe(self.cost[sub.pairs], sub.grid, self.weight[sub.pairs], sub.wptr, sub.pairs,
                            self.cap, u, self.best, stop_at=self.ub, tol=self.tol, clock=clock, seconds=budget)
        local = kern.plan_from_shares(out.share[sub.pairs], self.cost[sub.pairs], sub.owner, sub.grid, sub.gptr,
                                      sub.gperm, self.cap, self.load, _PASSES)
        if (local >= 0).all():
            self._keep(sub.pairs[local])
        found = out.patterns
        empty = np.arange(self.m, dtype=np.int64)  # every worker may also take nothing
        self._solve_patterns(Patterns(found.items, np.concatenate([found.starts, np.full(self.m, found.starts[-1])]),
                                      np.concatenate([found.owners, empty])),
                             min(clock.remaining(time_limit), _MASTER_MIP_SHARE * time_limit))
        if out.bound <= root:
            return u, root
        self._heuristic(sub, out.u)
        return out.u, out.bound

    def _outcome(self, optimal: bool, lower: int, root: float, kept: int) -> LagrOutcome:
        if self.best is None:
            return LagrOutcome(np.full(self.n, -1, dtype=np.int64), False, lower, self.rounds, root, kept)
        bound = int(self.ub) if optimal else min(lower, int(self.ub))
        return LagrOutcome(self.best, optimal, bound, self.rounds, root, kept)

    def _report(self, progress: ProgressCallback | None, phase: str, bound: float) -> None:
        if progress is not None and self.best is not None:
            progress("solution", {"phase": phase, "objective": self.ub, "bound": bound})

    def _partition(self, pairs: np.ndarray, u: np.ndarray, gap: float, target: float, max_patterns: int,
                   seconds: float) -> str:
        """Solve the set partitioning over the patterns within ``gap`` (keeping a better plan):
        "optimal" (its optimum found, or none exists), "stopped" (time ran out) or "too many".

        On many patterns only the plans that matter are sought: those costing at most
        ``target`` (= L(u) + gap: every such plan is in the pool) and below the incumbent. If
        the pool has one, it is the pool's optimum; if not, the caller's conclusions (the
        incumbent optimal when it is within ``target``, else a bound above ``target``) are the
        same as from the pool's optimum."""
        self.rounds += 1
        found = self._patterns(pairs, u, gap, max_patterns)
        if found is None:
            return "too many"
        if found.owners.size < _CUT_PATTERNS:
            return self._solve_patterns(found, seconds)
        # Below the incumbent rather than the target: the pool's best plan above the target is
        # still the best plan found so far (at 1,000 grids the round at gap 116 finds the optimum).
        threshold = math.floor((self.ub - 1.0 if math.isfinite(self.ub) else target) + self.tol)
        status, plan, _ = best_in_pool(found.items, found.starts, found.owners, self.grid, self.cost,
                                       self.n, self.m, threshold, target, self.tol, seconds, u)
        if plan is not None:
            self._keep(plan)
        return "optimal" if status in ("found", "none") else "stopped"

    def _solve_patterns(self, found: Patterns, seconds: float) -> str:
        """HiGHS picks one pattern per worker (or none: a worker's empty pattern is implied only
        when listed), each grid exactly once; keeps a better plan. "optimal" or "stopped"."""
        items, starts, owners = found.items, found.starts, found.owners
        k = owners.size
        sizes = np.diff(starts)
        # Columns: a pattern covers its worker's row and its grids' rows, each exactly once.
        col_start, index = partition_columns(items, starts, owners, self.grid, self.m)
        covered = np.zeros(self.m + self.n, dtype=bool)
        covered[index] = True
        if not covered.all():
            return "optimal"  # a grid or a worker has no pattern within the gap: no plan is
        column = np.repeat(np.arange(k), sizes)
        objective = np.bincount(column, weights=self.cost[items], minlength=k)
        solved = self._highs_partition(k, col_start, index, objective, seconds)
        if solved is None:
            return "stopped"
        cols, optimal = solved
        if cols is not None:
            self._keep(items[np.isin(column, cols)])
        return "optimal" if optimal else "stopped"

    def _patterns(self, pairs: np.ndarray, u: np.ndarray, gap: float, max_patterns: int) -> Patterns | None:
        """Every worker's sets of grids (patterns) that fit its capacity and whose reduced cost
        is within ``gap`` of its knapsack optimum at u, as (pair runs, run starts, worker per
        run); None beyond ``max_patterns``.

        For a plan x, cost(x) - L(u) is the sum over workers of (reduced cost of the worker's set
        - its knapsack optimum), every term >= 0: a plan costing at most L(u) + gap uses, for
        each worker, one of these patterns (the empty set included when it qualifies).
        """
        r = self.cost[pairs] - u[self.grid[pairs]]
        order = np.lexsort((r, self.owner[pairs]))
        items, r = pairs[order], r[order]
        weight = self.weight[items]
        wptr = np.searchsorted(self.owner[items], np.arange(self.m + 1)).astype(np.int64)
        best = np.zeros(self.m)
        for j in range(self.m):
            mine = slice(wptr[j], wptr[j + 1])
            neg = r[mine] < 0
            if neg.any():
                take = np.zeros(int(neg.sum()), dtype=bool)
                best[j] = -kern.knapsack(-r[mine][neg], weight[mine][neg], int(self.cap[j]), take)
        out_items = np.empty(8 * max_patterns, dtype=np.int64)
        out_ptr = np.empty(max_patterns + 1, dtype=np.int64)
        out_owner = np.empty(max_patterns, dtype=np.int64)
        count = kern.enumerate_patterns(r, weight, items, wptr, self.cap, best + gap + self.tol, max_patterns,
                                        _PATTERN_STEPS, out_items, out_ptr, out_owner)
        if count < 0:
            return None
        return Patterns(out_items[:out_ptr[count]], out_ptr[:count + 1], out_owner[:count])

    def _highs_partition(self, k: int, col_start: np.ndarray, index: np.ndarray, objective: np.ndarray,
                         seconds: float) -> tuple[np.ndarray | None, bool] | None:
        """HiGHS MIP of the set partitioning: (chosen columns or None if infeasible, proven);
        None when it stopped without a plan."""
        import highspy

        lp = partition_mip(objective, col_start, index, self.m + self.n)
        h = _highs(seconds)
        if k > _PRESOLVE_PATTERNS:
            h.setOptionValue("presolve", "off")
        h.passModel(lp)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None, True
        take = _solution(h, k)
        if take is None:
            return None
        return np.flatnonzero(take), status == highspy.HighsModelStatus.kOptimal


def _solution(h: object, k: int) -> np.ndarray | None:
    """The 0/1 columns HiGHS chose (a mask of length k), or None when it has no plan."""
    values = np.asarray(h.getSolution().col_value)  # type: ignore[attr-defined]
    if values.size != k or h.getInfo().primal_solution_status == 0:  # type: ignore[attr-defined]
        return None
    return values > 0.5


def _highs(seconds: float, *, heuristics: bool = True) -> object:
    """A silent, single-threaded HiGHS that proves optimality (gap 0) within ``seconds``;
    ``heuristics=False`` turns off its primal heuristics, for proofs started from a plan."""
    from gridgov.solve._highs import quiet_highs

    h = quiet_highs()
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("time_limit", max(0.05, float(seconds)))
    if not heuristics:
        h.setOptionValue("mip_heuristic_effort", 0.0)
        for name in ("rins", "rens", "root_reduced_cost", "feasibility_jump"):
            h.setOptionValue(f"mip_heuristic_run_{name}", False)
    return h



def solve_several_lagrangian(
    cost: np.ndarray, allowed: np.ndarray, load: np.ndarray, capacity: np.ndarray, *,
    scale: IntegerScale, load_scale: float, time_limit: float, progress: ProgressCallback | None,
) -> LpOutcome | None:
    """Every grid covered at least cost, or None when the LP is infeasible or no full plan was
    found in time (the caller then takes the general CP-SAT path, which handles coverage)."""
    clock = Stopwatch()
    n, m = cost.shape
    rows, cols = np.nonzero(allowed)
    c = cost[rows, cols]
    duals = solve_lp_relaxation(rows, cols, c, load, capacity, n, m, seconds=time_limit)
    if duals is None:
        return None
    load_int = np.ceil(load * load_scale - 1e-9).astype(np.int64)
    top = int(load_int.sum()) + 1
    cap_int = np.where(np.isfinite(capacity), np.floor(np.minimum(capacity * load_scale, top) + 1e-9),
                       top).astype(np.int64)
    if _dp_cells(rows, cols, load_int, cap_int, m) > _MAX_DP_CELLS:
        return None  # loads in fine units (e.g. 0.001 of a grid): the knapsacks would be too wide
    cost_int = scale.to_int(c)
    search = LagrangianSearch(rows, cols, cost_int, load_int, cap_int, n, m)
    if n >= _DIRECT_GRIDS_PER_WORKER * m:
        out, algorithm = search.run_mip(clock=clock, time_limit=time_limit), "highs-mip"
    else:
        out, algorithm = search.run(duals.u * scale.factor, clock=clock, time_limit=time_limit,
                                    progress=progress), "lagrangian"
    if (out.pair_of < 0).any():
        return None
    worker_of = cols[out.pair_of].astype(np.int64)
    exact = scale.factor == 1.0 and bool(np.all(c == np.round(c)))
    slack = 0.0 if exact else 0.5 * n  # each grid's cost rounded by at most half a unit
    true_cost = float(cost[np.arange(n), worker_of].sum())
    bound = min(true_cost, max((out.bound - slack) / scale.factor, duals.bound))
    if algorithm == "highs-mip":
        notes: tuple[str, ...] = (f"LP 下界 {duals.bound:.6g}；每人网格多，直接用 HiGHS 求解 / LP bound "
                                  f"{duals.bound:.6g}; many grids per worker, solved by HiGHS alone",)
    else:
        notes = (f"LP 下界 {duals.bound:.6g}，拉格朗日下界 {out.root_bound / scale.factor:.6g} / LP bound "
                 f"{duals.bound:.6g}, Lagrangian bound {out.root_bound / scale.factor:.6g}",
                 f"集合划分 {out.rounds} 轮，最后保留 {out.kept_pairs}/{rows.size} 个组合 / {out.rounds} "
                 f"set-partitioning rounds, the last on {out.kept_pairs} of {rows.size} pairs")
    return LpOutcome(worker_of, out.optimal, bound, notes, algorithm)


def _dp_cells(rows: np.ndarray, cols: np.ndarray, load_int: np.ndarray, cap_int: np.ndarray, m: int) -> int:
    """An upper bound on one evaluation's knapsack work: per worker, its pairs times its DP width."""
    pairs = np.bincount(cols, minlength=m)
    reach = np.bincount(cols, weights=load_int[rows], minlength=m)
    return int((pairs * np.minimum(cap_int, reach)).sum())

