"""place_sites on tiny hand-made instances whose optimum is known by hand, per model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gridgov.errors import UserError
from gridgov.solve import SiteResult, place_sites

# Five points on a line: a cluster {0, 1, 2} and a cluster {10, 11}.
X = np.array([0.0, 1.0, 2.0, 10.0, 11.0])
LINE = np.abs(X[:, None] - X[None, :])


def test_median_picks_one_site_per_cluster() -> None:
    r = place_sites(LINE, p=2)
    assert r.status == "optimal"
    assert r.objective == 3.0  # 1 + 0 + 1 in the first cluster, 1 in the second
    assert r.open[0] == 1 and r.open[1] in (3, 4)
    assert list(r.site_of[:3]) == [1, 1, 1]
    assert r.bound == 3.0 and r.gap == 0.0


def test_median_weight_moves_the_site() -> None:
    r = place_sites(LINE, p=1, weight=np.array([1.0, 1.0, 1.0, 0.0, 9.0]))
    # One site: at 11 it costs 11 + 10 + 9 = 30; at 2 it costs 2 + 1 + 81 = 84.
    assert list(r.open) == [4] and r.objective == 30.0


def test_median_keeps_fixed_sites() -> None:
    r = place_sites(LINE, p=2, fixed=[0])
    assert 0 in r.open
    assert r.objective == 4.0  # 0 + 1 + 2, plus 1 in the second cluster


def test_median_all_fixed() -> None:
    r = place_sites(LINE, p=2, fixed=[0, 3])
    assert list(r.open) == [0, 3] and r.objective == 4.0 and r.status == "optimal"


def test_median_radius_reports_covered_weight() -> None:
    # One site: at 2 it costs 2 + 1 + 0 + 8 + 9 = 20 (at 1: 21); within 1 of it: points 1 and 2.
    r = place_sites(LINE, p=1, radius=1.0)
    assert list(r.open) == [2] and r.objective == 20.0 and r.covered_weight == 2.0


def test_median_unreachable_demand_is_named_and_unserved() -> None:
    d = np.vstack([LINE, np.full(5, np.inf)])
    r = place_sites(d, p=2)
    assert list(r.unreachable) == [5] and r.site_of[5] == -1
    assert r.objective == 3.0 and r.status == "optimal"


def test_median_infinite_pairs_force_the_far_site() -> None:
    # Demand 1 reaches only site 1, so site 1 must open although site 0 is nearer to the rest.
    d = np.array([[0.0, 5.0], [np.inf, 0.0], [1.0, 5.0]])
    r = place_sites(d, p=1)
    assert list(r.open) == [1] and r.objective == 10.0


def test_median_infeasible_when_p_cannot_reach_everyone() -> None:
    d = np.array([[0.0, np.inf], [np.inf, 0.0]])
    r = place_sites(d, p=1)
    assert r.status == "infeasible" and r.open.size == 0 and (r.site_of == -1).all()


def test_capacitated_sends_the_cheapest_demand_away() -> None:
    # Demands at 0, 1, 2; sites at 1 and 5, each serving two demands.
    d = np.abs(np.array([0.0, 1.0, 2.0])[:, None] - np.array([1.0, 5.0])[None, :])
    r = place_sites(d, p=2, capacity=np.array([2.0, 2.0]))
    assert r.status == "optimal" and r.objective == 4.0  # 1 + 0 at site 1, 3 at site 5
    assert list(r.site_of) == [0, 0, 1]
    uncapacitated = place_sites(d, p=2)
    assert uncapacitated.objective == 2.0


def test_capacitated_load_differs_from_weight() -> None:
    d = np.abs(np.array([0.0, 1.0, 2.0])[:, None] - np.array([1.0, 5.0])[None, :])
    # Demand 1 (load 3) fills a site alone: it goes to site 1 (cost 4), the others to site 0 (1 + 1).
    r = place_sites(d, p=2, capacity=np.array([3.0, 3.0]), load=np.array([1.0, 3.0, 1.0]))
    assert r.objective == 6.0 and list(r.site_of) == [0, 1, 0]


def test_capacitated_with_fixed_site() -> None:
    d = np.abs(np.array([0.0, 1.0, 2.0])[:, None] - np.array([1.0, 5.0, 0.0])[None, :])
    r = place_sites(d, p=2, fixed=[1], capacity=np.array([2.0, 2.0, 2.0]))
    assert 1 in r.open
    # Sites 1 (fixed) and 0: 0 -> site 0 (1), 1 -> site 0 (0), 2 -> site 1 (3) = 4.
    assert r.objective == 4.0


def test_capacitated_too_little_capacity_is_infeasible() -> None:
    d = np.zeros((3, 2))
    r = place_sites(d, p=1, capacity=np.array([2.0, 2.0]))
    assert r.status == "infeasible"


W = np.array([1.0, 1.0, 1.0, 5.0, 5.0])


def test_coverage_prefers_the_heavy_cluster() -> None:
    r = place_sites(LINE, p=1, model="coverage", radius=1.0, weight=W)
    assert r.objective == 10.0 and r.open[0] in (3, 4) and r.status == "optimal"
    assert list(r.site_of[:3]) == [-1, -1, -1]
    r2 = place_sites(LINE, p=2, model="coverage", radius=1.0, weight=W)
    assert r2.objective == 13.0 and r2.covered_weight == 13.0


def test_coverage_with_fixed_site() -> None:
    r = place_sites(LINE, p=2, model="coverage", radius=1.0, weight=W, fixed=[0])
    assert 0 in r.open and r.objective == 12.0  # {0, 1} plus {10, 11}
    assert r.site_of[2] == -1


XD = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 50.0])
FAR = np.abs(XD[:, None] - X[None, :])  # demand 5 (at 50) is out of every site's reach


def test_cover_all_names_unreachable_and_covers_the_rest() -> None:
    r = place_sites(FAR, model="cover-all", radius=1.0)
    assert r.status == "optimal" and r.objective == 2.0 and list(r.open)[0] == 1
    assert list(r.unreachable) == [5] and r.site_of[5] == -1
    assert (r.site_of[:5] >= 0).all()
    assert r.covered_weight == 5.0


def test_cover_all_with_fixed_site_needs_one_more() -> None:
    r = place_sites(FAR, model="cover-all", radius=1.0, fixed=[0])
    assert r.objective == 3.0 and 0 in r.open


def test_cover_all_with_too_small_p_is_infeasible() -> None:
    r = place_sites(FAR, model="cover-all", radius=1.0, p=1)
    assert r.status == "infeasible" and "p=1" in r.note


def test_result_is_frozen() -> None:
    r = place_sites(LINE, p=2)
    assert isinstance(r, SiteResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.objective = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        r.open[0] = 2


def test_progress_reports_the_end() -> None:
    events: list[str] = []
    place_sites(LINE, p=2, progress=lambda event, payload: events.append(event))
    assert events[-1] == "done"


def test_invalid_input_lists_every_problem_in_both_languages() -> None:
    with pytest.raises(UserError) as info:
        place_sites(LINE, p=9, weight=np.ones(2), fixed=[7], time_limit=-1)
    err = info.value
    assert "weight" in err.message and "fixed" in err.message and "time_limit" in err.message
    assert "p=9" in err.message_en and "must" in err.message_en
    assert "须" in err.render("zh")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": "coverage", "p": 1},  # no radius
        {"model": "median"},  # no p
        {"model": "nearest", "p": 1},
        {"model": "coverage", "p": 1, "radius": 1.0, "capacity": np.ones(5)},
        {"p": 1, "load": np.ones(5)},
        {"p": 1, "fixed": [1, 1]},
    ],
)
def test_invalid_options(kwargs: dict) -> None:
    with pytest.raises(UserError):
        place_sites(LINE, **kwargs)


def test_negative_or_nan_distance_is_rejected() -> None:
    with pytest.raises(UserError):
        place_sites(-LINE, p=1)
    with pytest.raises(UserError):
        place_sites(np.full((2, 2), np.nan), p=1)


def test_a_coverage_stopped_before_its_root_claims_no_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped before the root, the MIP reported 0 as its bound; the greedy plan beside it then
    read as proven (gap 0) while a better plan existed. A bound below a plan in hand is no bound."""
    from gridgov.solve import _sites_mip, sites

    stopped = _sites_mip.MipOutcome(None, None, 0.0, proven=False, infeasible=False)
    monkeypatch.setattr(sites, "solve_mip", lambda *a, **k: stopped)
    distance = np.array([[0.0, 5.0], [5.0, 0.0], [1.0, 9.0]])
    out = place_sites(distance, weight=np.array([3.0, 2.0, 1.0]), p=1, model="coverage", radius=2.0)
    assert out.status == "feasible" and out.objective == 4.0
    assert out.bound is None and out.gap is None


def test_capacitated_siting_with_no_demand_in_reach_answers_like_the_uncapacitated() -> None:
    """scipy's linprog was handed an empty problem and raised."""
    out = place_sites(np.full((3, 2), np.inf), p=1, capacity=[5.0, 5.0])
    assert out.site_of.tolist() == [-1, -1, -1] and out.objective == 0.0
