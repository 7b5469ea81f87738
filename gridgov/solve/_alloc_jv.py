"""Sparse shortest-augmenting-path assignment (Jonker-Volgenant style) with warm starts.

Rows are grids, columns workers, n <= m, integer costs on a CSR candidate list. The solver
keeps exact column prices ``v`` at every step (reduced cost ``c_ij - u_i - v_j >= 0`` on
every candidate, 0 on every used pair, with ``u_i = c_i,x(i) - v_x(i)``), so LP duals come
for free, and a later round can start from the previous assignment and prices:

* :func:`warm_start` drops the rows that a new candidate would pull away from their worker
  (``min_j c_ij - v_j < c_i,x(i) - v_x(i)``); every other row keeps its worker and the prices
  stay feasible;
* :func:`augment` then re-inserts each free row by Dijkstra on reduced costs (non-negative),
  ending at an unmatched column, and lowers the prices of the columns it finalised by
  ``mu - d_j`` (the Jonker-Volgenant update), which keeps every reduced cost non-negative.

More workers than grids: the problem is the square one with ``m - n`` dummy rows whose cost
to every column is 0. They are implicit: a column "held by a dummy" (state ``-2``) may be
taken by a path, which then continues from the dummy to any column ``l`` at reduced cost
``v_k - v_l`` (dual feasibility of the dummy rows makes every dummy-held column's price the
largest). At the end the prices are shifted so that the largest is 0: then ``v <= 0``, 0 on
every worker without a grid, and ``sum(u) + sum(v)`` equals the plan's cost.

numba is imported lazily (:func:`available`); without it the caller keeps its other path.
"""

from __future__ import annotations

import numpy as np

UNMATCHED = -1
DUMMY = -2


def available() -> bool:
    """Whether numba can be imported (the kernels compile on first use, cached on disk)."""
    try:
        kernels()
    except ImportError:
        return False
    return True


def kernels():
    """The compiled kernels module (numba imported here, lazily)."""
    from gridgov.solve import _alloc_jv_kernels  # noqa: PLC0415 - lazy: numba is optional

    return _alloc_jv_kernels


class SparseJV:
    """Assignment state (rows -> columns, prices) kept across rounds of added candidates."""

    def __init__(self, n: int, m: int) -> None:
        if n > m:
            raise ValueError("more rows than columns")
        self.n, self.m = n, m
        self.v = np.zeros(m, dtype=np.int64)
        self.x_row = np.full(n, UNMATCHED, dtype=np.int64)
        self.c_row = np.zeros(n, dtype=np.int64)
        self.y_col = np.full(m, UNMATCHED, dtype=np.int64)
        # m - n columns start held by the implicit dummy rows (all prices equal: any will do).
        self.y_col[n:] = DUMMY
        self.dropped = 0

    def solve(self, rows: np.ndarray, cols: np.ndarray, cost: np.ndarray) -> int:
        """Optimal assignment on these candidates (each pair once), from the current state.
        Returns how many rows stay free: 0, or the rows no maximum matching of the candidates
        covers (``x_row`` -1; the prices stay feasible, so more candidates can be added and
        the next call warm-starts). The matched rows then form a maximum matching."""
        k = kernels()
        order = np.lexsort((cols, rows))
        rows, cols, cost = rows[order], cols[order], cost[order]
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.n), out=indptr[1:])
        indices = np.ascontiguousarray(cols, dtype=np.int64)
        cost = np.ascontiguousarray(cost, dtype=np.int64)
        self.dropped = int(k.warm(indptr, indices, cost, self.v, self.x_row, self.y_col,
                                     self.c_row))
        return int(k.augment_all(indptr, indices, cost, self.v, self.x_row, self.y_col,
                                 self.c_row))

    def duals(self) -> tuple[np.ndarray, np.ndarray]:
        """(u, v) with v <= 0, 0 on every worker without a grid, u_i + v_x(i) = c_i,x(i)."""
        top = int(self.v.max()) if self.m else 0
        v = self.v - top
        u = self.c_row - v[self.x_row]
        return u, v

    def free_block(self) -> tuple[np.ndarray, np.ndarray]:
        """Masks of the free rows and of the columns no row holds."""
        return self.x_row < 0, self.y_col < 0

    @property
    def objective(self) -> int:
        return int(self.c_row.sum())
