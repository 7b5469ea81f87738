"""Ward polygons: each county split among its real townships over the population surface."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from gridgov.demo.places import DEMO_ZONE_CUT, lonlat_to_metric
from gridgov.demo.polygons import grouped_kmeans, locate, voronoi_partition
from gridgov.demo.population import Surface
from gridgov.geo.shipped import DEMO_ZONE_CODE

SHANYANG = "410811"
POINTS_PER_WARD = 400

# Digits 7-9 of a township code: 0xx 街道, 1xx 镇, 2xx 乡, 4xx/5xx farms and parks.
KIND_RANK = {"0": 0, "1": 1, "2": 2}


def ward_kind(code: str) -> str:
    """街道, 镇, 乡 or 其他 (state farms, industrial zones) from a 9-digit code."""
    return {"0": "街道", "1": "镇", "2": "乡"}.get(code[6], "其他")


def is_small_unit(code: str) -> bool:
    """State farms and industrial zones: townships with a small territory."""
    return code[6] not in KIND_RANK


@dataclass(frozen=True)
class Territory:
    """Metric county and ward polygons; wards sorted by code."""

    county_codes: np.ndarray
    county_geoms: np.ndarray
    ward_codes: np.ndarray
    ward_names: np.ndarray
    ward_county: np.ndarray  # county code of each ward
    ward_geoms: np.ndarray


def build_territory(
    c_codes: np.ndarray, c_geoms: np.ndarray, townships: pd.DataFrame, surface: Surface, *, rng: np.random.Generator
) -> Territory:
    """Wards partitioning the 11 county-level units (sorted by code), townships sorted by code."""
    host = np.searchsorted(c_codes, townships["county_code"].to_numpy())
    regular = ~townships["code"].map(is_small_unit).to_numpy()
    pts = surface.sample(rng, POINTS_PER_WARD * len(townships), surface.density)
    grp = locate(pts, c_geoms)
    pts, grp = pts[grp >= 0], grp[grp >= 0]
    k = np.bincount(host[regular], minlength=len(c_codes))
    seeds, seed_c = grouped_kmeans(pts, grp, k, rng=rng)
    small = np.flatnonzero(~regular)
    extra = [_small_unit_seed(seeds, seed_c, int(host[i]), pts, grp, rng) for i in small]
    seeds = np.vstack([seeds, *extra]) if extra else seeds
    seed_c = np.concatenate([seed_c, host[small]])
    cells = voronoi_partition(seeds, seed_c, c_geoms)
    density = np.bincount(locate(pts, cells) + 1, minlength=len(cells) + 1)[1:] / shapely.area(cells)
    ward_of_cell = np.full(len(seeds), -1)
    ward_of_cell[len(seeds) - len(small):] = small
    for ci in range(len(c_codes)):
        idx = np.flatnonzero(seed_c == ci)[: k[ci]]
        _rank_into(idx, density[idx], np.flatnonzero((host == ci) & regular), townships, ward_of_cell)
    ward_geoms = np.empty(len(townships), dtype=object)
    ward_geoms[ward_of_cell] = cells
    return Territory(
        county_codes=c_codes,
        county_geoms=c_geoms,
        ward_codes=townships["code"].to_numpy(),
        ward_names=townships["name"].to_numpy(),
        ward_county=townships["county_code"].to_numpy(),
        ward_geoms=ward_geoms,
    )


def split_demo_zone(codes: np.ndarray, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 10 districts plus 示范区, cut from 山阳区 along ``DEMO_ZONE_CUT``; sorted by code."""
    (x1, y1), (x2, y2) = lonlat_to_metric(np.array(DEMO_ZONE_CUT))
    south = shapely.Polygon([(x1, y1), (x2, y2), (x2, y2 - 1e5), (x1, y1 - 1e5)])
    sy = int(np.flatnonzero(codes == SHANYANG)[0])
    zone = _drop_crumbs(shapely.intersection(geoms[sy], south))
    geoms = geoms.copy()
    geoms[sy] = _drop_crumbs(shapely.difference(geoms[sy], zone))
    all_codes = np.append(codes, DEMO_ZONE_CODE)
    order = np.argsort(all_codes)
    return all_codes[order], np.append(geoms, zone)[order]


def _small_unit_seed(
    seeds: np.ndarray, seed_c: np.ndarray, ci: int, pts: np.ndarray, grp: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A seed between a seed of the county and its nearest neighbour: its cell takes a bite of each."""
    own = np.flatnonzero(seed_c == ci)
    a = own[rng.integers(len(own) // 2, len(own))] if len(own) > 1 else own[0]
    dist = np.hypot(*(seeds[own] - seeds[a]).T)
    dist[own == a] = np.inf
    b = own[int(np.argmin(dist))]
    target = seeds[a] + (seeds[b] - seeds[a]) * rng.uniform(0.4, 0.6)
    members = np.flatnonzero(grp == ci)
    taken = {tuple(p) for p in seeds[own]}
    for m in members[np.argsort(np.hypot(*(pts[members] - target).T))]:
        if tuple(pts[m]) not in taken:  # a duplicate seed would break the ordered Voronoi diagram
            return pts[m]
    raise ValueError(f"county {ci} has too few sample points")


def _rank_into(
    cells_idx: np.ndarray, density: np.ndarray, wards: np.ndarray, townships: pd.DataFrame, ward_of_cell: np.ndarray
) -> None:
    """Densest cells to 街道, then 镇, then 乡 (in code order within a kind)."""
    codes = townships["code"].to_numpy()[wards]
    ward_order = wards[np.lexsort((codes, [KIND_RANK[c[6]] for c in codes]))]
    ward_of_cell[cells_idx[np.argsort(-density, kind="stable")]] = ward_order


def _drop_crumbs(geom: shapely.Geometry, *, min_area_m2: float = 1.0) -> shapely.Geometry:
    """Remove the sub-square-metre specks an overlay leaves along shared edges."""
    parts = shapely.get_parts(geom)
    return shapely.multipolygons(parts[shapely.area(parts) >= min_area_m2])
