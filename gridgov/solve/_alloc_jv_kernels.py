"""numba kernels of :mod:`gridgov.solve._alloc_jv` (imported only when that module needs them:
importing this compiles nothing until the first call, and the compiled code is cached on disk)."""

from __future__ import annotations

import numpy as np

from gridgov.solve._numba_cache import ensure_cache_dir

ensure_cache_dir()
import numba  # noqa: E402  (after the cache folder is settled)

UNMATCHED = -1
DUMMY = -2

njit = numba.njit(cache=True, nogil=True)


@njit
def heap_push(hd, hc, size, d, c):
    i = size
    hd[i] = d
    hc[i] = c
    while i > 0:
        p = (i - 1) >> 1
        if hd[p] <= hd[i]:
            break
        hd[p], hd[i] = hd[i], hd[p]
        hc[p], hc[i] = hc[i], hc[p]
        i = p
    return size + 1


@njit
def heap_pop(hd, hc, size):
    d = hd[0]
    c = hc[0]
    size -= 1
    hd[0] = hd[size]
    hc[0] = hc[size]
    i = 0
    while True:
        a = 2 * i + 1
        if a >= size:
            break
        b = a + 1
        s = a
        if b < size and hd[b] < hd[a]:
            s = b
        if hd[i] <= hd[s]:
            break
        hd[s], hd[i] = hd[i], hd[s]
        hc[s], hc[i] = hc[i], hc[s]
        i = s
    return d, c, size


@njit
def relax(j, nd, p, pc, dist, pred, pcost, touched, nt, hd, hc, size, inf):
    """Column j reached at distance nd from p (a row, or -(k + 2): the dummy holding k)."""
    if nd < dist[j]:
        if dist[j] == inf:
            touched[nt] = j
            nt += 1
        dist[j] = nd
        pred[j] = p
        pcost[j] = pc
        size = heap_push(hd, hc, size, nd, j)
    return nt, size


@njit
def warm(indptr, indices, cost, v, x_row, y_col, c_row):
    """Free every matched row whose best reduced column beats its own; count them."""
    n = x_row.size
    dropped = 0
    for i in range(n):
        j = x_row[i]
        if j < 0:
            continue
        own = c_row[i] - v[j]
        for a in range(indptr[i], indptr[i + 1]):
            if cost[a] - v[indices[a]] < own:
                x_row[i] = UNMATCHED
                y_col[j] = UNMATCHED
                dropped += 1
                break
    return dropped


@njit
def augment_all(indptr, indices, cost, v, x_row, y_col, c_row):
    """Insert every free row by a shortest augmenting path; how many have none (stay free)."""
    n = x_row.size
    m = v.size
    inf = np.iinfo(np.int64).max // 4
    dist = np.full(m, inf, dtype=np.int64)
    done = np.zeros(m, dtype=np.bool_)
    pred = np.full(m, -1, dtype=np.int64)
    pcost = np.zeros(m, dtype=np.int64)
    touched = np.empty(m, dtype=np.int64)
    final = np.empty(m, dtype=np.int64)
    cap = indptr[n] + m + 16  # each arc and each dummy relaxation pushes once per path
    hd = np.empty(cap, dtype=np.int64)
    hc = np.empty(cap, dtype=np.int64)
    failed = 0
    for s in range(n):
        if x_row[s] >= 0:
            continue
        nt = 0
        nf = 0
        size = 0
        for a in range(indptr[s], indptr[s + 1]):
            j = indices[a]
            nt, size = relax(j, cost[a] - v[j], s, cost[a], dist, pred, pcost, touched, nt,
                             hd, hc, size, inf)
        dummy_used = False
        end = -1
        mu = 0
        while size > 0:
            d, k, size = heap_pop(hd, hc, size)
            if done[k] or d > dist[k]:
                continue
            done[k] = True
            final[nf] = k
            nf += 1
            owner = y_col[k]
            if owner == UNMATCHED:
                end = k
                mu = d
                break
            if owner >= 0:
                base = d - (c_row[owner] - v[k])
                for a in range(indptr[owner], indptr[owner + 1]):
                    j = indices[a]
                    if done[j]:
                        continue
                    nt, size = relax(j, base + cost[a] - v[j], owner, cost[a], dist, pred,
                                     pcost, touched, nt, hd, hc, size, inf)
            elif not dummy_used:
                # The dummy row holding k reaches every column at v_k - v_l.
                dummy_used = True
                for j in range(m):
                    if done[j]:
                        continue
                    nt, size = relax(j, d + v[k] - v[j], -(k + 2), 0, dist, pred, pcost,
                                     touched, nt, hd, hc, size, inf)
        if end < 0:
            # No augmenting path: no maximum matching covers s; leave it free.
            failed += 1
            for t in range(nt):
                k = touched[t]
                dist[k] = inf
                done[k] = False
                pred[k] = -1
            continue
        for t in range(nf):
            k = final[t]
            v[k] += dist[k] - mu
        j = end
        while True:
            p = pred[j]
            if p >= 0:
                old = x_row[p]
                x_row[p] = j
                y_col[j] = p
                c_row[p] = pcost[j]
                if p == s:
                    break
                j = old
            else:
                y_col[j] = DUMMY
                j = -p - 2
        for t in range(nt):
            k = touched[t]
            dist[k] = inf
            done[k] = False
            pred[k] = -1
    return failed


