"""Numba kernels of the knapsack Lagrangian for rule "several" (compiled on first call, cached on disk)."""

from __future__ import annotations

import numpy as np

from gridgov.solve._numba_cache import ensure_cache_dir

ensure_cache_dir()
import numba  # noqa: E402  (after the cache folder is settled)

njit = numba.njit(cache=True, nogil=True)


@njit
def knapsack(profit: np.ndarray, weight: np.ndarray, cap: int, take: np.ndarray) -> float:
    """0/1 knapsack by dynamic programming over capacity; sets ``take`` and returns the profit.

    Every profit is > 0 and every weight <= cap (the caller filters); ``take`` has their length.
    """
    k = profit.size
    total = 0
    for a in range(k):
        total += weight[a]
    if total <= cap:
        s = 0.0
        for a in range(k):
            take[a] = True
            s += profit[a]
        return s
    width = min(cap, total) + 1
    best = np.zeros(width)
    keep = np.zeros((k, width), dtype=np.bool_)
    for a in range(k):
        w = weight[a]
        p = profit[a]
        for c in range(width - 1, w - 1, -1):
            cand = best[c - w] + p
            if cand > best[c]:
                best[c] = cand
                keep[a, c] = True
    c = width - 1
    for a in range(k - 1, -1, -1):
        take[a] = keep[a, c]
        if take[a]:
            c -= weight[a]
    return best[width - 1]


@njit
def evaluate(u: np.ndarray, cost: np.ndarray, grid: np.ndarray, weight: np.ndarray, wptr: np.ndarray,
             cap: np.ndarray, active: np.ndarray, cover: np.ndarray) -> float:
    """L(u) = sum of u over the ``active`` grids + sum over workers of min over their knapsack
    of sum (c - u) x. Pairs are grouped by worker (``wptr``) and name active grids only;
    ``cover[i]`` counts how often grid i is taken.
    """
    n = u.size
    value = 0.0
    for i in range(n):
        if active[i]:
            value += u[i]
        cover[i] = 0
    taken = np.zeros(cost.size, dtype=np.bool_)
    m = wptr.size - 1
    for j in range(m):
        value -= _worker_knapsack(j, u, cost, grid, weight, wptr, cap, taken)
        for p in range(wptr[j], wptr[j + 1]):
            if taken[p]:
                cover[grid[p]] += 1
    return value


@njit
def subgradient(u0: np.ndarray, cost: np.ndarray, grid: np.ndarray, weight: np.ndarray, wptr: np.ndarray,
                cap: np.ndarray, active: np.ndarray, target: float, iterations: int, patience: int) -> tuple:
    """Polyak subgradient ascent on L(u) towards ``target`` (an upper bound); returns (best u,
    best L). The step factor halves after ``patience`` iterations without a better L."""
    n = u0.size
    u = u0.copy()
    best_u = u0.copy()
    cover = np.zeros(n, dtype=np.int64)
    best = evaluate(u, cost, grid, weight, wptr, cap, active, cover)
    lam = 1.0
    stale = 0
    for _ in range(iterations):
        norm = 0.0
        for i in range(n):
            if active[i]:
                g = 1 - cover[i]
                norm += g * g
        if norm == 0.0:
            break  # the relaxed plan covers every grid exactly once: it is optimal
        gap = target - best
        if gap <= 1e-9 * max(1.0, abs(target)):
            break
        step = lam * gap / norm
        for i in range(n):
            if active[i]:
                u[i] += step * (1 - cover[i])
        value = evaluate(u, cost, grid, weight, wptr, cap, active, cover)
        if value > best + 1e-12 * max(1.0, abs(best)):
            best = value
            best_u[:] = u
            stale = 0
        else:
            stale += 1
            if stale >= patience:
                lam *= 0.5
                stale = 0
                if lam < 1e-4:
                    break
    return best_u, best


