"""Capacitated p-median: assignment heuristics, a Lagrangian bound with fixing, then the MIP.

Single sourcing: each demand goes to exactly one open site, the load on a site stays within
its capacity. The pipeline (see ``solve_cpmp``):

1. Heuristic incumbent. Median sets come from the uncapacitated p-median heuristic and from
   the Lagrangian subproblem's choice; each set gets a regret-greedy single-source assignment
   (Martello-Toth) improved by shift and swap moves; the sets are improved by relocating a
   median within its cluster and by swapping a median for a nearby closed site.
2. Lagrangian bound: the assignment rows relaxed with multipliers ``u``; what is left is one
   0-1 knapsack per site (integer loads, dynamic programming over the capacity) and the
   choice of the p best sites. Subgradient ascent; the bound is at least the LP bound of the
   strong formulation. At the best multipliers, sites are fixed open/closed and pairs fixed
   to 0 when forcing them would push the bound past the incumbent.
3. The reduced single-sourcing MIP (HiGHS) with the incumbent as an objective cutoff, the
   strong ``x_ij <= y_j`` rows and ``sum_j Q_j y_j >= total load``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gridgov.solve._sites_heuristic import penalised, pmedian_heuristic
from gridgov.solve._sites_mip import MipModel, MipOutcome, solve_mip, stack
from gridgov.solve.common import Stopwatch

# The DP keeps one decision bit per (demand, site, capacity unit): above this many it is skipped.
_DP_CELLS = 40_000_000
# Share of the time limit by which the heuristic phases (greedy, Lagrangian, kicks) stop.
ILS_SHARE = 0.3


@dataclass(frozen=True)
class CapOutcome:
    """Best plan found (None when none), a lower bound, proof and infeasibility flags."""

    open_sites: np.ndarray | None
    site_of: np.ndarray | None
    objective: float | None
    bound: float | None
    proven: bool
    infeasible: bool
    stage: str
    note: str = ""


# --- single-source assignment for a fixed set of open sites ---------------------------------------


def assign(cost: np.ndarray, load: np.ndarray, cap: np.ndarray) -> np.ndarray | None:
    """Regret-greedy single-source assignment, then shift/swap descent.

    ``cost`` (n, k) for the k open sites (``inf`` = not allowed), ``cap`` (k,). Returns the
    position (0..k-1) of each demand's site, or None when the greedy gets stuck.
    """
    n, k = cost.shape
    res = cap.astype(float).copy()
    pos = np.full(n, -1, dtype=np.int64)
    left = np.ones(n, dtype=bool)
    eps = 1e-9
    for _ in range(n):
        idx = np.flatnonzero(left)
        c = np.where(load[idx, None] <= res[None, :] + eps, cost[idx], np.inf)
        if k == 1:
            first, second = c[:, 0], np.full(idx.size, np.inf)
            best = np.zeros(idx.size, dtype=np.int64)
        else:
            two = np.argpartition(c, 1, axis=1)[:, :2]
            a = c[np.arange(idx.size), two[:, 0]]
            b = c[np.arange(idx.size), two[:, 1]]
            best = np.where(a <= b, two[:, 0], two[:, 1])
            first, second = np.minimum(a, b), np.maximum(a, b)
        if not np.isfinite(first).all():
            return None
        # Largest regret first (one feasible site left = infinite regret); ties: largest load.
        regret = np.where(np.isfinite(second), second - first, np.inf)
        order = np.lexsort((-load[idx], -regret))
        t = order[0]
        i, j = idx[t], best[t]
        pos[i] = j
        res[j] -= load[i]
        left[i] = False
    return improve_assignment(cost, load, cap, pos)


def improve_assignment(cost: np.ndarray, load: np.ndarray, cap: np.ndarray, pos: np.ndarray, *, rounds: int = 500) -> np.ndarray:
    """Best-improvement descent over moving one demand and exchanging two demands' sites."""
    n, k = cost.shape
    rows = np.arange(n)
    pos = pos.copy()
    eps = 1e-9
    for _ in range(rounds):
        res = cap - np.bincount(pos, weights=load, minlength=k)
        here = cost[rows, pos]
        shift = np.where(load[:, None] <= res[None, :] + eps, cost - here[:, None], np.inf)
        shift[rows, pos] = np.inf
        i_s, j_s = np.unravel_index(int(np.argmin(shift)), shift.shape)
        best_shift = shift[i_s, j_s]
        # Exchange i and l: i goes to pos[l], l to pos[i].
        there = cost[:, pos]  # [i, l] = cost of i at l's site
        swap = there + there.T - here[:, None] - here[None, :]
        dl = load[:, None] - load[None, :]  # load moving from pos[l] ... (i in, l out) at l's site
        ok = (dl <= res[pos][None, :] + eps) & (-dl <= res[pos][:, None] + eps) & (pos[:, None] != pos[None, :])
        swap = np.where(ok, swap, np.inf)
        i_w, l_w = np.unravel_index(int(np.argmin(swap)), swap.shape)
        best_swap = swap[i_w, l_w]
        scale = 1e-9 * max(1.0, float(np.abs(here[np.isfinite(here)]).sum()))
        if min(best_shift, best_swap) >= -scale:
            break
        if best_shift <= best_swap:
            pos[i_s] = j_s
        else:
            pos[i_w], pos[l_w] = pos[l_w], pos[i_w]
    return pos


