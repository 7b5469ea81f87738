"""Contiguous territories by region growing: a fast plan that is connected by construction."""

from __future__ import annotations

import heapq
from collections import deque

import numpy as np


def _neighbours(n: int, edges: np.ndarray) -> list[list[int]]:
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        nbrs[int(a)].append(int(b))
        nbrs[int(b)].append(int(a))
    return nbrs


def _connected(cells: set[int], nbrs: list[list[int]]) -> bool:
    if len(cells) <= 1:
        return True
    start = next(iter(cells))
    seen = {start}
    todo = deque([start])
    while todo:
        for k in nbrs[todo.popleft()]:
            if k in cells and k not in seen:
                seen.add(k)
                todo.append(k)
    return len(seen) == len(cells)


def _largest_component(cells: set[int], nbrs: list[list[int]]) -> set[int]:
    best: set[int] = set()
    left = set(cells)
    while left:
        start = left.pop()
        comp = {start}
        todo = deque([start])
        while todo:
            for k in nbrs[todo.popleft()]:
                if k in left:
                    left.discard(k)
                    comp.add(k)
                    todo.append(k)
        if len(comp) > len(best):
            best = comp
    return best


class _Growth:
    """Mutable state of one growing plan: owner per grid, territory and load per worker."""

    def __init__(self, cost: np.ndarray, load: np.ndarray, capacity: np.ndarray, nbrs: list[list[int]]):
        self.cost, self.load, self.capacity, self.nbrs = cost, load, capacity, nbrs
        n, m = cost.shape
        self.owner = np.full(n, -1, dtype=np.int64)
        self.cells: list[set[int]] = [set() for _ in range(m)]
        self.used = np.zeros(m)
        self.pinned = np.zeros(n, dtype=bool)

    def fits(self, i: int, j: int) -> bool:
        return bool(np.isfinite(self.cost[i, j]) and self.used[j] + self.load[i, j] <= self.capacity[j] + 1e-9)

    def take(self, i: int, j: int) -> None:
        old = self.owner[i]
        if old >= 0:
            self.cells[old].discard(i)
            self.used[old] -= self.load[i, old]
        self.owner[i] = j
        self.cells[j].add(i)
        self.used[j] += self.load[i, j]

    def grow(self) -> None:
        """Cheapest-first: repeatedly give the cheapest free grid bordering a territory to it."""
        heap: list[tuple[float, int, int]] = []
        for j, cells in enumerate(self.cells):
            for c in cells:
                self._push_frontier(heap, c, j)
        while heap:
            _, i, j = heapq.heappop(heap)
            if self.owner[i] >= 0 or not self.fits(i, j):
                continue
            self.take(i, j)
            self._push_frontier(heap, i, j)

    def _push_frontier(self, heap: list[tuple[float, int, int]], cell: int, j: int) -> None:
        for k in self.nbrs[cell]:
            if self.owner[k] < 0 and np.isfinite(self.cost[k, j]):
                heapq.heappush(heap, (float(self.cost[k, j]), k, j))

    def seed_idle(self) -> bool:
        """Start an idle worker on the free grid it reaches most cheaply; False when none can."""
        free = np.flatnonzero(self.owner < 0)
        idle = [j for j in range(self.cost.shape[1]) if not self.cells[j]]
        best: tuple[float, int, int] | None = None
        for j in idle:
            col = self.cost[free, j]
            ok = np.flatnonzero(np.isfinite(col) & (self.load[free, j] <= self.capacity[j] + 1e-9))
            if ok.size:
                k = ok[np.argmin(col[ok])]
                if best is None or col[k] < best[0]:
                    best = (float(col[k]), int(free[k]), j)
        if best is None:
            return False
        self.take(best[1], best[2])
        return True

    def make_room(self) -> bool:
        """Cover a free grid by ejection: a full neighbouring territory A hands one of its border
        grids to a third territory B with room, then takes the free grid; A and B stay connected."""
        progress = False
        for u in np.flatnonzero(self.owner < 0):
            for a in {int(self.owner[k]) for k in self.nbrs[u]} - {-1}:
                if not np.isfinite(self.cost[u, a]) or self._eject_for(int(u), a):
                    progress = progress or self.owner[u] >= 0
                    if self.owner[u] >= 0:
                        break
        return progress

    def _eject_for(self, u: int, a: int) -> bool:
        need = self.used[a] + self.load[u, a] - self.capacity[a]
        if need <= 1e-9:
            self.take(u, a)
            return True
        for b in sorted(self.cells[a], key=lambda c: -self.cost[c, a]):
            if self.pinned[b] or self.load[b, a] + 1e-9 < need:
                continue
            for other in {int(self.owner[k]) for k in self.nbrs[b]} - {a, -1}:
                rest = self.cells[a] - {b}
                if self.fits(b, other) and _connected(rest | {u}, self.nbrs) and _connected(rest, self.nbrs):
                    self.take(b, other)
                    self.take(u, a)
                    return True
        return False

    def improve(self, passes: int = 4) -> None:
        """Move border grids to a cheaper neighbouring territory when both stay connected."""
        for _ in range(passes):
            moved = False
            for i in range(len(self.owner)):
                a = self.owner[i]
                if a < 0 or self.pinned[i]:
                    continue
                for b in {self.owner[k] for k in self.nbrs[i]} - {a, -1}:
                    if self.cost[i, b] < self.cost[i, a] and self.fits(i, b) and _connected(self.cells[a] - {i}, self.nbrs):
                        self.take(i, int(b))
                        moved = True
                        break
            if not moved:
                return


def grow_territories(
    cost: np.ndarray,
    load: np.ndarray,
    capacity: np.ndarray,
    edges: np.ndarray,
    *,
    current: np.ndarray | None = None,
    locked: list[tuple[int, int]] | None = None,
) -> np.ndarray:
    """A plan whose every territory is connected: ``worker_of`` per grid, -1 = uncovered.

    ``load`` is (n, m) per pair. Start from ``locked`` pairs and, when given, each worker's
    largest connected piece of ``current`` that still fits; then grow territories cheapest-first,
    seed idle workers on grids nobody reached (islands enclosed by full territories), grow again,
    and finally move border grids to cheaper neighbours. Not optimal; connected by construction.
    """
    n, m = cost.shape
    nbrs = _neighbours(n, np.asarray(edges, dtype=np.int64).reshape(-1, 2))
    state = _Growth(cost, load, capacity, nbrs)
    for i, j in locked or []:
        state.take(int(i), int(j))
        state.pinned[int(i)] = True
    if current is not None:
        _keep_current(state, np.asarray(current))
    state.grow()
    while (state.owner < 0).any() and state.seed_idle():
        state.grow()
    for _ in range(6):
        if not ((state.owner < 0).any() and state.make_room()):
            break
        state.grow()
    state.improve()
    return state.owner.copy()


def _keep_current(state: _Growth, current: np.ndarray) -> None:
    """Each worker keeps a connected piece of their current grids, grown out from the cheapest."""
    for j in range(state.cost.shape[1]):
        mine = {int(i) for i in np.flatnonzero(current == j) if state.owner[i] < 0 and np.isfinite(state.cost[i, j])}
        piece = _largest_component(mine, state.nbrs)
        if not piece:
            continue
        start = min(piece, key=lambda c: state.cost[c, j])
        todo = deque([start])
        seen = {start}
        while todo:  # expand only from grids actually kept, so the kept piece stays connected
            i = todo.popleft()
            if not state.fits(i, j):
                continue
            state.take(i, j)
            for k in state.nbrs[i]:
                if k in piece and k not in seen:
                    seen.add(k)
                    todo.append(k)