@njit
def fixing_penalties(u: np.ndarray, cost: np.ndarray, grid: np.ndarray, weight: np.ndarray,
                     wptr: np.ndarray, cap: np.ndarray, up: np.ndarray, down: np.ndarray) -> None:
    """For every pair, how much L(u) rises when the pair is forced in (``up``) or out (``down``).

    Per worker: a forward and a backward DP over the improving items (reduced cost < 0) give the
    best profit without any one item at every capacity; a pair that cannot fit gets ``up`` = inf.
    """
    m = wptr.size - 1
    for j in range(m):
        lo, hi = wptr[j], wptr[j + 1]
        c_j = cap[j]
        cnt = 0
        for p in range(lo, hi):
            if cost[p] - u[grid[p]] < 0.0 and weight[p] <= c_j:
                cnt += 1
        idx = np.empty(cnt, dtype=np.int64)
        a = 0
        for p in range(lo, hi):
            if cost[p] - u[grid[p]] < 0.0 and weight[p] <= c_j:
                idx[a] = p
                a += 1
        total = 0
        for a in range(cnt):
            total += weight[idx[a]]
        c_j = min(c_j, total)  # more room than all improving items need changes nothing
        width = c_j + 1
        # fwd[a, c]: best profit of items < a within capacity c; bwd[a, c]: of items >= a.
        fwd = np.zeros((cnt + 1, width))
        bwd = np.zeros((cnt + 1, width))
        for a in range(cnt):
            w = weight[idx[a]]
            pr = u[grid[idx[a]]] - cost[idx[a]]
            for c in range(width):
                fwd[a + 1, c] = fwd[a, c]
                if c >= w and fwd[a, c - w] + pr > fwd[a + 1, c]:
                    fwd[a + 1, c] = fwd[a, c - w] + pr
        for a in range(cnt - 1, -1, -1):
            w = weight[idx[a]]
            pr = u[grid[idx[a]]] - cost[idx[a]]
            for c in range(width):
                bwd[a, c] = bwd[a + 1, c]
                if c >= w and bwd[a + 1, c - w] + pr > bwd[a, c]:
                    bwd[a, c] = bwd[a + 1, c - w] + pr
        full = fwd[cnt, c_j]
        for p in range(lo, hi):
            w = weight[p]
            r = cost[p] - u[grid[p]]
            if w > cap[j]:
                up[p] = np.inf
                down[p] = 0.0
            elif not (r < 0.0):
                up[p] = r + full - fwd[cnt, min(c_j, cap[j] - w)]
                down[p] = 0.0
        for a in range(cnt):
            p = idx[a]
            w = weight[p]
            r = cost[p] - u[grid[p]]
            # Without item a: the best split of capacity between items before and after it.
            without_full = 0.0
            without_rest = 0.0
            rest = min(c_j, cap[j] - w)
            for c in range(width):
                v = fwd[a, c] + bwd[a + 1, c_j - c]
                if v > without_full:
                    without_full = v
                if c <= rest:
                    v2 = fwd[a, c] + bwd[a + 1, rest - c]
                    if v2 > without_rest:
                        without_rest = v2
            up[p] = full - (without_rest - r)
            down[p] = full - without_full


@njit
def _worker_knapsack(j: int, u: np.ndarray, cost: np.ndarray, grid: np.ndarray, weight: np.ndarray,
                     wptr: np.ndarray, cap: np.ndarray, taken: np.ndarray) -> float:
    """Worker j's knapsack over its pairs of reduced cost c - u < 0: marks the chosen pairs in
    ``taken`` (clearing its others) and returns their profit, -sum (c - u)."""
    lo, hi = wptr[j], wptr[j + 1]
    cnt = 0
    for p in range(lo, hi):
        taken[p] = False
        if cost[p] - u[grid[p]] < 0.0 and weight[p] <= cap[j]:
            cnt += 1
    if cnt == 0:
        return 0.0
    prof = np.empty(cnt)
    wt = np.empty(cnt, dtype=np.int64)
    idx = np.empty(cnt, dtype=np.int64)
    a = 0
    for p in range(lo, hi):
        r = cost[p] - u[grid[p]]
        if r < 0.0 and weight[p] <= cap[j]:
            prof[a] = -r
            wt[a] = weight[p]
            idx[a] = p
            a += 1
    take = np.zeros(cnt, dtype=np.bool_)
    value = knapsack(prof, wt, cap[j], take)
    for a in range(cnt):
        if take[a]:
            taken[idx[a]] = True
    return value


