"""Candidates and an exact pricing oracle when the cost is the straight-line distance.

For :func:`gridgov.solve.allocate_sparse` on points (grid centres, workers' homes) in a metric
CRS: the k nearest workers of every grid and the k nearest grids of every worker are the
candidates, and the oracle finds pairs with negative reduced cost without a dense matrix.

Pricing bound: a pair (i, j) outside grid i's k nearest workers is at least ``radius[i]``
(grid i's k-th nearest distance) away, and it improves only when ``dist(i, j) < u_i + v_j <=
u_i + max(v)``. Every grid with ``radius[i] >= u_i + max(v)`` is therefore safe wholesale; the
rest are checked against cells of workers (a cell is skipped when even its nearest corner and
its largest v cannot improve), the workers of the remaining cells exactly, and the most
improving few per grid are returned (at least one per grid that has any, so an empty answer is
a proof).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from gridgov.solve import _alloc_jv

_CHUNK = 1 << 21  # grid x cell entries per chunk of rows
_PER_CELL = 8  # workers per cell, on average
_FIRST_CELLS = 4  # cells per grid in the first, cheap pass


class EuclideanPairs:
    """``candidates`` (a csr matrix of distances) and ``__call__(u, v)``, the pricing oracle.

    ``scale`` multiplies the distance (e.g. 1.0 for metres); ``per_grid`` is how many of the
    most improving pairs each checked grid returns.
    """

    def __init__(self, grids: np.ndarray, workers: np.ndarray, *, k: int = 8,
                 per_grid: int = 8, scale: float = 1.0) -> None:
        self.grids = np.asarray(grids, dtype=float).reshape(-1, 2)
        self.workers = np.asarray(workers, dtype=float).reshape(-1, 2)
        self.scale = float(scale)
        self.per_grid = int(per_grid)
        self.checked_rows = 0
        n, m = self.grids.shape[0], self.workers.shape[0]
        kw, kg = min(k, m), min(k, n)
        rows, cols, dist = [], [], []
        self.radius = np.full(n, np.inf)
        if n and m:
            d1, j1 = cKDTree(self.workers).query(self.grids, k=kw)
            d1, j1 = d1.reshape(n, kw), j1.reshape(n, kw)
            # With every worker a candidate nothing is left to price.
            self.radius = d1[:, -1] * self.scale if kw < m else np.full(n, np.inf)
            d2, i2 = cKDTree(self.grids).query(self.workers, k=kg)
            d2, i2 = d2.reshape(m, kg), i2.reshape(m, kg)
            rows = [np.repeat(np.arange(n), kw), i2.ravel()]
            cols = [j1.ravel(), np.repeat(np.arange(m), kg)]
            dist = [d1.ravel(), d2.ravel()]
        r = np.concatenate(rows).astype(np.int64) if rows else np.zeros(0, dtype=np.int64)
        c = np.concatenate(cols).astype(np.int64) if cols else np.zeros(0, dtype=np.int64)
        d = np.concatenate(dist) * self.scale if dist else np.zeros(0)
        _, first = np.unique(r * max(m, 1) + c, return_index=True)
        self.candidates = sp.csr_matrix((d[first], (r[first], c[first])), shape=(n, m))

    @property
    def ceiling(self) -> float:
        """The largest distance the oracle can return (the diagonal of the bounding box)."""
        pts = np.vstack([self.grids, self.workers])
        if pts.size == 0:
            return 1.0
        return float(np.linalg.norm(pts.max(axis=0) - pts.min(axis=0))) * self.scale + 1.0

    def _cells(self) -> None:
        """Workers binned into square cells of about ``_PER_CELL`` workers, each with the
        bounding box of its own workers: a cheap lower bound on any worker's distance."""
        m = self.workers.shape[0]
        lo = self.workers.min(axis=0)
        span = np.maximum(self.workers.max(axis=0) - lo, 1e-9)
        side = max(1, int(np.sqrt(m / _PER_CELL)))
        ij = np.minimum((self.workers - lo) / span * side, side - 1).astype(np.int64)
        cell = ij[:, 0] * side + ij[:, 1]
        self._order = np.argsort(cell, kind="stable")
        sorted_cell = cell[self._order]
        self._starts = np.r_[0, np.flatnonzero(np.diff(sorted_cell)) + 1]
        self._sizes = np.diff(np.r_[self._starts, m])
        pts = self._pts = np.ascontiguousarray(self.workers[self._order])
        self._box_lo = np.minimum.reduceat(pts, self._starts, axis=0)
        self._box_hi = np.maximum.reduceat(pts, self._starts, axis=0)

    def __call__(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Compiled (numba, when installed): every cell that could hold an improving worker,
        the most improving ``per_grid`` pairs of each grid. numpy: first the few most promising
        cells of each grid; only when they hold no improving pair at all, every cell (so an
        empty answer still proves that none exists)."""
        if _alloc_jv.available():
            return self._price_compiled(u, v)
        found = self._price(u, v, _FIRST_CELLS)
        if found[0].size:
            return found
        return self._price(u, v, np.iinfo(np.int64).max)

    def _price_compiled(
        self, u: np.ndarray, v: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        u = np.ascontiguousarray(u, dtype=float)
        v = np.ascontiguousarray(v, dtype=float)
        if self.workers.shape[0] == 0 or self.grids.shape[0] == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        rows = np.flatnonzero(u + v.max() > self.radius)
        self.checked_rows += int(rows.size)
        if rows.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        if not hasattr(self, "_order"):
            self._cells()
        cell_v = np.maximum.reduceat(v[self._order], self._starts)
        return _alloc_jv.kernels().price_cells(
            self.grids, self._pts, self._order, self._starts, self._sizes, self._box_lo,
            self._box_hi, cell_v, u, v, rows, self.radius, self.scale, self.per_grid)

    def _price(
        self, u: np.ndarray, v: np.ndarray, cells_per_grid: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        u = np.asarray(u, dtype=float)
        v = np.asarray(v, dtype=float)
        m = self.workers.shape[0]
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
        if m == 0:
            return empty
        rows = np.flatnonzero(u + v.max() > self.radius)
        if rows.size == 0:
            return empty
        if not hasattr(self, "_order"):
            self._cells()
        cell_v = np.maximum.reduceat(v[self._order], self._starts)
        out_r, out_c, out_d = [], [], []
        step = max(1, _CHUNK // max(self._starts.size, 1))
        for start in range(0, rows.size, step):
            chunk = rows[start:start + step]
            # Grid x cell pairs whose cell could hold an improving worker.
            gap = np.maximum(np.maximum(self._box_lo[None] - self.grids[chunk, None],
                                        self.grids[chunk, None] - self._box_hi[None]), 0.0)
            near = np.sqrt((gap * gap).sum(axis=2)) * self.scale
            bound = near - u[chunk, None] - cell_v[None, :]
            if cells_per_grid < bound.shape[1]:
                pick = np.argpartition(bound, cells_per_grid - 1, axis=1)[:, :cells_per_grid]
                gi, slot = np.nonzero(np.take_along_axis(bound, pick, axis=1) < 0)
                ci = pick[gi, slot]
            else:
                gi, ci = np.nonzero(bound < 0)
            sizes = self._sizes[ci]
            total = int(sizes.sum())
            if total == 0:
                continue
            r = np.repeat(chunk[gi], sizes)
            pos = np.repeat(self._starts[ci] - np.cumsum(sizes) + sizes, sizes) + np.arange(total)
            c = self._order[pos]
            diff = self.grids[r] - self.workers[c]
            dist = np.sqrt((diff * diff).sum(axis=1)) * self.scale
            reduced = dist - u[r] - v[c]
            keep = reduced < 0
            r, c, dist, reduced = r[keep], c[keep], dist[keep], reduced[keep]
            order = np.lexsort((reduced, r))
            r, c, dist = r[order], c[order], dist[order]
            first = np.r_[0, np.flatnonzero(np.diff(r)) + 1]
            rank = np.arange(r.size) - np.repeat(first, np.diff(np.r_[first, r.size]))
            top = rank < self.per_grid
            out_r.append(r[top])
            out_c.append(c[top])
            out_d.append(dist[top])
        self.checked_rows += int(rows.size)
        if not out_r:
            return empty
        return np.concatenate(out_r), np.concatenate(out_c), np.concatenate(out_d)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances, computed coordinate-wise (no catastrophic cancellation)."""
    dx = a[:, 0, None] - b[None, :, 0]
    dy = a[:, 1, None] - b[None, :, 1]
    return np.sqrt(dx * dx + dy * dy)
