"""Place sites (mediation studios): p-median, capacitated p-median, maximal and set covering."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gridgov.errors import UserError
from gridgov.solve._sites_capacitated import solve_cpmp
from gridgov.solve._sites_median import solve_median
from gridgov.solve._sites_mip import solve_mip
from gridgov.solve._sites_models import (
    cover_all_model,
    coverage_model,
    greedy_cover_all,
    greedy_coverage,
)
from gridgov.solve.common import ProgressCallback, Status, Stopwatch, relative_gap

Model = Literal["median", "coverage", "cover-all"]
MODELS: tuple[str, ...] = ("median", "coverage", "cover-all")


@dataclass(frozen=True)
class SiteResult:
    """Where the sites are and whom each serves.

    ``open``: sorted site indices; ``site_of``: per demand the serving site, -1 when none
    (unreachable, or outside ``radius`` for the covering models). ``objective``: recomputed
    from the float input — the weighted distance (median), the covered weight (coverage) or
    the number of open sites (cover-all). ``bound`` is a proven bound on it (lower for
    median and cover-all, upper for coverage) and ``gap`` the relative distance to it.
    ``unreachable``: demands that no candidate site can serve at all (no finite distance,
    or none within ``radius`` for the covering models); they are left out of the model.
    """

    open: np.ndarray
    site_of: np.ndarray
    objective: float
    covered_weight: float
    status: Status
    bound: float | None
    gap: float | None
    wall_s: float
    model: str
    algorithm: str
    unreachable: np.ndarray
    note: str = ""


@dataclass(frozen=True)
class _Inputs:
    distance: np.ndarray
    weight: np.ndarray
    p: int | None
    model: str
    radius: float | None
    fixed: np.ndarray
    capacity: np.ndarray | None
    load: np.ndarray | None


def place_sites(
    distance: np.ndarray,
    *,
    weight: np.ndarray | None = None,
    p: int | None = None,
    model: Model = "median",
    radius: float | None = None,
    fixed: np.ndarray | list[int] | None = None,
    capacity: np.ndarray | None = None,
    load: np.ndarray | None = None,
    time_limit: float = 30.0,
    progress: ProgressCallback | None = None,
    workers: int = 1,
) -> SiteResult:
    """Open sites among the columns of ``distance`` for the demands in its rows.

    ``distance`` (n_demand, n_sites), ``np.inf`` = unreachable. ``p`` counts every open
    site, the ``fixed`` ones included (for "cover-all" it is an optional maximum).
    ``capacity`` (n_sites,) with ``load`` (n_demand,, default ``weight``) makes the
    p-median capacitated, each demand served by exactly one site. Raises ``UserError``
    (listing every problem) on invalid input.
    """
    clock = Stopwatch()
    inp = _validate(distance, weight, p, model, radius, fixed, capacity, load, time_limit, workers)
    if inp.model == "median":
        result = _median(inp, time_limit, workers, progress, clock)
    elif inp.model == "coverage":
        result = _coverage(inp, time_limit, workers, clock)
    else:
        result = _cover_all(inp, time_limit, workers, clock)
    if progress is not None:
        progress("done", {"objective": result.objective, "bound": result.bound, "status": result.status})
    return result


# --- validation -----------------------------------------------------------------------------


def _validate(  # noqa: C901 - one flat list of checks reads best
    distance: np.ndarray,
    weight: np.ndarray | None,
    p: int | None,
    model: str,
    radius: float | None,
    fixed: np.ndarray | list[int] | None,
    capacity: np.ndarray | None,
    load: np.ndarray | None,
    time_limit: float,
    workers: int,
) -> _Inputs:
    """Check every argument, collect every problem, raise once."""
    zh: list[str] = []
    en: list[str] = []

    def bad(message: str, message_en: str) -> None:
        zh.append(message)
        en.append(message_en)

    d = np.asarray(distance, dtype=float)
    if d.ndim != 2 or d.shape[0] == 0 or d.shape[1] == 0:
        bad("distance 须为非空二维数组 (需求点 × 候选点)", "distance must be a non-empty 2-D array (demands x sites)")
        _raise(zh, en)
    n, m = d.shape
    if np.isnan(d).any() or (d < 0).any():
        bad("distance 含 NaN 或负值；不可达请用 np.inf", "distance has NaN or negative values; use np.inf for unreachable")
    w = _vector(weight, n, "weight", bad, default=1.0)
    if model not in MODELS:
        bad(f"model 须为 {'/'.join(MODELS)} 之一，而非 {model!r}", f"model must be one of {', '.join(MODELS)}, not {model!r}")
    fx = _indices(fixed, m, bad)
    if model in ("median", "coverage"):
        if p is None or isinstance(p, bool) or not isinstance(p, (int, np.integer)):
            bad(f"{model} 模型须给出整数 p（开放站点总数）", f"the {model} model needs an integer p (open sites in total)")
        elif not max(1, fx.size) <= p <= m:
            bad(
                f"p={p} 须在 {max(1, fx.size)} 与候选点数 {m} 之间（含已有站点 {fx.size} 个）",
                f"p={p} must lie between {max(1, fx.size)} and the {m} candidate sites ({fx.size} fixed)",
            )
    elif p is not None and (isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < fx.size):
        bad(f"cover-all 的 p 为可选上限，须为不小于已有站点数 {fx.size} 的整数", f"p for cover-all is an optional maximum, an integer >= the {fx.size} fixed sites")
    if model in ("coverage", "cover-all") and (radius is None or not math.isfinite(radius) or radius < 0):
        bad(f"{model} 模型须给出有限非负的 radius", f"the {model} model needs a finite, non-negative radius")
    elif radius is not None and (not math.isfinite(radius) or radius < 0):
        bad("radius 须为有限非负数", "radius must be finite and non-negative")
    cap = ld = None
    if capacity is not None:
        if model != "median":
            bad("capacity 仅用于 median 模型", "capacity applies to the median model only")
        cap = _vector(capacity, m, "capacity", bad, default=0.0)
        ld = _vector(load, n, "load", bad, default=0.0) if load is not None else w
    elif load is not None:
        bad("给出 load 时须同时给出 capacity", "load needs capacity")
    if not (isinstance(time_limit, (int, float)) and time_limit > 0):
        bad("time_limit 须为正数（秒）", "time_limit must be a positive number of seconds")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        bad("workers 须为正整数", "workers must be a positive integer")
    _raise(zh, en)
    return _Inputs(d, w, None if p is None else int(p), model, radius, fx, cap, ld)


def _vector(value: np.ndarray | None, size: int, name: str, bad, *, default: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    if value is None:
        return np.full(size, default)
    v = np.asarray(value, dtype=float)
    if v.shape != (size,):
        bad(f"{name} 须为长度 {size} 的一维数组，实为 {v.shape}", f"{name} must have shape ({size},), not {v.shape}")
        return np.full(size, default)
    if not np.isfinite(v).all() or (v < 0).any():
        bad(f"{name} 须为有限非负数", f"{name} must be finite and non-negative")
    return v


def _indices(fixed: np.ndarray | list[int] | None, m: int, bad) -> np.ndarray:  # type: ignore[no-untyped-def]
    if fixed is None:
        return np.zeros(0, dtype=np.int64)
    f = np.asarray(fixed)
    if f.size == 0:
        return np.zeros(0, dtype=np.int64)
    if f.ndim != 1 or not np.issubdtype(f.dtype, np.integer):
        bad("fixed 须为候选点下标（整数）列表", "fixed must be a list of integer site indices")
        return np.zeros(0, dtype=np.int64)
    if (f < 0).any() or (f >= m).any() or np.unique(f).size != f.size:
        bad(f"fixed 的下标须互不相同且在 0..{m - 1} 之内", f"fixed indices must be distinct and within 0..{m - 1}")
        return np.zeros(0, dtype=np.int64)
    return np.sort(f.astype(np.int64))


def _raise(zh: list[str], en: list[str]) -> None:
    if zh:
        raise UserError("站点选址参数有误：" + "；".join(zh), "invalid site placement input: " + "; ".join(en))


# --- models -------------------------------------------------------------------------------------


def _median(
    inp: _Inputs, time_limit: float, workers: int, progress: ProgressCallback | None, clock: Stopwatch
) -> SiteResult:
    """Uncapacitated or capacitated p-median over the demands some site can reach."""
    reach = np.isfinite(inp.distance).any(axis=1)
    rows = np.flatnonzero(reach)
    d, w = inp.distance[rows], inp.weight[rows]
    site_of = np.full(inp.distance.shape[0], -1, dtype=np.int64)
    assert inp.p is not None
    if inp.capacity is not None and rows.size:  # no demand within reach: nothing to carry, as below
        assert inp.load is not None
        cap = solve_cpmp(
            d, w, inp.load[rows], inp.capacity, inp.p, inp.fixed,
            time_limit=time_limit, workers=workers, clock=clock,
        )
        algorithm = f"capacitated:heuristic+lagrange+mip ({cap.stage})"
        if cap.open_sites is None or cap.site_of is None:
            note = "" if cap.infeasible else "no solution found within the time limit (not proven infeasible)"
            return _empty(inp, rows, clock, algorithm, note, proven=cap.infeasible)
        site_of[rows] = cap.site_of
        status: Status = "optimal" if cap.proven else "feasible"
        return _finish(inp, cap.open_sites, site_of, status, cap.bound, clock, algorithm, note=cap.note)
    med = solve_median(
        d, w, inp.p, inp.fixed, time_limit=time_limit, workers=workers, progress=progress, clock=clock
    )
    if med.open_sites is None:
        note = "" if med.infeasible else "no solution found within the time limit"
        return _empty(inp, rows, clock, "interchange+lagrange+radius-mip", note, proven=med.infeasible)
    site_of[rows] = _nearest(d, med.open_sites)
    bound = med.bound
    if bound is not None and np.all(d[np.isfinite(d)] == np.round(d[np.isfinite(d)])) and np.all(w == np.round(w)):
        bound = math.ceil(bound - 1e-6)  # integer data: the bound's float noise is below 1
    status = "optimal" if med.proven else "feasible"
    algorithm = "interchange+lagrange" if med.stage == "lagrange" else "interchange+lagrange+radius-mip"
    return _finish(inp, med.open_sites, site_of, status, bound, clock, algorithm)


def _coverage(inp: _Inputs, time_limit: float, workers: int, clock: Stopwatch) -> SiteResult:
    """Maximal covering (MCLP) over the demands within radius of some site."""
    assert inp.p is not None and inp.radius is not None
    covers = inp.distance <= inp.radius
    rows = np.flatnonzero(covers.any(axis=1))
    sub = covers[rows]
    out = solve_mip(coverage_model(sub, inp.weight[rows], inp.p, inp.fixed), time_limit=clock.remaining(time_limit), workers=workers)
    if out.x is None:
        open_sites, status, bound, algo = greedy_coverage(sub, inp.weight[rows], inp.p, inp.fixed), "feasible", out.bound, "greedy"
    else:
        m = inp.distance.shape[1]
        open_sites = np.flatnonzero(out.x[:m] > 0.5)
        status, bound, algo = ("optimal" if out.proven else "feasible"), out.bound, "mclp-mip"
    return _finish(inp, open_sites, _covered_site(inp, open_sites), status, bound, clock, algo)


def _cover_all(inp: _Inputs, time_limit: float, workers: int, clock: Stopwatch) -> SiteResult:
    """Set covering (LSCP): the fewest sites covering every coverable demand."""
    assert inp.radius is not None
    covers = inp.distance <= inp.radius
    rows = np.flatnonzero(covers.any(axis=1))
    sub = covers[rows]
    out = solve_mip(cover_all_model(sub, inp.fixed, inp.p), time_limit=clock.remaining(time_limit), workers=workers)
    if out.infeasible:
        note = f"more than p={inp.p} sites are needed to cover every reachable demand"
        return _empty(inp, rows, clock, "lscp-mip", note)
    if out.x is None:
        open_sites, status, algo = greedy_cover_all(sub, inp.fixed), "feasible", "greedy"
    else:
        open_sites = np.flatnonzero(out.x > 0.5)
        status, algo = ("optimal" if out.proven else "feasible"), "lscp-mip"
    bound = None if out.bound is None else float(math.ceil(out.bound - 1e-6))
    return _finish(inp, open_sites, _covered_site(inp, open_sites), status, bound, clock, algo)


# --- results ------------------------------------------------------------------------------------


def _nearest(d: np.ndarray, open_sites: np.ndarray) -> np.ndarray:
    """Each row's nearest open site (column index), -1 when none is reachable."""
    if open_sites.size == 0:
        return np.full(d.shape[0], -1, dtype=np.int64)
    sub = d[:, open_sites]
    pick = open_sites[np.argmin(sub, axis=1)]
    return np.where(np.isfinite(sub).any(axis=1), pick, -1)


