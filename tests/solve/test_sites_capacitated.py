"""Capacitated p-median internals: single-source assignment heuristics, Lagrangian bound, status."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gridgov.solve._sites_capacitated as cp
from gridgov.solve import place_sites
from gridgov.solve._sites_mip import MipOutcome
from gridgov.solve.common import Stopwatch

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def brute_gap(cost: np.ndarray, load: np.ndarray, cap: np.ndarray) -> float | None:
    """Cheapest single-source assignment of every demand to the given sites, by enumeration."""
    n, k = cost.shape
    best = None
    for a in itertools.product(range(k), repeat=n):
        pos = np.array(a)
        if not np.isfinite(cost[np.arange(n), pos]).all():
            continue
        if (np.bincount(pos, weights=load, minlength=k) > cap + 1e-9).any():
            continue
        v = float(cost[np.arange(n), pos].sum())
        best = v if best is None else min(best, v)
    return best


def random_cpmp(seed: int, n: int, p: int, fill: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points in a square, cost = floor(Euclidean), integer loads, equal capacities at ``fill``."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, size=(n, 2))
    dist = np.floor(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(axis=2)))
    load = rng.integers(1, 20, size=n).astype(float)
    cap = np.full(n, float(np.ceil(load.sum() / (p * fill))))
    return dist, load, cap


def check_plan(site_of: np.ndarray, open_sites: np.ndarray, load: np.ndarray, cap: np.ndarray, p: int) -> None:
    assert open_sites.size == p
    assert (site_of >= 0).all()  # single sourcing: one site per demand
    assert np.isin(site_of, open_sites).all()
    used = np.bincount(site_of, weights=load, minlength=cap.size)
    assert (used <= cap + 1e-9).all()


@SETTINGS
@given(
    st.integers(1, 6).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 9).map(float), min_size=n * 3, max_size=n * 3),
            st.lists(st.integers(1, 4).map(float), min_size=n, max_size=n),
            st.lists(st.integers(1, 9).map(float), min_size=3, max_size=3),
        )
    )
)
def test_assignment_heuristics_respect_capacity_and_single_sourcing(data: tuple) -> None:
    c, ld, cp_ = data
    load, cap = np.array(ld), np.array(cp_)
    cost = np.array(c).reshape(load.size, 3)
    best = brute_gap(cost, load, cap)
    for pos in (cp.assign(cost, load, cap), cp.exact_assign(cost, load, cap, time_limit=5.0, cutoff=None)):
        if pos is None:
            continue
        assert pos.shape == (load.size,) and ((pos >= 0) & (pos < 3)).all()
        assert (np.bincount(pos, weights=load, minlength=3) <= cap + 1e-9).all()
        assert best is not None and cost[np.arange(load.size), pos].sum() >= best - 1e-9
    exact = cp.exact_assign(cost, load, cap, time_limit=5.0, cutoff=None)
    if best is None:
        assert exact is None
    else:
        assert exact is not None and cost[np.arange(load.size), exact].sum() == best


def test_lp_bound_and_rounding_on_a_fixed_set() -> None:
    dist, load, cap = random_cpmp(3, 30, 4, 0.9)
    sites = np.array([0, 7, 14, 21])
    cost = dist[:, sites]
    lower, frac = cp._transport_lp(cost, load, cap[sites])
    assert np.allclose(frac.sum(axis=1), 1.0)
    pos = cp._round_lp(cost, load, cap[sites], frac)
    if pos is not None:
        assert (np.bincount(pos, weights=load, minlength=4) <= cap[sites] + 1e-9).all()
        assert cost[np.arange(30), pos].sum() >= lower - 1e-6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_heuristic_finds_a_feasible_plan_and_the_bound_is_below_it(seed: int) -> None:
    dist, load, cap = random_cpmp(seed, 40, 4, 0.9)
    out = cp.solve_cpmp(dist, np.ones(40), load, cap, 4, np.zeros(0, dtype=np.int64),
                        time_limit=20.0, workers=1, clock=Stopwatch(), use_mip=False)
    assert out.open_sites is not None and out.site_of is not None and not out.infeasible
    check_plan(out.site_of, out.open_sites, load, cap, 4)
    assert out.objective == dist[np.arange(40), out.site_of].sum()
    assert out.bound is not None and out.bound <= out.objective


def test_heuristic_matches_brute_force_on_a_tiny_instance() -> None:
    dist, load, cap = random_cpmp(5, 7, 2, 0.85)
    best = None
    for s in itertools.combinations(range(7), 2):
        v = brute_gap(dist[:, list(s)], load, cap[list(s)])
        if v is not None:
            best = v if best is None else min(best, v)
    r = place_sites(dist, p=2, capacity=cap, load=load)
    assert best is not None and r.status == "optimal" and r.objective == best
    check_plan(r.site_of, r.open, load, cap, 2)


def test_unproven_run_returns_its_plan_as_feasible(monkeypatch: pytest.MonkeyPatch) -> None:
    # The MIP "runs out of time" with nothing: the heuristic plan comes back as feasible, with a gap.
    monkeypatch.setattr(cp, "solve_mip", lambda *a, **k: MipOutcome(None, None, None, False, False))
    monkeypatch.setattr(cp, "lagrangian", lambda ks, *a, **k: cp._Lagrange(0.0, np.zeros(ks.cost.shape[0])))
    dist, load, cap = random_cpmp(1, 30, 3, 0.9)
    r = place_sites(dist, p=3, capacity=cap, load=load, time_limit=10.0)
    assert r.status == "feasible"
    check_plan(r.site_of, r.open, load, cap, 3)
    assert r.bound is not None and r.bound <= r.objective and r.gap is not None and r.gap > 0
    assert "not proven" in r.note


def test_no_plan_without_proof_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing found and nothing proven: "unknown" (it said "infeasible"), the note says it is not proven.
    import gridgov.solve.sites as sites_mod

    monkeypatch.setattr(sites_mod, "solve_cpmp", lambda *a, **k: cp.CapOutcome(None, None, None, 5.0, False, False, "mip"))
    r = place_sites(np.zeros((3, 2)), p=1, capacity=np.array([5.0, 5.0]))
    assert r.status == "unknown" and r.open.size == 0
    assert "not proven infeasible" in r.note


def test_proven_infeasible_has_no_hedge() -> None:
    r = place_sites(np.zeros((3, 2)), p=1, capacity=np.array([2.0, 2.0]))
    assert r.status == "infeasible" and r.note == ""