@njit
def repair_and_improve(u: np.ndarray, cost: np.ndarray, grid: np.ndarray, owner: np.ndarray,
                       weight: np.ndarray, wptr: np.ndarray, gptr: np.ndarray, gpairs: np.ndarray,
                       cap: np.ndarray, load: np.ndarray, passes: int) -> np.ndarray:
    """A plan from the relaxed one: each grid keeps its cheapest taker, grids nobody took go
    (largest load first) to the cheapest worker with room, then shift and swap moves lower the
    cost while capacities hold. Returns the pair chosen per grid (-1 where none fits)."""
    n = gptr.size - 1
    m = wptr.size - 1
    taken = np.zeros(cost.size, dtype=np.bool_)
    for j in range(m):
        _worker_knapsack(j, u, cost, grid, weight, wptr, cap, taken)
    chosen = np.full(n, -1, dtype=np.int64)
    room = cap.astype(np.int64).copy()
    for i in range(n):
        best = -1
        for q in range(gptr[i], gptr[i + 1]):
            p = gpairs[q]
            if taken[p] and (best < 0 or cost[p] < cost[best]):
                best = p
        if best >= 0:
            chosen[i] = best
            room[owner[best]] -= load[i]
    _fill_and_improve(chosen, room, cost, owner, gptr, gpairs, load, passes)
    return chosen


@njit
def _fill_and_improve(chosen: np.ndarray, room: np.ndarray, cost: np.ndarray, owner: np.ndarray,
                      gptr: np.ndarray, gpairs: np.ndarray, load: np.ndarray, passes: int) -> None:
    """Give each grid without a worker (largest load first) the cheapest worker with room, then
    ``improve``."""
    for i in np.argsort(-load):
        if chosen[i] >= 0:
            continue
        best = -1
        for q in range(gptr[i], gptr[i + 1]):
            p = gpairs[q]
            if room[owner[p]] >= load[i] and (best < 0 or cost[p] < cost[best]):
                best = p
        if best >= 0:
            chosen[i] = best
            room[owner[best]] -= load[i]
    improve(chosen, cost, owner, gptr, gpairs, room, load, passes)


@njit
def improve(chosen: np.ndarray, cost: np.ndarray, owner: np.ndarray, gptr: np.ndarray,
            gpairs: np.ndarray, room: np.ndarray, load: np.ndarray, passes: int) -> None:
    """Local search in place: move a grid to a worker with room, or swap the workers of two
    grids, whenever that lowers the cost; stops after ``passes`` passes or none improves.
    Uncovered grids (-1) get a worker as soon as one has room."""
    n = gptr.size - 1
    m = room.size
    # pair of (grid i, worker j) lookup through a per-worker scan of grid i's pairs
    for _ in range(passes):
        better = False
        for i in range(n):
            cur = chosen[i]
            for q in range(gptr[i], gptr[i + 1]):
                p = gpairs[q]
                j = owner[p]
                if p == cur or room[j] < load[i]:
                    continue
                if cur < 0 or cost[p] < cost[cur]:
                    if cur >= 0:
                        room[owner[cur]] += load[i]
                    room[j] -= load[i]
                    chosen[i] = p
                    cur = p
                    better = True
        # swaps: grid i (worker a) <-> grid k (worker b) through i's pair with b and k's with a
        holder = np.full(m + 1, 0, dtype=np.int64)
        for i in range(n):
            if chosen[i] >= 0:
                holder[owner[chosen[i]] + 1] += 1
        for j in range(m):
            holder[j + 1] += holder[j]
        held = np.empty(holder[m], dtype=np.int64)
        fill = holder[:m].copy()
        for i in range(n):
            if chosen[i] >= 0:
                j = owner[chosen[i]]
                held[fill[j]] = i
                fill[j] += 1
        for i in range(n):
            pi = chosen[i]
            if pi < 0:
                continue
            a = owner[pi]
            for q in range(gptr[i], gptr[i + 1]):
                p_ib = gpairs[q]
                b = owner[p_ib]
                if b == a:
                    continue
                for h in range(holder[b], holder[b + 1]):
                    k = held[h]
                    pk = chosen[k]
                    if k == i or pk < 0 or owner[pk] != b:
                        continue
                    if room[b] + load[k] < load[i] or room[a] + load[i] < load[k]:
                        continue
                    p_ka = -1
                    for q2 in range(gptr[k], gptr[k + 1]):
                        if owner[gpairs[q2]] == a:
                            p_ka = gpairs[q2]
                            break
                    if p_ka < 0:
                        continue
                    if cost[p_ib] + cost[p_ka] < cost[pi] + cost[pk] - 1e-9:
                        room[a] += load[i] - load[k]
                        room[b] += load[k] - load[i]
                        chosen[i] = p_ib
                        chosen[k] = p_ka
                        better = True
                        break
                if chosen[i] != pi:
                    break
        if not better:
            return