def _covered_site(inp: _Inputs, open_sites: np.ndarray) -> np.ndarray:
    """Nearest open site for demands within radius of one; -1 for the rest."""
    assert inp.radius is not None
    near = _nearest(inp.distance, open_sites)
    dist = inp.distance[np.arange(near.size), np.maximum(near, 0)]
    return np.where((near >= 0) & (dist <= inp.radius), near, -1)


def _objective(inp: _Inputs, open_sites: np.ndarray, site_of: np.ndarray) -> float:
    """The true objective of a solution, recomputed from the float input."""
    served = site_of >= 0
    if inp.model == "median":
        return float((inp.weight[served] * inp.distance[served, site_of[served]]).sum())
    if inp.model == "coverage":
        return float(inp.weight[served].sum())
    return float(open_sites.size)


def _covered_weight(inp: _Inputs, site_of: np.ndarray) -> float:
    """Weight served; within ``radius`` of its site when a radius is given."""
    served = site_of >= 0
    if inp.radius is not None:
        served &= inp.distance[np.arange(site_of.size), np.maximum(site_of, 0)] <= inp.radius
    return float(inp.weight[served].sum())


def _finish(
    inp: _Inputs,
    open_sites: np.ndarray,
    site_of: np.ndarray,
    status: Status,
    bound: float | None,
    clock: Stopwatch,
    algorithm: str,
    note: str = "",
) -> SiteResult:
    open_sites = np.sort(np.asarray(open_sites, dtype=np.int64))
    objective = _objective(inp, open_sites, site_of)
    if bound is not None:
        bound = float(bound)
        # A solver stopped before its root reports 0 as its "bound" (below the greedy plan of a
        # coverage, which maximises): a bound on the wrong side of a plan in hand proves nothing.
        wrong_side = bound < objective - 1e-9 if inp.model == "coverage" else bound > objective + 1e-9
        bound = None if wrong_side else bound
    # relative_gap measures a minimisation; coverage maximises, so flip both signs.
    if inp.model == "coverage":
        gap = relative_gap(-objective, None if bound is None else -bound)
    else:
        gap = relative_gap(objective, bound)
    if status == "optimal":
        gap = 0.0 if gap is None else gap
    return SiteResult(
        open=_frozen(open_sites),
        site_of=_frozen(site_of.astype(np.int64)),
        objective=objective,
        covered_weight=_covered_weight(inp, site_of),
        status=status,
        bound=bound,
        gap=gap,
        wall_s=clock.elapsed,
        model=inp.model,
        algorithm=algorithm,
        unreachable=_frozen(_unreachable(inp)),
        note=note,
    )


def _unreachable(inp: _Inputs) -> np.ndarray:
    if inp.model == "median":
        return np.flatnonzero(~np.isfinite(inp.distance).any(axis=1))
    assert inp.radius is not None
    return np.flatnonzero(~(inp.distance <= inp.radius).any(axis=1))


def _empty(inp: _Inputs, rows: np.ndarray, clock: Stopwatch, algorithm: str, note: str, *,
           proven: bool = True) -> SiteResult:
    """No solution: proven infeasible, or (``proven`` False: "unknown", with ``note``) none found in time."""
    return SiteResult(
        open=_frozen(np.zeros(0, dtype=np.int64)),
        site_of=_frozen(np.full(inp.distance.shape[0], -1, dtype=np.int64)),
        objective=math.inf if inp.model != "coverage" else 0.0,
        covered_weight=0.0,
        status="infeasible" if proven else "unknown",
        bound=None,
        gap=None,
        wall_s=clock.elapsed,
        model=inp.model,
        algorithm=algorithm,
        unreachable=_frozen(_unreachable(inp)),
        note=note,
    )


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a