@njit
def price_cells(grids, pts, order, starts, sizes, box_lo, box_hi, cell_v, u, v, rows, radius,
                scale, per_grid):
    """For each grid in ``rows``: its ``per_grid`` most improving workers (reduced cost
    ``dist * scale - u_i - v_j < 0``), scanning only the cells whose bounding box and largest
    v could hold one. ``pts`` are the workers in cell order (``order`` maps back)."""
    n_out = rows.size * per_grid
    out_r = np.empty(n_out, dtype=np.int64)
    out_c = np.empty(n_out, dtype=np.int64)
    out_d = np.empty(n_out, dtype=np.float64)
    best_red = np.empty(per_grid, dtype=np.float64)
    best_c = np.empty(per_grid, dtype=np.int64)
    best_d = np.empty(per_grid, dtype=np.float64)
    vmax = -np.inf
    for c in range(cell_v.size):
        vmax = max(vmax, cell_v[c])
    count = 0
    for t in range(rows.size):
        i = rows[t]
        ui = u[i]
        if ui + vmax <= radius[i]:
            continue
        gx = grids[i, 0]
        gy = grids[i, 1]
        kept = 0
        for c in range(starts.size):
            dx = max(box_lo[c, 0] - gx, gx - box_hi[c, 0], 0.0)
            dy = max(box_lo[c, 1] - gy, gy - box_hi[c, 1], 0.0)
            if np.sqrt(dx * dx + dy * dy) * scale - ui - cell_v[c] >= 0:
                continue
            for p in range(starts[c], starts[c] + sizes[c]):
                j = order[p]
                ex = gx - pts[p, 0]
                ey = gy - pts[p, 1]
                d = np.sqrt(ex * ex + ey * ey) * scale
                red = d - ui - v[j]
                if red >= 0:
                    continue
                if kept == per_grid and red >= best_red[kept - 1]:
                    continue
                # insertion into the sorted top list
                q = kept if kept < per_grid else per_grid - 1
                while q > 0 and best_red[q - 1] > red:
                    best_red[q] = best_red[q - 1]
                    best_c[q] = best_c[q - 1]
                    best_d[q] = best_d[q - 1]
                    q -= 1
                best_red[q] = red
                best_c[q] = j
                best_d[q] = d
                if kept < per_grid:
                    kept += 1
        for q in range(kept):
            out_r[count] = i
            out_c[count] = best_c[q]
            out_d[count] = best_d[q]
            count += 1
    return out_r[:count], out_c[:count], out_d[:count]