def exact_assign(cost: np.ndarray, load: np.ndarray, cap: np.ndarray, *, time_limit: float, cutoff: float | None) -> np.ndarray | None:
    """The generalized assignment problem for a fixed open set, by MIP (positions, or None)."""
    n, k = cost.shape
    ii, jj = np.nonzero(np.isfinite(cost) & (load[:, None] <= cap[None, :] + 1e-9))
    if np.unique(ii).size < n:
        return None
    v = ii.size
    a = stack([(ii, np.arange(v), np.ones(v)), (n + jj, np.arange(v), load[ii])], (n + k, v))
    model = MipModel(
        a,
        np.concatenate([np.ones(n), np.full(k, -np.inf)]),
        np.concatenate([np.ones(n), cap.astype(float)]),
        np.zeros(v),
        np.ones(v),
        cost[ii, jj],
        np.arange(v),
    )
    out = solve_mip(model, time_limit=max(0.05, time_limit), cutoff=cutoff)
    if out.x is None:
        return None
    pos = np.full(n, -1, dtype=np.int64)
    pick = out.x > 0.5
    pos[ii[pick]] = jj[pick]
    return pos if (pos >= 0).all() else None


def _transport_lp(cost: np.ndarray, load: np.ndarray, cap: np.ndarray) -> tuple[float, np.ndarray] | None:
    """The assignment LP (fractional x) for fixed sites: (lower bound, x (n, k)); None if infeasible."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix

    n, k = cost.shape
    ii, jj = np.nonzero(np.isfinite(cost) & (load[:, None] <= cap[None, :] + 1e-9))
    if np.unique(ii).size < n:
        return None
    v = ii.size
    a_eq = csr_matrix((np.ones(v), (ii, np.arange(v))), shape=(n, v))
    a_ub = csr_matrix((load[ii], (jj, np.arange(v))), shape=(k, v))
    res = linprog(cost[ii, jj], A_ub=a_ub, b_ub=cap, A_eq=a_eq, b_eq=np.ones(n), bounds=(0, 1), method="highs")
    if res.status != 0:
        return None
    x = np.zeros((n, k))
    x[ii, jj] = res.x
    return float(res.fun), x


def _round_lp(cost: np.ndarray, load: np.ndarray, cap: np.ndarray, frac: np.ndarray) -> np.ndarray | None:
    """Keep the LP's whole assignments, place the split demands by regret greedy, then descend."""
    n, k = cost.shape
    whole = frac.max(axis=1) > 1 - 1e-6
    pos = np.full(n, -1, dtype=np.int64)
    pos[whole] = np.argmax(frac[whole], axis=1)
    res = cap - np.bincount(pos[whole], weights=load[whole], minlength=k)
    split = np.flatnonzero(~whole)
    # Largest load first, each to its cheapest site that still has room.
    for i in split[np.argsort(-load[split], kind="stable")]:
        c = np.where(load[i] <= res + 1e-9, cost[i], np.inf)
        j = int(np.argmin(c))
        if not np.isfinite(c[j]):
            return None
        pos[i] = j
        res[j] -= load[i]
    return improve_assignment(cost, load, cap, pos)


