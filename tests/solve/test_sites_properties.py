"""Property tests: place_sites keeps its constraints, reports the true objective, and matches brute force."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridgov.solve import SiteResult, place_sites

SETTINGS = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw: st.DrawFn, *, max_n: int = 6, max_m: int = 5, inf: bool = True) -> dict:
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, max_m))
    cells = st.one_of(st.integers(0, 20).map(float), st.just(np.inf)) if inf else st.integers(0, 20).map(float)
    d = np.array(draw(st.lists(cells, min_size=n * m, max_size=n * m))).reshape(n, m)
    w = np.array(draw(st.lists(st.integers(0, 5).map(float), min_size=n, max_size=n)))
    p = draw(st.integers(1, m))
    fixed = sorted(draw(st.sets(st.integers(0, m - 1), max_size=p)))
    return {"distance": d, "weight": w, "p": p, "fixed": fixed}


def subsets(m: int, p: int, fixed: list[int]) -> list[tuple[int, ...]]:
    return [s for s in itertools.combinations(range(m), p) if set(fixed) <= set(s)]


def assert_common(r: SiteResult, inst: dict) -> None:
    d = inst["distance"]
    assert set(inst["fixed"]) <= set(r.open.tolist())
    served = r.site_of >= 0
    assert np.isin(r.site_of[served], r.open).all()
    assert np.isfinite(d[served, r.site_of[served]]).all()
    assert set(r.unreachable.tolist()).isdisjoint(np.flatnonzero(served).tolist())


def true_median(d: np.ndarray, w: np.ndarray, s: tuple[int, ...]) -> float | None:
    """Weighted distance to the nearest site in s over reachable demands; None if one is cut off."""
    reach = np.isfinite(d).any(axis=1)
    best = d[reach][:, list(s)].min(axis=1)
    return None if not np.isfinite(best).all() else float((w[reach] * best).sum())


@SETTINGS
@given(instances())
def test_median_matches_brute_force(inst: dict) -> None:
    d, w, p, fixed = inst["distance"], inst["weight"], inst["p"], inst["fixed"]
    r = place_sites(d, weight=w, p=p, fixed=fixed)
    values = [v for s in subsets(d.shape[1], p, fixed) if (v := true_median(d, w, s)) is not None]
    if not values:
        assert r.status == "infeasible"
        return
    assert r.status == "optimal" and r.open.size == p
    assert_common(r, inst)
    assert np.array_equal(r.unreachable, np.flatnonzero(~np.isfinite(d).any(axis=1)))
    reach = np.isfinite(d).any(axis=1)
    assert (r.site_of[reach] >= 0).all()
    recomputed = float((w[reach] * d[reach, r.site_of[reach]]).sum())
    assert r.objective == recomputed
    assert abs(r.objective - min(values)) < 1e-9
    assert r.bound is not None and r.bound <= r.objective + 1e-9


def brute_capacitated(d: np.ndarray, w: np.ndarray, load: np.ndarray, cap: np.ndarray, p: int, fixed: list[int]) -> float | None:
    best: float | None = None
    n = d.shape[0]
    for s in subsets(d.shape[1], p, fixed):
        for assign in itertools.product(s, repeat=n):
            a = np.array(assign)
            if not np.isfinite(d[np.arange(n), a]).all():
                continue
            used = np.bincount(a, weights=load, minlength=d.shape[1])
            if (used > cap + 1e-9).any():
                continue
            v = float((w * d[np.arange(n), a]).sum())
            best = v if best is None else min(best, v)
    return best


@SETTINGS
@given(instances(max_n=5, max_m=4, inf=False), st.data())
def test_capacitated_matches_brute_force(inst: dict, data: st.DataObject) -> None:
    d, w, p, fixed = inst["distance"], inst["weight"], inst["p"], inst["fixed"]
    n, m = d.shape
    load = np.array(data.draw(st.lists(st.integers(1, 4).map(float), min_size=n, max_size=n)))
    cap = np.array(data.draw(st.lists(st.integers(1, 8).map(float), min_size=m, max_size=m)))
    r = place_sites(d, weight=w, p=p, fixed=fixed, capacity=cap, load=load)
    expect = brute_capacitated(d, w, load, cap, p, fixed)
    if expect is None:
        assert r.status == "infeasible"
        return
    assert r.status == "optimal" and r.open.size == p
    assert_common(r, inst)
    assert (r.site_of >= 0).all()
    used = np.bincount(r.site_of, weights=load, minlength=m)
    assert (used <= cap + 1e-9).all()
    assert r.objective == float((w * d[np.arange(n), r.site_of]).sum())
    assert abs(r.objective - expect) < 1e-9


@SETTINGS
@given(instances(), st.integers(0, 20))
def test_coverage_matches_brute_force(inst: dict, radius: int) -> None:
    d, w, p, fixed = inst["distance"], inst["weight"], inst["p"], inst["fixed"]
    r = place_sites(d, weight=w, p=p, fixed=fixed, model="coverage", radius=float(radius))
    within = d <= radius
    best = max(float(w[within[:, list(s)].any(axis=1)].sum()) for s in subsets(d.shape[1], p, fixed))
    assert r.status == "optimal" and r.open.size == p
    assert_common(r, inst)
    served = r.site_of >= 0
    assert (d[served, r.site_of[served]] <= radius).all()
    covered = within[:, r.open].any(axis=1)
    assert np.array_equal(served, covered)
    assert r.objective == float(w[covered].sum()) == r.covered_weight
    assert abs(r.objective - best) < 1e-9


@SETTINGS
@given(instances(), st.integers(0, 20))
def test_cover_all_matches_brute_force(inst: dict, radius: int) -> None:
    d, fixed = inst["distance"], inst["fixed"]
    r = place_sites(d, model="cover-all", radius=float(radius), fixed=fixed)
    within = d <= radius
    coverable = within.any(axis=1)
    assert np.array_equal(r.unreachable, np.flatnonzero(~coverable))
    fewest = min(
        k
        for k in range(len(fixed), d.shape[1] + 1)
        if any(within[coverable][:, list(s)].any(axis=1).all() for s in subsets(d.shape[1], k, fixed))
    )
    assert r.status == "optimal"
    assert_common(r, inst)
    assert (r.site_of[coverable] >= 0).all() and (r.site_of[~coverable] == -1).all()
    assert (d[coverable, r.site_of[coverable]] <= radius).all()
    assert r.objective == float(r.open.size) == fewest