@njit
def enumerate_patterns(r: np.ndarray, weight: np.ndarray, items: np.ndarray, wptr: np.ndarray,
                       cap: np.ndarray, limit: np.ndarray, max_out: int, max_steps: int,
                       out_items: np.ndarray, out_ptr: np.ndarray, out_owner: np.ndarray) -> int:
    """Every subset of each worker's items that fits its capacity with sum of ``r`` <= its
    ``limit`` (items sorted by r within each worker's segment ``wptr``); written as runs of
    ``items`` (``out_ptr``) with their worker (``out_owner``). Returns how many, -1 beyond
    ``max_out``, the room of ``out_items`` or ``max_steps`` search steps (the bound ignores
    capacity, so tight capacities can make the search long with few sets to show for it)."""
    count = 0
    steps = 0
    filled = 0
    out_ptr[0] = 0
    m = wptr.size - 1
    for j in range(m):
        lo, hi = wptr[j], wptr[j + 1]
        k = hi - lo
        suffix = np.zeros(k + 1)  # sum of the negative r from position a on
        for a in range(k - 1, -1, -1):
            suffix[a] = suffix[a + 1] + min(r[lo + a], 0.0)
        pos = np.empty(k, dtype=np.int64)
        depth = 0
        rc = 0.0
        room = cap[j]
        start = 0
        if 0.0 <= limit[j]:
            if count >= max_out:
                return -1
            out_owner[count] = j
            count += 1
            out_ptr[count] = filled
        while True:
            steps += 1
            if steps > max_steps:
                return -1
            nxt = -1
            for b in range(start, k):
                # r is sorted, so once the best completion through b is over the limit, it is
                # over for every later item too.
                if rc + r[lo + b] + suffix[b + 1] > limit[j]:
                    break
                if weight[lo + b] <= room:
                    nxt = b
                    break
            if nxt >= 0:
                pos[depth] = nxt
                depth += 1
                rc += r[lo + nxt]
                room -= weight[lo + nxt]
                start = nxt + 1
                if rc <= limit[j]:
                    if count >= max_out or filled + depth > out_items.size:
                        return -1
                    for d in range(depth):
                        out_items[filled] = items[lo + pos[d]]
                        filled += 1
                    out_owner[count] = j
                    count += 1
                    out_ptr[count] = filled
            else:
                if depth == 0:
                    break
                depth -= 1
                b = pos[depth]
                rc -= r[lo + b]
                room += weight[lo + b]
                start = b + 1
    return count


@njit
def price(u: np.ndarray, cost: np.ndarray, grid: np.ndarray, weight: np.ndarray, wptr: np.ndarray,
          cap: np.ndarray, taken: np.ndarray) -> float:
    """Every worker's knapsack at u: marks the chosen pairs in ``taken`` and returns L(u) (as
    ``evaluate`` over all grids)."""
    value = 0.0
    for i in range(u.size):
        value += u[i]
    for j in range(wptr.size - 1):
        value -= _worker_knapsack(j, u, cost, grid, weight, wptr, cap, taken)
    return value


@njit
def plan_from_shares(share: np.ndarray, cost: np.ndarray, owner: np.ndarray, grid: np.ndarray,
                     gptr: np.ndarray, gpairs: np.ndarray, cap: np.ndarray, load: np.ndarray,
                     passes: int) -> np.ndarray:
    """Round a fractional plan: pairs in order of falling ``share`` give their grid to their
    worker while it has room; grids left over (largest load first) go to the cheapest worker with
    room; then ``improve``. Returns the pair chosen per grid (-1 where none fits)."""
    n = gptr.size - 1
    chosen = np.full(n, -1, dtype=np.int64)
    room = cap.astype(np.int64).copy()
    for p in np.argsort(-share):
        if share[p] <= 0.0:
            break
        i = grid[p]
        if chosen[i] < 0 and room[owner[p]] >= load[i]:
            chosen[i] = p
            room[owner[p]] -= load[i]
    _fill_and_improve(chosen, room, cost, owner, gptr, gpairs, load, passes)
    return chosen
