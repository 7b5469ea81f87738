"""Hand-drawn allocation cases whose optimum is known by hand: rules, shortfall, contiguity,
locks, minimal moves, balance, validation and the sparse entry point."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from alloc_invariants import assert_plan_valid, territories_connected
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from gridgov.errors import UserError
from gridgov.solve import AllocationResult, allocate
from gridgov.solve.allocation import allocate_sparse

INF = np.inf
FAST = 5.0  # seconds: every hand-drawn case is proven in far less


def path_edges(n: int) -> np.ndarray:
    return np.array([(i, i + 1) for i in range(n - 1)])


def grid_edges(rows: int, cols: int) -> np.ndarray:
    """Rook adjacency of a rows x cols board numbered row by row (shared edges, no corners)."""
    out = []
    for r in range(rows):
        for c in range(cols):
            g = r * cols + c
            if c + 1 < cols:
                out.append((g, g + 1))
            if r + 1 < rows:
                out.append((g, g + cols))
    return np.array(out)


# ----------------------------------------------------------------------------- rule "one"


def test_one_square_matches_hand_optimum() -> None:
    cost = np.array([[4.0, 1, 3], [2, 0, 5], [3, 2, 2]])
    res = allocate(cost, rule="one")
    assert res.status == "optimal"
    assert res.cost == 5.0  # 1 + 2 + 2: grid0->w1, grid1->w0, grid2->w2
    assert res.bound == 5.0 and res.gap == 0.0
    assert_plan_valid(res, cost, rule="one")


def test_one_more_grids_than_workers_leaves_the_costliest_out_with_a_reason() -> None:
    cost = np.array([[1.0, 5], [5, 1], [9, 9]])
    res = allocate(cost, rule="one")
    assert res.worker_of.tolist() == [0, 1, -1]
    assert res.cost == 2.0
    assert [u.code for u in res.uncovered] == ["capacity_shortfall"]
    assert "2" in res.uncovered[0].reason_en and "3" in res.uncovered[0].reason_en
    assert_plan_valid(res, cost, rule="one")


def test_one_grid_without_eligible_worker() -> None:
    cost = np.array([[1.0, 2], [INF, INF], [3, 1]])
    res = allocate(cost, rule="one")
    assert res.cost == 2.0
    assert [(u.grid, u.code) for u in res.uncovered] == [(1, "no_eligible_worker")]
    assert "inf" in res.uncovered[0].reason
    assert_plan_valid(res, cost, rule="one")


def test_one_inf_pairs_force_a_costlier_matching() -> None:
    cost = np.array([[1.0, INF], [2.0, 10.0]])  # grid0 can only take w0, so grid1 pays 10
    res = allocate(cost, rule="one")
    assert res.worker_of.tolist() == [0, 1] and res.cost == 11.0


# ----------------------------------------------------------------------------- rule "several"


def test_several_unit_loads_is_a_transportation_problem() -> None:
    # Both workers prefer grids 0..2; capacity 2 forces one of them to worker 1.
    cost = np.array([[1.0, 4], [1, 5], [1, 6], [7, 1]])
    res = allocate(cost, rule="several", capacity=np.array([2.0, 2.0]))
    assert res.status == "optimal" and res.algorithm.startswith("min_cost_flow")
    assert res.cost == 1 + 1 + 4 + 1
    assert res.load_of.tolist() == [2.0, 2.0]
    assert_plan_valid(res, cost, capacity=np.array([2.0, 2.0]))


def test_several_capacity_shortfall_covers_most_load() -> None:
    cost = np.array([[1.0], [1.0], [1.0]])
    load = np.array([3.0, 2.0, 2.0])
    res = allocate(cost, load=load, capacity=np.array([4.0]), time_limit=FAST)
    # 2 + 2 = 4 beats 3: grid 0 stays out, and the reason names capacity 4 < load 7.
    assert res.worker_of.tolist() == [-1, 0, 0]
    assert res.covered_load == 4.0 and res.total_load == 7.0
    (why,) = res.uncovered
    assert why.code == "capacity_shortfall" and "4" in why.reason and "7" in why.reason
    assert_plan_valid(res, cost, load=load, capacity=np.array([4.0]))


def test_several_load_above_every_capacity() -> None:
    cost = np.array([[1.0, 2], [1, 2]])
    res = allocate(cost, load=np.array([5.0, 1.0]), capacity=np.array([3.0, 3.0]),
                   time_limit=FAST)
    assert res.worker_of.tolist() == [-1, 0]
    assert res.uncovered[0].code == "load_exceeds_capacity"


def test_several_per_pair_loads_small_gap() -> None:
    # Worker 0 is cheap but grids weigh 3 on him; worker 1 is dear but they weigh 1.
    cost = np.array([[1.0, 5], [1, 5], [1, 5]])
    load = np.array([[3.0, 1], [3, 1], [3, 1]])
    cap = np.array([6.0, 3.0])
    res = allocate(cost, load=load, capacity=cap, time_limit=FAST)
    assert res.status == "optimal" and res.cost == 1 + 1 + 5
    assert res.bound == res.cost
    assert_plan_valid(res, cost, load=load, capacity=cap)


def test_several_packing_reason_when_capacity_is_split() -> None:
    cost = np.ones((3, 2))
    load = np.array([2.0, 2.0, 2.0])
    res = allocate(cost, load=load, capacity=np.array([3.0, 3.0]), time_limit=FAST)
    assert res.n_uncovered == 1
    assert res.uncovered[0].code == "capacity_packing"


# ----------------------------------------------------------------------------- contiguity


def test_contiguity_changes_the_optimum_on_a_path() -> None:
    # Path 0-1-2-3; worker 0 is free on 0 and 2, worker 1 on 1 and 3: the cheapest plan
    # (cost 0) is two broken territories. Connected optimum by hand: {0},{1,2,3} or
    # {0,1,2},{3}, both cost 10.
    cost = np.array([[0.0, 10], [10, 0], [0, 10], [10, 0]])
    free = allocate(cost, time_limit=FAST)
    assert free.cost == 0.0
    assert not territories_connected(np.asarray(free.worker_of), path_edges(4))
    res = allocate(cost, adjacency=path_edges(4), time_limit=FAST)
    assert res.status == "optimal" and res.cost == 10.0
    assert_plan_valid(res, cost, edges=path_edges(4))


def test_contiguity_on_a_3x3_board_with_sparse_adjacency() -> None:
    # Worker 0 lives at the top-left corner, worker 1 at the bottom-right; capacity 5 and 4.
    # Cost = Manhattan distance to the home corner, so each grid costs d or 4 - d: by hand the
    # total is 1+1 (d=1) + 2+2+2 (d=2) + 1+1 (d=3) = 10, reached by a connected staircase split
    # (w0 = {0,1,2,3,4}, w1 = {5,6,7,8}).
    rc = [(g // 3, g % 3) for g in range(9)]
    cost = np.array([[r + c, (2 - r) + (2 - c)] for r, c in rc], dtype=float)
    edges = grid_edges(3, 3)
    adj = csr_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(9, 9))
    cap = np.array([5.0, 4.0])
    res = allocate(cost, capacity=cap, adjacency=adj, time_limit=FAST)
    assert res.status == "optimal"
    assert res.cost == 10.0
    assert_plan_valid(res, cost, capacity=cap, edges=edges)


def test_contiguity_reason_for_an_unreachable_grid() -> None:
    # Path 0-1-2: worker 0 may take 0 and 2 but not 1, worker 1 only grid 1 (capacity 1).
    cost = np.array([[1.0, INF], [INF, 1.0], [1.0, INF]])
    res = allocate(cost, capacity=np.array([5.0, 1.0]), adjacency=path_edges(3),
                   time_limit=FAST)
    assert res.n_uncovered == 1
    assert res.uncovered[0].code == "contiguity"
    assert_plan_valid(res, cost, capacity=np.array([5.0, 1.0]), edges=path_edges(3))


# ----------------------------------------------------------------------------- locks


@pytest.mark.parametrize("rule", ["one", "several"])
def test_locks_are_kept_even_when_dear(rule: str) -> None:
    cost = np.array([[1.0, 9], [9, 1]])
    res = allocate(cost, rule=rule, locked=[(0, 1)], time_limit=FAST)
    assert res.worker_of[0] == 1
    expected = {"one": 9 + 9, "several": 9 + 1}[rule]
    assert res.cost == expected
    assert_plan_valid(res, cost, rule=rule, locked=[(0, 1)])


def test_lock_conflict_reason() -> None:
    cost = np.array([[1.0, 1.0], [1.0, INF], [INF, 1.0]])
    res = allocate(cost, rule="one", locked=[(0, 0)])
    # Grid 1 can only take worker 0, who is pinned to grid 0.
    assert res.worker_of.tolist() == [0, -1, 1]
    assert res.uncovered[0].code == "lock_conflict"


def test_locks_with_contiguity_keep_one_territory() -> None:
    cost = np.array([[0.0, 10], [10, 0], [0, 10], [10, 0]])
    res = allocate(cost, adjacency=path_edges(4), locked=[(3, 0)], time_limit=FAST)
    assert res.worker_of[3] == 0
    # Worker 0 must own grid 3; by hand: w0 {2,3} + w1 {0,1} = 20 or w0 {0..3} = 20,
    # while w0 {3} costs 30 and w0 {1,2,3} costs 30.
    assert res.cost == 20.0
    assert_plan_valid(res, cost, edges=path_edges(4), locked=[(3, 0)])


# ----------------------------------------------------------------------------- minimal moves


def _three_workers_case() -> tuple[np.ndarray, np.ndarray]:
    # Six grids, three workers (capacity 2 each). The published plan is dear; re-solving from
    # scratch would reshuffle everything to the cheap diagonal.
    cost = np.array([[5.0, 1, 9], [5, 1, 9], [9, 5, 1], [9, 5, 1], [1, 9, 5], [1, 9, 5]])
    current = np.array([0, 0, 1, 1, 2, 2])
    return cost, current


@pytest.mark.parametrize("load", [None, np.array([1.0, 1, 1, 1, 1, 2])])
def test_removing_one_worker_moves_only_that_workers_grids(load: np.ndarray | None) -> None:
    cost, current = _three_workers_case()
    cost[:, 1] = INF  # worker 1 leaves
    cap = np.array([3.0, 3.0, 5.0])
    res = allocate(cost, load=load, capacity=cap, current=current, time_limit=FAST)
    w = res.worker_of
    assert res.moves == 2 and res.n_uncovered == 0
    assert w[[0, 1]].tolist() == [0, 0] and w[[4, 5]].tolist() == [2, 2]
    # Of the two cheapest ways to place grids 2 and 3 (worker 2 costs 1, worker 0 costs 9):
    assert res.cost == 5 + 5 + 1 + 1 + 5 + 5
    assert_plan_valid(res, cost, load=load, capacity=cap, current=current)


def test_minimal_moves_with_rule_one_flow() -> None:
    cost = np.array([[1.0, 2, 3], [2, 1, 3], [3, 3, 1]])
    current = np.array([1, 0, 2])  # dear but published
    res = allocate(cost, rule="one", current=current)
    assert res.moves == 0 and res.cost == 2 + 2 + 1
    cost2 = cost.copy()
    cost2[:, 0] = INF  # worker 0 leaves: three grids, two workers; only grid 1 loses out
    res2 = allocate(cost2, rule="one", current=current)
    assert res2.n_uncovered == 1 and res2.moves == 1


# ----------------------------------------------------------------------------- balance


def test_balance_spreads_the_load() -> None:
    cost = np.array([[0.0, 1], [0, 1], [0, 1], [5, 0]])
    cheap = allocate(cost, time_limit=FAST)
    assert cheap.load_of.tolist() == [3.0, 1.0]
    res = allocate(cost, balance=0.3, time_limit=FAST)
    assert res.balance_met is True
    assert res.cost == 1.0 and res.load_of.tolist() == [2.0, 2.0]


def test_balance_impossible_is_reported_and_never_uncovers() -> None:
    cost = np.zeros((4, 2))
    cap = np.array([3.0, 1.0])
    res = allocate(cost, capacity=cap, balance=0.1, time_limit=FAST)
    assert res.n_uncovered == 0
    assert res.balance_met is False
    assert any("balance" in note for note in res.notes)


# ----------------------------------------------------------------------------- validation


def test_every_input_problem_is_reported_at_once() -> None:
    cost = np.array([[1.0, np.nan], [1.0, INF]])
    with pytest.raises(UserError) as err:
        allocate(cost, rule="many", load=np.array([1.0, -2.0]))
    text = err.value.message_en
    assert "NaN" in text and "rule" in text and "load" in text
    assert "分配输入有误" in err.value.message


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"locked": [(1, 1)]}, "inf"),
        ({"capacity": np.array([1.0])}, "capacity"),
        ({"current": np.array([0, 5])}, "current"),
        ({"adjacency": np.array([[0, 7]])}, "adjacency"),
        ({"load": np.ones((3, 3))}, "load"),
        ({"locked": [(0, 0), (0, 1)]}, "two workers"),
    ],
)
def test_bad_inputs_raise_user_error(kwargs: dict, needle: str) -> None:
    cost = np.array([[1.0, 2.0], [1.0, INF]])
    with pytest.raises(UserError, match=needle):
        allocate(cost, **kwargs)


def test_lock_above_capacity_is_rejected() -> None:
    with pytest.raises(UserError, match="exceeds"):
        allocate(np.ones((2, 1)), capacity=np.array([1.0]), locked=[(0, 0), (1, 0)])


# ----------------------------------------------------------------------------- contract


def test_result_is_frozen_and_reports_progress() -> None:
    events: list[tuple[str, dict]] = []
    res = allocate(np.array([[1.0, 2], [2, 1]]), load=np.array([1.0, 2.0]),
                   capacity=np.array([2.0, 2.0]), time_limit=FAST,
                   progress=lambda e, p: events.append((e, p)))
    assert isinstance(res, AllocationResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.cost = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        res.worker_of[0] = 5
    assert events and events[0][0] == "solution"


def test_float_costs_keep_true_sum_and_honest_bound() -> None:
    rng = np.random.default_rng(3)
    cost = rng.uniform(0, 1000, (12, 12))
    res = allocate(cost, rule="one")
    r, c = linear_sum_assignment(cost)
    assert res.cost == pytest.approx(cost[r, c].sum(), rel=1e-9)
    assert res.bound is not None and res.bound <= res.cost


# ----------------------------------------------------------------------------- sparse


def test_sparse_with_pricing_matches_dense_optimum() -> None:
    rng = np.random.default_rng(7)
    grids = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(6, 1, (20, 2))])
    workers = np.vstack([rng.normal(0, 1, (20, 2)), rng.normal(6, 1, (60, 2))])
    dense = np.linalg.norm(grids[:, None] - workers[None], axis=2)
    r, c = linear_sum_assignment(dense)
    tree = cKDTree(workers)
    dist, idx = tree.query(grids, k=3)  # far too few for a perfect matching: pricing must widen
    cand = csr_matrix((dist.ravel(), (np.repeat(np.arange(80), 3), idx.ravel())), shape=(80, 80))

    def price(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        red = dense - u[:, None] - v[None, :]
        rows, cols = np.nonzero(red < 0)
        return rows, cols, dense[rows, cols]

    res = allocate_sparse(cand, rule="one", price=price, cost_ceiling=float(dense.max()))
    assert res.status == "optimal" and res.n_uncovered == 0
    assert res.cost == pytest.approx(dense[r, c].sum(), rel=1e-9)
    assert res.bound is not None and res.bound <= res.cost
    assert res.gap is not None and res.gap < 1e-6
    assert np.bincount(res.worker_of, minlength=80).max() == 1


def test_sparse_without_pricing_treats_missing_pairs_as_forbidden() -> None:
    cand = csr_matrix(np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]]))
    res = allocate_sparse(cand, rule="several", capacity=np.array([1.0, 1.0]))
    assert res.worker_of.tolist() == [0, -1, 1] and res.cost == 4.0
    assert res.uncovered[0].grid == 1


def _brute_several(cost: np.ndarray, load: np.ndarray, capacity: np.ndarray) -> float:
    """The cheapest plan covering every grid within capacity, by enumeration."""
    import itertools

    n, m = cost.shape
    best = np.inf
    for plan in itertools.product(range(m), repeat=n):
        used = np.bincount(plan, weights=load, minlength=m)
        if np.all(used <= capacity):
            best = min(best, float(cost[np.arange(n), plan].sum()))
    return best


@pytest.mark.parametrize("loads", ["unit", "mixed"])
def test_one_outlying_cost_does_not_turn_a_rounded_proof_into_optimal(loads: str) -> None:
    """1e12 for "never" made the integer unit ~1e5 m: every ordinary cost rounded to 0 and plans
    up to 5x the optimum were called optimal. "optimal" now means within PROOF_GAP of the
    optimum; otherwise "feasible" with the honest gap."""
    from gridgov.solve.common import PROOF_GAP

    demoted = 0
    for seed in range(25):
        rng = np.random.default_rng(seed)
        cost = np.round(rng.uniform(100, 5000, size=(6, 3)))
        cost[rng.integers(6), rng.integers(3)] = 1e12
        load = np.ones(6) if loads == "unit" else rng.integers(1, 4, size=6).astype(float)
        capacity = np.full(3, 2.0 if loads == "unit" else 6.0)
        best = _brute_several(cost, load, capacity)
        out = allocate(cost, load=load, capacity=capacity, rule="several", time_limit=10)
        assert out.bound is None or out.bound <= best + 1e-6
        if out.status == "optimal":
            assert out.cost <= best * (1 + PROOF_GAP), seed
        else:
            demoted += out.cost > best * (1 + PROOF_GAP)
    assert demoted > 0  # the instances do reach the case


def test_contiguous_territories_on_a_ward_sized_lattice_always_come_back_with_a_plan() -> None:
    """8 x 8 grids of 500 m, 10 workers with 20% spare capacity: CP-SAT alone found no plan in
    10 s and the call returned every grid uncovered; region growing's plan is now the hint and
    the floor (connected by construction)."""
    side, m = 8, 10
    n = side * side
    rng = np.random.default_rng(3)
    xy = np.array([(i % side, i // side) for i in range(n)], float)
    homes = rng.uniform(0, side, size=(m, 2))
    cost = np.round(np.sqrt(((xy[:, None] - homes[None]) ** 2).sum(-1)) * 500)
    edges = np.array([(i, i + 1) for i in range(n) if i % side != side - 1] + [(i, i + side) for i in range(n - side)])
    load = rng.integers(50, 400, size=n).astype(float)
    out = allocate(cost, load=load, capacity=np.full(m, load.sum() / m * 1.2), adjacency=edges, time_limit=2)
    assert (out.worker_of >= 0).sum() >= 60 and out.status in ("optimal", "feasible")
    assert territories_connected(out.worker_of, edges)
    assert np.all(out.load_of <= load.sum() / m * 1.2 + 1e-9)


def test_locks_that_cannot_form_one_territory_within_capacity_are_refused() -> None:
    """Worker 0 is locked to grids 0 and 2, which meet only through grid 1 (load 2): 1 + 2 + 1
    exceeds capacity 3. The result used to be the bare locks, not connected, with reason
    "time limit"; the input is refused, as other impossible locks are."""
    with pytest.raises(UserError, match="within capacity"):
        allocate(np.ones((3, 2)), load=np.array([1.0, 2.0, 1.0]), capacity=np.array([3.0, 3.0]), rule="several",
                 adjacency=[[0, 1], [1, 2]], locked=[[0, 0], [2, 0]], time_limit=30)

    # Each grid on the way fits, the way as a whole does not: CP-SAT proves it.
    with pytest.raises(UserError, match="proven"):
        allocate(np.ones((4, 2)), load=np.ones(4), capacity=np.array([3.0, 3.0]), rule="several",
                 adjacency=[[0, 1], [1, 2], [2, 3]], locked=[[0, 0], [3, 0]], time_limit=30)


@pytest.mark.parametrize(("kwargs", "said"), [
    ({"time_limit": "5"}, "time_limit must be a number"),
    ({"locked": [0, 1, 1]}, "locked must be a list of (grid, worker) integer pairs"),
    ({"locked": {0: 1}}, "locked must be a list"),
    ({"locked": [[0, 0.7]]}, "locked must be a list"),
])
def test_malformed_options_are_named_not_crashed_on(kwargs: dict, said: str) -> None:
    with pytest.raises(UserError) as err:
        allocate(np.ones((3, 2)), **kwargs)
    assert said in err.value.message_en


def test_no_workers_or_text_costs_answer_as_the_package_does() -> None:
    out = allocate(np.zeros((3, 0)), current=[-1, -1, -1])  # crashed in a numpy reduction
    assert out.worker_of.tolist() == [-1, -1, -1] and [u.code for u in out.uncovered] == ["no_eligible_worker"] * 3
    with pytest.raises(UserError, match="array of numbers"):
        allocate([["a", "b"]])
    assert allocate(np.ones((2, 2)), time_limit=np.int64(5)).status == "optimal"  # numpy numbers are numbers


def test_the_time_limit_fallback_never_breaks_a_lock() -> None:
    """With the time used up before CP-SAT, the greedy plan (which knows no locks) was returned
    and the planner's pin on grid 0 was lost."""
    cost = np.array([[5.0, 1.0], [1.0, np.inf]])
    out = allocate(cost, load=np.array([0.6, 1.0]), capacity=np.array([1.0, 1.0]), rule="several",
                   locked=[(0, 0)], time_limit=1e-9)
    assert out.worker_of[0] == 0


