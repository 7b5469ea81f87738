"""Vectorised partition tools: point location, grouped k-means, clipped Voronoi cells without slivers."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

# Lifting each group onto its own plane this far apart makes one KD-tree answer "nearest within
# the same group" for every group at once (the city is ~100 km across).
_GROUP_GAP = 1.0e7


def locate(xy: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Index of the polygon containing each point (the lowest on a shared edge), -1 when none."""
    out = np.full(len(xy), -1, dtype=np.int64)
    if len(xy) == 0:
        return out
    tree = shapely.STRtree(polygons)
    src, hit = tree.query(shapely.points(xy), predicate="intersects")
    order = np.lexsort((-hit, src))  # last write per point wins: the lowest polygon index
    out[src[order]] = hit[order]
    return out


def _lift(xy: np.ndarray, group: np.ndarray) -> np.ndarray:
    return np.column_stack([xy, group.astype(float) * _GROUP_GAP])


def first_per_group(group: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``counts[g]`` random members of each group ``g`` (fewer when the group is smaller)."""
    order = np.lexsort((rng.random(len(group)), group))
    g_sorted = group[order]
    starts = np.searchsorted(g_sorted, np.arange(len(counts)))
    rank = np.arange(len(group)) - starts[g_sorted]
    return order[rank < counts[g_sorted]]


def grouped_kmeans(
    points: np.ndarray,
    point_group: np.ndarray,
    k_per_group: np.ndarray,
    *,
    rng: np.random.Generator,
    iterations: int = 12,
) -> tuple[np.ndarray, np.ndarray]:
    """k-means run independently in every group at once; returns (centres, centre_group).

    The centres are finally snapped to distinct member points, so each lies inside the territory
    its points came from (a mean of a concave region's points need not).
    """
    init = first_per_group(point_group, k_per_group, rng)
    centres = points[init].copy()
    centre_group = point_group[init]
    lifted_pts = _lift(points, point_group)
    for _ in range(iterations):
        _, label = cKDTree(_lift(centres, centre_group)).query(lifted_pts)
        counts = np.bincount(label, minlength=len(centres))
        filled = counts > 0
        for d in range(2):
            sums = np.bincount(label, weights=points[:, d], minlength=len(centres))
            centres[filled, d] = sums[filled] / counts[filled]
    return _snap_to_members(centres, centre_group, points, point_group), centre_group


def _snap_to_members(
    centres: np.ndarray, centre_group: np.ndarray, points: np.ndarray, point_group: np.ndarray
) -> np.ndarray:
    """Move each centre to the nearest unused member point of its group."""
    k = min(8, len(points))
    _, near = cKDTree(_lift(points, point_group)).query(_lift(centres, centre_group), k=k)
    near = near.reshape(len(centres), k)
    chosen = near[:, 0].copy()
    used: set[int] = set()
    for i in range(len(centres)):
        if chosen[i] in used:  # two centres collapsed onto one point: take the next free one
            free = [j for j in near[i] if j not in used and point_group[j] == centre_group[i]]
            chosen[i] = free[0] if free else chosen[i]
        used.add(int(chosen[i]))
    return points[chosen].copy()


def voronoi_partition(
    seeds: np.ndarray, seed_parent: np.ndarray, parents: np.ndarray
) -> np.ndarray:
    """Split each parent polygon among its seeds (Voronoi cells clipped to it), one main piece each.

    Returns one geometry per seed; together the cells of a parent cover it without overlaps.
    """
    cells = np.empty(len(seeds), dtype=object)
    for p in np.unique(seed_parent):
        idx = np.flatnonzero(seed_parent == p)
        if len(idx) == 1:
            cells[idx[0]] = parents[p]
            continue
        envelope = shapely.buffer(shapely.envelope(parents[p]), 1000.0)
        diagram = shapely.voronoi_polygons(
            shapely.multipoints(seeds[idx]), extend_to=envelope, ordered=True
        )
        cells[idx] = shapely.get_parts(diagram)
    pieces = shapely.intersection(cells, parents[seed_parent])
    return _absorb_fragments(pieces, seed_parent)


def _absorb_fragments(pieces: np.ndarray, owner_parent: np.ndarray) -> np.ndarray:
    """Give every detached fragment of a cell to the neighbour it shares the longest edge with."""
    parts, owner = shapely.get_parts(pieces, return_index=True)
    keep = shapely.get_type_id(parts) == 3  # polygons only: drop stray lines/points of the overlay
    parts, owner = parts[keep], owner[keep]
    area = shapely.area(parts)
    order = np.lexsort((-area, owner))
    is_main = np.zeros(len(parts), dtype=bool)
    first = np.unique(owner[order], return_index=True)[1]
    is_main[order[first]] = True
    target = owner.copy()
    frag = np.flatnonzero(~is_main)
    if len(frag):
        main_idx = np.flatnonzero(is_main)
        tree = shapely.STRtree(parts[main_idx])
        f_i, m_i = tree.query(parts[frag], predicate="intersects")
        cand_owner = owner[main_idx[m_i]]
        ok = (owner_parent[cand_owner] == owner_parent[owner[frag[f_i]]]) & (cand_owner != owner[frag[f_i]])
        f_i, cand_owner, m_i = f_i[ok], cand_owner[ok], m_i[ok]
        shared = shapely.length(
            shapely.intersection(shapely.boundary(parts[frag[f_i]]), shapely.boundary(parts[main_idx[m_i]]))
        )
        best = np.lexsort((-shared, f_i))
        f_first = np.unique(f_i[best], return_index=True)[1]
        for j in best[f_first]:
            if shared[j] > 0:
                target[frag[f_i[j]]] = cand_owner[j]
    out = np.empty(len(pieces), dtype=object)
    changed = np.zeros(len(pieces), dtype=bool)
    changed[target[~is_main]] = True
    changed[owner[~is_main]] = True
    simple = is_main & ~changed[target]
    out[target[simple]] = parts[simple]
    for t in np.flatnonzero(changed):
        out[t] = shapely.union_all(parts[target == t])
    return out


def points_in(geoms: np.ndarray, which: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniform random point inside ``geoms[which[i]]`` for every i (vectorised rejection)."""
    out = np.empty((len(which), 2))
    todo = np.arange(len(which))
    bounds = shapely.bounds(geoms)
    while len(todo):
        b = bounds[which[todo]]
        xy = b[:, :2] + rng.random((len(todo), 2)) * (b[:, 2:] - b[:, :2])
        hit = shapely.contains_xy(geoms[which[todo]], xy[:, 0], xy[:, 1])
        out[todo[hit]] = xy[hit]
        todo = todo[~hit]
    return out
