"""Region growing on hand-drawn lattices: every territory connected, capacity kept, current reused."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gridgov.solve._alloc_grow import _connected, _neighbours, grow_territories


def _lattice(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges of a rows×cols rook lattice and the (x, y) centre of each cell."""
    idx = np.arange(rows * cols).reshape(rows, cols)
    edges = np.concatenate([np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()]),
                            np.column_stack([idx[:-1, :].ravel(), idx[1:, :].ravel()])])
    xy = np.column_stack([np.tile(np.arange(cols), rows), np.repeat(np.arange(rows), cols)]).astype(float)
    return edges, xy


def _check(worker_of, load, capacity, edges):
    nbrs = _neighbours(len(worker_of), edges)
    for j in range(len(capacity)):
        cells = set(np.flatnonzero(worker_of == j).tolist())
        assert _connected(cells, nbrs), f"worker {j} territory {sorted(cells)} is not connected"
        assert load[list(cells), j].sum() <= capacity[j] + 1e-9


def test_two_workers_split_a_strip_at_the_cheapest_point():
    edges, xy = _lattice(1, 6)
    homes = np.array([[0.0, 0.0], [5.0, 0.0]])
    cost = np.hypot(*(xy[:, None, :] - homes[None, :, :]).transpose(2, 0, 1))
    load = np.ones((6, 2))
    worker_of = grow_territories(cost, load, np.array([3.0, 3.0]), edges)
    assert worker_of.tolist() == [0, 0, 0, 1, 1, 1]


def test_enclosed_island_gets_an_idle_worker():
    # 3x3: worker 0 (capacity 8) lives at the corner; the far corner is left for worker 1.
    edges, xy = _lattice(3, 3)
    cost = np.hypot(*(xy[:, None, :] - np.array([[0.0, 0.0], [2.0, 2.0]])[None]).transpose(2, 0, 1))
    load = np.ones((9, 2))
    worker_of = grow_territories(cost, load, np.array([8.0, 1.0]), edges)
    assert (worker_of >= 0).all()
    _check(worker_of, load, np.array([8.0, 1.0]), edges)


def test_current_plan_is_kept_where_it_still_fits():
    edges, xy = _lattice(1, 6)
    cost = np.zeros((6, 3))
    current = np.array([0, 0, 1, 1, 2, 2])
    worker_of = grow_territories(cost, np.ones((6, 3)), np.array([2.0, 2.0, 2.0]), edges, current=current)
    assert worker_of.tolist() == current.tolist()


def test_locked_pairs_are_kept():
    edges, xy = _lattice(1, 4)
    cost = np.array([[0.0, 9.0], [0.0, 9.0], [9.0, 0.0], [9.0, 0.0]])
    worker_of = grow_territories(cost, np.ones((4, 2)), np.array([4.0, 4.0]), edges, locked=[(1, 1)])
    assert worker_of[1] == 1
    _check(worker_of, np.ones((4, 2)), np.array([4.0, 4.0]), edges)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 5), cols=st.integers(1, 6), m=st.integers(1, 5),
    seed=st.integers(0, 10_000), cap=st.floats(0.5, 6.0),
)
def test_every_territory_is_connected_and_within_capacity(rows, cols, m, seed, cap):
    rng = np.random.default_rng(seed)
    edges, xy = _lattice(rows, cols)
    n = rows * cols
    homes = rng.uniform(0, max(rows, cols), size=(m, 2))
    cost = np.hypot(*(xy[:, None, :] - homes[None]).transpose(2, 0, 1))
    cost[rng.random((n, m)) < 0.1] = np.inf
    load = np.repeat(rng.uniform(0.2, 1.5, size=(n, 1)), m, axis=1)
    capacity = np.full(m, cap)
    current = rng.integers(-1, m, size=n)
    worker_of = grow_territories(cost, load, capacity, edges, current=current)
    _check(worker_of, load, capacity, edges)
    assert np.all(np.isfinite(cost[np.flatnonzero(worker_of >= 0), worker_of[worker_of >= 0]]))