# --- heuristic over median sets ---------------------------------------------------------------------


class _Incumbent:
    """The best plan so far and a memo of evaluated open sets."""

    def __init__(self, cost: np.ndarray, load: np.ndarray, cap: np.ndarray, seed: int = 0) -> None:
        self.cost, self.load, self.cap = cost, load, cap
        self.value = math.inf
        self.open: np.ndarray | None = None
        self.site_of: np.ndarray | None = None
        # key -> [LP lower bound, plan value, site per demand or None]
        self.seen: dict[tuple[int, ...], list] = {}
        self.rng = np.random.default_rng(seed)

    def evaluate(self, open_sites: np.ndarray, beat: float = math.inf) -> tuple[float, np.ndarray | None]:
        """(value, site per demand) of the best single-source assignment found for ``open_sites``.

        The transportation LP (single sourcing relaxed) bounds the set: when it cannot beat
        ``beat`` the set is skipped, returning (LP bound, None). Otherwise the LP's at most
        ``p`` split demands are placed greedily and a regret greedy runs from scratch; the
        better one, after shift/swap descent, is the set's plan.
        """
        key = tuple(sorted(int(j) for j in open_sites))
        memo = self.seen.get(key)
        if memo is None:
            sites = np.array(key, dtype=np.int64)
            lp = _transport_lp(self.cost[:, sites], self.load, self.cap[sites])
            memo = [math.inf, math.inf, None] if lp is None else [lp[0], None, lp[1]]
            self.seen[key] = memo
        lower, value, plan = memo
        if value is not None:
            return value, plan
        if lower >= beat - 1e-9 * max(1.0, abs(lower)):
            return lower, None
        sites = np.array(key, dtype=np.int64)
        sub, cap = self.cost[:, sites], self.cap[sites]
        value, pos = math.inf, None
        for cand in (_round_lp(sub, self.load, cap, plan), assign(sub, self.load, cap)):
            if cand is not None and (v := float(sub[np.arange(cand.size), cand].sum())) < value:
                value, pos = v, cand
        site_of = None if pos is None else sites[pos]
        memo[1], memo[2] = value, site_of
        if site_of is not None:
            self.offer(sites, site_of, value)
        return value, site_of

    def offer(self, sites: np.ndarray, site_of: np.ndarray, value: float) -> bool:
        if value < self.value:
            self.value, self.open, self.site_of = value, np.sort(sites), site_of.copy()
            return True
        return False


def _descend(
    inc: _Incumbent, sites: np.ndarray, fixed: np.ndarray, clock: Stopwatch, until: float, *, near: int = 8
) -> None:
    """Local search from ``sites``: relocate a median within its cluster, or swap it for one of
    the ``near`` closed sites best for its cluster (first improvement), until neither helps."""
    cost, load, cap = inc.cost, inc.load, inc.cap
    value, site_of = inc.evaluate(sites)
    if site_of is None:
        return
    cur = np.sort(np.asarray(sites, dtype=np.int64))
    is_fixed = np.zeros(cost.shape[1], dtype=bool)
    is_fixed[fixed] = True
    for _ in range(200):
        if clock.elapsed > until:
            return
        improved = False
        for r in cur.copy():
            if is_fixed[r] or clock.elapsed > until:
                continue
            members = np.flatnonzero(site_of == r)
            score = cost[members].sum(axis=0) if members.size else np.zeros(cost.shape[1])
            score[cur] = np.inf
            if members.size:
                # Relocation keeps the clusters: a plan at once, then re-assigned around it.
                score[cap < load[members].sum() - 1e-9] = np.inf
                j = int(np.argmin(score))
                if np.isfinite(score[j]) and score[j] < cost[members, r].sum() - 1e-9:
                    new_sites = np.sort(np.where(cur == r, j, cur))
                    new_of = np.where(site_of == r, j, site_of)
                    new_value = float(cost[np.arange(new_of.size), new_of].sum())
                    inc.offer(new_sites, new_of, new_value)
                    v2, of2 = inc.evaluate(new_sites, new_value)
                    if of2 is not None and v2 < new_value:
                        new_value, new_of = v2, of2
                    cur, site_of, value, improved = new_sites, new_of, new_value, True
                    continue
                score = cost[members].sum(axis=0)
                score[cur] = np.inf
            for j in np.argsort(score)[:near]:
                if not np.isfinite(score[j]):
                    break
                new_sites = np.sort(np.where(cur == r, j, cur))
                v2, of2 = inc.evaluate(new_sites, value)
                if of2 is not None and v2 < value - 1e-9:
                    cur, site_of, value, improved = new_sites, of2, v2, True
                    break
        if not improved:
            return


