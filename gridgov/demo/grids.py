"""Grid polygons: each ward split into equal-population grids, grouped into its real villages."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from gridgov.demo.places import places
from gridgov.demo.polygons import grouped_kmeans, locate, points_in, voronoi_partition
from gridgov.demo.population import Surface
from gridgov.demo.wards import Territory, ward_kind

POINTS_PER_GRID = 24
SPECIAL_SHARE = 0.02
SPECIAL_FACILITIES = ("中学", "小学", "医院", "工业园区", "职业学校", "物流园", "卫生院", "商贸城")
_SUFFIXES = ("居民委员会", "村民委员会", "村委会", "居委会", "委员会")


@dataclass(frozen=True)
class GridSet:
    """Metric grid polygons with their attributes, sorted by code."""

    frame: pd.DataFrame  # the schema columns + community (bool), village (short name), area_m2
    geoms: np.ndarray
    points: np.ndarray   # (n, 2) a point inside each grid


def is_community(name: str) -> bool:
    """Urban residents' committees (社区/居委会) as opposed to villagers' committees (村)."""
    return any(w in name for w in ("社区", "居委会", "生活区"))


def short_name(name: str) -> str:
    """'枫华园社区居民委员会' → '枫华园社区', 'XX村村民委员会' → 'XX村'."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def pick_villages(
    villages: pd.DataFrame, ward_codes: np.ndarray, scale: float, rng: np.random.Generator
) -> pd.DataFrame:
    """Each ward's villages (a seeded ``scale`` share of them, at least one; synthetic when none)."""
    rows = []
    for code in ward_codes:
        own = villages[villages["ward_code"] == code]
        if own.empty:
            own = pd.DataFrame({"code": [f"{code}999"], "name": ["虚拟社区居民委员会"], "ward_code": [code]})
        n = max(1, int(round(len(own) * scale)))
        rows.append(own.iloc[np.sort(rng.choice(len(own), size=min(n, len(own)), replace=False))])
    return pd.concat(rows, ignore_index=True)