def test_locks_that_fit_only_before_rounding_are_kept_not_refused() -> None:
    """133 + 134 + 133 households in a capacity of 400: loads rounded up to 0.001 made the
    integer model infeasible, and the call raised a 'proven' error for a plan that fits."""
    out = allocate(np.ones((3, 1)), load=np.array([133, 134, 133]) / 400, capacity=np.array([1.0]), rule="several",
                   adjacency=[[0, 1], [1, 2]], locked=[[0, 0], [1, 0], [2, 0]], time_limit=5)
    assert out.worker_of.tolist() == [0, 0, 0] and out.status == "feasible"


def test_no_plan_within_the_time_limit_is_unknown_not_infeasible(monkeypatch) -> None:
    """CP-SAT's model always has a plan (coverage is soft): finding none in time is the time
    limit, not a proof, and a planner told "infeasible" would relax constraints instead of
    giving it more time."""
    import gridgov.solve.allocation as allocation_mod
    from gridgov.solve._alloc_cpsat import CpOutcome

    calls: list[int] = []

    def out_of_time(data, **_kwargs):
        calls.append(data.n)
        return CpOutcome(worker_of=np.full(data.n, -1), found=False, optimal=False, coverage_proven=False,
                         cost_bound=None, balance_met=None, phases=("coverage",))

    monkeypatch.setattr(allocation_mod, "solve_cpsat", out_of_time)
    cost = np.array([[1.0, 5.0], [5.0, 1.0], [2.0, 2.0]])
    r = allocate(cost, capacity=np.array([2.0, 2.0]), balance=0.1, time_limit=1.0)
    assert calls and r.status == "unknown" and (r.worker_of == -1).all()


def test_a_capacity_shortfall_is_the_reason_even_when_coverage_is_not_proven() -> None:
    """The time limit was blamed first ("a longer limit may cover it") where capacity was short."""
    from gridgov.solve._alloc_explain import ExplainInput, explain

    n, m = 3, 1
    data = ExplainInput(rule="several", allowed=np.ones((n, m), bool), finite=np.ones((n, m), bool),
                        load=np.array([[3.0], [2.0], [2.0]]), capacity=np.array([4.0]),
                        lock_worker=np.full(n, -1), contiguity=False, coverage_proven=False)
    (why,) = explain(data, np.array([-1, 0, 0]))
    assert why.code == "capacity_shortfall"
    (why,) = explain(dataclasses.replace(data, capacity=np.array([9.0])), np.array([-1, 0, 0]))
    assert why.code == "time_limit" and "not proven impossible" in why.reason_en