def local_search(inc: _Incumbent, start: np.ndarray, fixed: np.ndarray, clock: Stopwatch, until: float) -> None:
    """Descend from ``start``."""
    _descend(inc, start, fixed, clock, until)


def iterated_local_search(
    inc: _Incumbent, fixed: np.ndarray, clock: Stopwatch, until: float, *, kick: int = 2, patience: int = 100
) -> None:
    """Kick the best set (replace ``kick`` movable medians at random) and descend, until ``until``
    or ``patience`` kicks in a row without improvement."""
    m = inc.cost.shape[1]
    stale = 0
    while clock.elapsed < until and inc.open is not None and stale < patience:
        before = inc.value
        movable = np.setdiff1d(inc.open, fixed)
        closed = np.setdiff1d(np.arange(m), inc.open)
        if movable.size == 0 or closed.size == 0:
            return
        # As many in as out: with one closed site left, a kick of two would draw two from one.
        out = inc.rng.choice(movable, size=min(kick, movable.size, closed.size), replace=False)
        into = inc.rng.choice(closed, size=out.size, replace=False)
        start = np.concatenate([np.setdiff1d(inc.open, out), into])
        _descend(inc, start, fixed, clock, until)
        stale = 0 if inc.value < before else stale + 1


# --- Lagrangian relaxation of the assignment rows ---------------------------------------------------