def grids_per_village(picked: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """3-12 grids for an urban community, 1-3 for an urban-fringe village, 1-2 for a rural one."""
    community = picked["name"].map(is_community).to_numpy()
    street = picked["ward_code"].map(ward_kind).to_numpy() == "街道"
    n = len(picked)
    return np.where(
        community,
        np.minimum(3 + rng.poisson(3.0, n), 12),
        np.where(street, 1 + rng.binomial(2, 0.45, n), 1 + rng.binomial(1, 0.7, n)),
    )


def build_grids(
    territory: Territory, villages: pd.DataFrame, surface: Surface, *, scale: float, rng: np.random.Generator
) -> GridSet:
    """Grids partitioning every ward, coded village code + 3-digit sequence."""
    picked = pick_villages(villages, territory.ward_codes, scale, rng)
    per_village = grids_per_village(picked, rng)
    ward_idx = np.searchsorted(territory.ward_codes, picked["ward_code"].to_numpy())
    k = np.bincount(ward_idx, weights=per_village, minlength=len(territory.ward_codes)).astype(np.int64)
    pts, grp = _sample_in_wards(territory, surface, POINTS_PER_GRID * k, rng)
    seeds, seed_ward = grouped_kmeans(pts, grp, k, rng=rng)
    geoms = voronoi_partition(seeds, seed_ward, territory.ward_geoms)
    village_of_seed, seq = _group_into_villages(seeds, seed_ward, ward_idx, per_village, surface)
    frame = _attributes(picked, village_of_seed, seq, seeds, rng)
    order = np.argsort(frame["code"].to_numpy())
    geoms = geoms[order]
    frame = frame.iloc[order].reset_index(drop=True)
    frame["area_m2"] = shapely.area(geoms)
    return GridSet(frame, geoms, shapely.get_coordinates(shapely.point_on_surface(geoms)))


def _sample_in_wards(
    territory: Territory, surface: Surface, need: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """About ``need[w]`` population-weighted points inside each ward ``w``."""
    cell_ward = _cell_wards(territory, surface)
    inside = cell_ward >= 0
    pop = np.bincount(cell_ward[inside], weights=surface.density[inside], minlength=len(need))
    boost = np.where(pop > 0, need / np.maximum(pop, 1e-9), 0.0)
    weights = np.where(inside, surface.density * boost[np.maximum(cell_ward, 0)], 0.0)
    pts = surface.sample(rng, int(need.sum() * 1.15), weights)
    grp = cell_ward[surface.cell_of(pts)]
    ok = (grp >= 0) & shapely.contains_xy(territory.ward_geoms[np.maximum(grp, 0)], pts[:, 0], pts[:, 1])
    pts, grp = pts[ok], grp[ok]
    short = np.flatnonzero(np.bincount(grp, minlength=len(need)) < need // 2 + 1)
    for w in short:  # tiny or oddly shaped wards: top up uniformly
        extra = points_in(territory.ward_geoms, np.full(int(need[w]), w), rng)
        pts, grp = np.vstack([pts, extra]), np.concatenate([grp, np.full(len(extra), w)])
    return pts, grp


def _cell_wards(territory: Territory, surface: Surface) -> np.ndarray:
    xy = surface.centres()
    out = np.full(len(xy), -1, dtype=np.int64)
    inside = surface.county >= 0
    out[inside] = locate(xy[inside], territory.ward_geoms)
    return out


def _group_into_villages(
    seeds: np.ndarray, seed_ward: np.ndarray, village_ward: np.ndarray, per_village: np.ndarray, surface: Surface
) -> tuple[np.ndarray, np.ndarray]:
    """Hand each ward's grids to its villages: communities from the dense core outward, villages from the edge in.

    Each village takes its first grid, then the grids nearest to it, so a village's grids are neighbours.
    """
    village_of = np.full(len(seeds), -1, dtype=np.int64)
    seq = np.zeros(len(seeds), dtype=np.int64)
    dens = surface.value_at(seeds)
    for w in np.unique(seed_ward):
        own = np.flatnonzero(seed_ward == w)
        core = seeds[own[np.argmax(dens[own])]]
        from_core = np.hypot(*(seeds[own] - core).T)
        free = np.ones(len(own), dtype=bool)
        mine = np.flatnonzero(village_ward == w)
        urban = [v for v in mine if per_village[v] >= 3]
        for v in [*urban, *[v for v in mine if per_village[v] < 3]]:
            score = np.where(free, from_core if v in urban else -from_core, np.inf)
            start = int(np.argmin(score))
            near = np.hypot(*(seeds[own] - seeds[own[start]]).T)
            take = np.argsort(np.where(free, near, np.inf), kind="stable")[: per_village[v]]
            village_of[own[take]] = v
            seq[own[take]] = np.arange(1, len(take) + 1)
            free[take] = False
    return village_of, seq


def _attributes(
    picked: pd.DataFrame, village_of: np.ndarray, seq: np.ndarray, seeds: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Codes, names, kinds and household counts sized like real grids."""
    v = picked.iloc[village_of].reset_index(drop=True)
    community = v["name"].map(is_community).to_numpy()
    street = v["ward_code"].map(ward_kind).to_numpy() == "街道"
    n = len(v)
    households = np.where(
        community,
        rng.normal(400, 55, n).clip(290, 520),
        np.where(street, rng.normal(320, 60, n).clip(180, 480), rng.normal(190, 50, n).clip(90, 310)),
    )
    special = _special(community, seeds, rng)
    households = np.where(special, rng.uniform(20, 150, n), households).round().astype(np.int64)
    short = v["name"].map(short_name)
    facility = rng.choice(SPECIAL_FACILITIES, size=n)
    names = [
        f"{s}{f}专属网格" if sp else f"{s}第{q}网格" for s, f, sp, q in zip(short, facility, special, seq)
    ]
    return pd.DataFrame({
        "code": v["code"].to_numpy() + pd.Series(seq).map("{:03d}".format).to_numpy(),
        "ward_code": v["ward_code"].to_numpy(),
        "name": names,
        "kind": np.where(special, "专属", "基础"),
        "households": households,
        "population": (households * rng.uniform(2.6, 3.0, n)).round().astype(np.int64),
        "community": community,
        "village": short.to_numpy(),
    })


def _special(community: np.ndarray, seeds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """~2% 专属 grids (schools, hospitals, parks): mostly urban or beside an industrial park."""
    d_park = np.min(np.hypot(*(seeds[:, None, :] - places().parks_xy[None, :, :]).transpose(2, 0, 1)), axis=1)
    weight = np.where(community, 3.0, 0.5) + 6.0 * (d_park < 3000)
    n_special = max(1, int(round(SPECIAL_SHARE * len(seeds))))
    chosen = rng.choice(len(seeds), size=n_special, replace=False, p=weight / weight.sum())
    out = np.zeros(len(seeds), dtype=bool)
    out[chosen] = True
    return out