class _Knapsacks:
    """Per-site 0-1 knapsacks (min reduced cost within capacity), all sites at once by DP."""

    def __init__(self, cost: np.ndarray, load: np.ndarray, cap: np.ndarray) -> None:
        self.cost = cost
        self.load = load.astype(np.int64)
        self.capi = np.floor(cap + 1e-9).astype(np.int64)
        self.top = int(min(self.capi.max(initial=0), self.load.sum()))
        self.capi = np.minimum(self.capi, self.top)
        self.allowed = np.isfinite(cost) & (load[:, None] <= cap[None, :] + 1e-9)

    def solve(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Returns (value per site, x (n, m) bool of each knapsack's items, final DP table)."""
        n, m = self.cost.shape
        r = np.where(self.allowed, self.cost - u[:, None], 0.0)
        r = np.minimum(r, 0.0)
        dp = np.zeros((m, self.top + 1))
        take: list[tuple[int, np.ndarray]] = []
        for i in np.flatnonzero((r < 0).any(axis=1)):
            li = int(self.load[i])
            ri = r[i][:, None]
            if li == 0:
                dp = dp + ri
                take.append((i, np.broadcast_to((r[i] < 0)[:, None], dp.shape)))
                continue
            if li > self.top:
                continue
            cand = dp[:, : self.top + 1 - li] + ri
            better = np.zeros(dp.shape, dtype=bool)
            better[:, li:] = cand < dp[:, li:]
            dp[:, li:] = np.minimum(dp[:, li:], cand)
            take.append((i, better))
        x = np.zeros((n, m), dtype=bool)
        col = self.capi.copy()
        sites = np.arange(m)
        for i, better in reversed(take):
            t = better[sites, col]
            x[i, t] = True
            col = col - self.load[i] * t
        return dp[sites, self.capi], x, dp


def _choose(v: np.ndarray, p: int, fixed: np.ndarray) -> np.ndarray:
    chosen = np.zeros(v.size, dtype=bool)
    chosen[fixed] = True
    free = np.flatnonzero(~chosen)
    need = p - fixed.size
    if need > 0:
        chosen[free[np.argsort(v[free], kind="stable")[:need]]] = True
    return chosen


@dataclass
class _Lagrange:
    bound: float
    u: np.ndarray


def lagrangian(
    ks: _Knapsacks,
    p: int,
    fixed: np.ndarray,
    inc: _Incumbent,
    margin: float,
    clock: Stopwatch,
    until: float,
    *,
    rounds: int = 600,
    heuristic_every: int = 10,
) -> _Lagrange:
    """Subgradient ascent; every few rounds the subproblem's sites seed the heuristic."""
    cost = ks.cost
    n, m = cost.shape
    finite = np.where(np.isfinite(cost), cost, np.nan)
    srt = np.sort(np.where(np.isnan(finite), np.inf, finite), axis=1)
    u = srt[:, min(1, m - 1)].copy()
    u = np.where(np.isfinite(u), u, srt[:, 0])
    u = np.where(np.isfinite(u), u, 0.0)
    best = _Lagrange(-math.inf, u.copy())
    step, stall = 2.0, 0
    tried: set[tuple[int, ...]] = set()
    for it in range(rounds):
        if clock.elapsed > until:
            break
        v, x, _ = ks.solve(u)
        chosen = _choose(v, p, fixed)
        value = float(u.sum() + v[chosen].sum())
        if not math.isfinite(best.bound) or value > best.bound + 1e-9 * max(1.0, abs(best.bound)):
            best, stall = _Lagrange(value, u.copy()), 0
        else:
            stall += 1
            if stall >= 20:
                step, stall = step / 2.0, 0
        if it % heuristic_every == 0:
            key = tuple(np.flatnonzero(chosen).tolist())
            if key not in tried:
                tried.add(key)
                inc.evaluate(np.flatnonzero(chosen))
        if best.bound >= inc.value - margin or step < 1e-4:
            break
        g = 1.0 - x[:, chosen].sum(axis=1)
        norm = float((g * g).sum())
        if norm == 0.0:
            break
        upper = inc.value if np.isfinite(inc.value) else abs(value) * 1.1 + 1.0
        u = u + step * max(upper - value, 1e-6 * max(1.0, abs(upper))) / norm * g
    return best


def reduce(ks: _Knapsacks, lag: _Lagrange, p: int, fixed: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixing at the best multipliers: (closed sites, opened sites, forbidden pairs).

    Opening a site outside the Lagrangian choice costs at least ``v_j - v_last``, closing one
    inside ``v_next - v_j``; forcing demand i onto site j costs at least
    ``(c_ij - u_i) + DP_j(Q_j - load_i) - v_j`` on top of that site being open.
    """
    v, _, dp = ks.solve(lag.u)
    m = v.size
    chosen = _choose(v, p, fixed)
    base = float(lag.u.sum() + v[chosen].sum())
    is_fixed = np.zeros(m, dtype=bool)
    is_fixed[fixed] = True
    closed = np.zeros(m, dtype=bool)
    opened = np.zeros(m, dtype=bool)
    movable = chosen & ~is_fixed
    outside = ~chosen
    open_bound = np.full(m, base)
    if movable.any() and outside.any():
        last, nxt = v[movable].max(), v[outside].min()
        open_bound[outside] = base + v[outside] - last
        closed[outside] = open_bound[outside] >= threshold
        opened[movable] = base - v[movable] + nxt >= threshold
    elif outside.any():
        closed[outside] = True  # every open site is fixed: nothing else can open
        open_bound[outside] = np.inf
    rest = np.clip(ks.capi[None, :] - ks.load[:, None], 0, None)
    with np.errstate(invalid="ignore"):
        forced_in = (ks.cost - lag.u[:, None]) + dp[np.arange(m)[None, :], rest] - v[None, :]
        pair_bound = open_bound[None, :] + np.maximum(forced_in, 0.0)
    forbidden = ~ks.allowed | (pair_bound >= threshold) | closed[None, :]
    return closed, opened, forbidden


# --- the MIP ------------------------------------------------------------------------------------------


def capacitated_model(
    cost: np.ndarray,
    load: np.ndarray,
    capacity: np.ndarray,
    p: int,
    fixed: np.ndarray,
    allowed: np.ndarray,
    closed: np.ndarray,
) -> tuple[MipModel, np.ndarray, np.ndarray]:
    """Single-sourcing capacitated p-median over the ``allowed`` pairs.

    Columns: y (n_sites), then one x per allowed pair. Rows: each demand once; load per
    site <= capacity * y; x_ij <= y_j; sum y = p; sum capacity * y >= total load.
    """
    n, m = cost.shape
    ii, jj = np.nonzero(allowed)
    k = ii.size
    xcol = m + np.arange(k)
    r_cap = n
    r_link = r_cap + m
    r_p = r_link + k
    a = stack(
        [
            (ii, xcol, np.ones(k)),
            (r_cap + jj, xcol, load[ii]),
            (r_cap + np.arange(m), np.arange(m), -capacity),
            (r_link + np.arange(k), xcol, np.ones(k)),
            (r_link + np.arange(k), jj, -np.ones(k)),
            (np.full(m, r_p), np.arange(m), np.ones(m)),
            (np.full(m, r_p + 1), np.arange(m), capacity),
        ],
        (r_p + 2, m + k),
    )
    row_lb = np.concatenate([np.ones(n), np.full(m + k, -np.inf), [p, load.sum()]])
    row_ub = np.concatenate([np.ones(n), np.zeros(m + k), [p, np.inf]])
    lb = np.zeros(m + k)
    lb[fixed] = 1.0
    ub = np.ones(m + k)
    ub[:m][closed] = 0.0
    obj = np.concatenate([np.zeros(m), cost[ii, jj]])
    return MipModel(a, row_lb, row_ub, lb, ub, obj, np.arange(m + k)), ii, jj


def _from_mip(out: MipOutcome, m: int, n: int, ii: np.ndarray, jj: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    if out.x is None:
        return None
    site_of = np.full(n, -1, dtype=np.int64)
    pick = out.x[m:] > 0.5
    site_of[ii[pick]] = jj[pick]
    if (site_of < 0).any():
        return None
    return np.flatnonzero(out.x[:m] > 0.5), site_of


# --- the pipeline ---------------------------------------------------------------------------------


def solve_cpmp(
    dist: np.ndarray,
    weight: np.ndarray,
    load: np.ndarray,
    capacity: np.ndarray,
    p: int,
    fixed: np.ndarray,
    *,
    time_limit: float,
    workers: int,
    clock: Stopwatch,
    use_mip: bool = True,
) -> CapOutcome:
    """Heuristic incumbent, Lagrangian bound and fixing, then the reduced MIP with a cutoff."""
    n, m = dist.shape
    cost = weight[:, None] * dist
    cost = np.where(np.isfinite(dist), cost, np.inf)
    allowed = np.isfinite(cost) & (load[:, None] <= capacity[None, :] + 1e-9)
    cost = np.where(allowed, cost, np.inf)
    # Quick infeasibility proofs: a demand no site can take; too little capacity in any p sites.
    if not allowed.any(axis=1).all():
        return CapOutcome(None, None, None, None, True, True, "check")
    free_caps = np.sort(np.delete(capacity, fixed))[::-1][: p - fixed.size]
    if capacity[fixed].sum() + free_caps.sum() < load.sum() - 1e-9:
        return CapOutcome(None, None, None, None, True, True, "check")
    finite = cost[np.isfinite(cost)]
    integral = bool(np.all(finite == np.round(finite)))
    start = clock.elapsed

    def until(share: float) -> float:
        return start + share * max(0.0, time_limit - start)

    inc = _Incumbent(cost, load, capacity)
    pen = penalised(np.where(allowed, dist, np.inf))
    local_search(inc, pmedian_heuristic(pen, weight, p, fixed), fixed, clock, until(0.05))
    margin = (1.0 - 1e-6) if integral else 1e-9 * max(1.0, abs(inc.value) if np.isfinite(inc.value) else 1.0)
    lag: _Lagrange | None = None
    ks: _Knapsacks | None = None
    integer_loads = bool(np.all(load == np.round(load)))
    if integer_loads:
        probe = _Knapsacks(cost, load, capacity)
        if n * m * (probe.top + 1) <= _DP_CELLS:
            ks = probe
            lag = lagrangian(ks, p, fixed, inc, margin, clock, until(0.15))
    bound = lag.bound if lag is not None and math.isfinite(lag.bound) else None
    if inc.open is not None and not (bound is not None and bound >= inc.value - margin):
        iterated_local_search(inc, fixed, clock, until(ILS_SHARE))
    if bound is not None and integral:
        bound = math.ceil(bound - 1e-6)
    if inc.open is not None and bound is not None and bound >= inc.value - margin:
        return _done(inc, max(bound, inc.value) if integral else bound, True, "lagrange")
    # Polish the incumbent's assignment exactly: the greedy may leave a little on the table.
    if inc.open is not None:
        sites = inc.open
        pos = exact_assign(cost[:, sites], load, capacity[sites], time_limit=min(5.0, max(0.1, until(ILS_SHARE + 0.05) - clock.elapsed)), cutoff=inc.value - margin)
        if pos is not None:
            inc.offer(sites, sites[pos], float(cost[np.arange(n), sites[pos]].sum()))
    if inc.open is not None and bound is not None and bound >= inc.value - margin:
        return _done(inc, max(bound, inc.value) if integral else bound, True, "lagrange")
    if not use_mip:
        return _done(inc, bound, False, "heuristic+lagrange")
    closed = np.zeros(m, dtype=bool)
    opened = np.zeros(m, dtype=bool)
    use = allowed
    if lag is not None and ks is not None and inc.open is not None:
        closed, opened, forbidden = reduce(ks, lag, p, fixed, inc.value - margin)
        use = allowed & ~forbidden
    forced = np.union1d(fixed, np.flatnonzero(opened)).astype(np.int64)
    model, ii, jj = capacitated_model(np.where(use, cost, 0.0), load, capacity, p, forced, use, closed)
    cutoff = inc.value - margin if inc.open is not None else None
    out = solve_mip(model, time_limit=clock.remaining(time_limit), cutoff=cutoff, workers=workers)
    if out.infeasible:
        if inc.open is None:
            # No cutoff and no fixing were used: the model itself has no solution.
            return CapOutcome(None, None, None, None, True, True, "mip")
        return _done(inc, inc.value, True, "mip")
    got = _from_mip(out, m, n, ii, jj)
    if got is not None:
        inc.offer(got[0], got[1], float(cost[np.arange(n), got[1]].sum()))
    mip_bound = out.bound
    if mip_bound is not None and inc.open is not None:
        mip_bound = min(mip_bound, inc.value)  # the reduction only dropped plans no better than it
    bounds = [b for b in (bound, mip_bound) if b is not None]
    best_bound = max(bounds) if bounds else None
    if best_bound is not None and integral:
        best_bound = math.ceil(best_bound - 1e-6)
    if inc.open is None:
        return CapOutcome(None, None, None, best_bound, False, False, "mip", "no solution found within the time limit")
    proven = out.proven or (best_bound is not None and best_bound >= inc.value - margin)
    return _done(inc, best_bound, proven, "mip")


def _done(inc: _Incumbent, bound: float | None, proven: bool, stage: str) -> CapOutcome:
    assert inc.open is not None and inc.site_of is not None
    note = "" if proven else "time limit reached: best plan found, not proven optimal"
    return CapOutcome(inc.open, inc.site_of, inc.value, bound, proven, False, stage, note)
