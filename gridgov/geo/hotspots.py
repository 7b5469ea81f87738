"""Dispute hotspots: incident counts per grid and type, Getis-Ord Gi* on grid adjacency, kernel density."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.spatial import cKDTree

from gridgov.geo.adjacency import adjacency_matrix
from gridgov.geo.crs import METRIC_CRS, STORAGE_CRS, to_metric, to_storage

# Two-sided critical values of the standard normal: the usual 90/95/99% hot-spot classes.
CONFIDENCE_Z: tuple[tuple[int, float], ...] = ((99, 2.5758), (95, 1.9600), (90, 1.6449))


# -- filtering and counting -----------------------------------------------------------------------
def filter_incidents(
    incidents: gpd.GeoDataFrame,
    *,
    types: Iterable[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    months: Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Incidents of ``types`` dated ``start``..``end`` (inclusive) and in ``months`` ("YYYY-MM")."""
    keep = np.ones(len(incidents), dtype=bool)
    if types is not None:
        keep &= incidents["type"].isin(list(types)).to_numpy()
    dates = pd.to_datetime(incidents["date"], errors="coerce")
    if start is not None:
        keep &= (dates >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (dates <= pd.Timestamp(end)).to_numpy()
    if months is not None:
        keep &= dates.dt.strftime("%Y-%m").isin(list(months)).to_numpy()
    return incidents[keep]


@dataclass(frozen=True)
class IncidentCounts:
    """Incidents per grid (rows, in ``grid_codes`` order) and per type (columns, in ``types`` order).

    ``outside`` are located incidents in no grid, ``unlocated`` those without a point; both are
    reported, never dropped silently.
    """

    grid_codes: tuple[str, ...]
    types: tuple[str, ...]
    counts: np.ndarray  # (n_grids, n_types) int
    outside: int
    outside_by_type: dict[str, int]
    unlocated: int

    @property
    def total(self) -> np.ndarray:
        """Per grid, all the chosen types together."""
        return self.counts.sum(axis=1)

    def of(self, types: Iterable[str]) -> np.ndarray:
        """Per grid, the sum over ``types`` (types not counted contribute 0)."""
        cols = [self.types.index(t) for t in types if t in self.types]
        return self.counts[:, cols].sum(axis=1)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.counts, index=pd.Index(self.grid_codes, name="grid_code"), columns=list(self.types))


def grid_of_points(points: gpd.GeoSeries, grids: gpd.GeoDataFrame) -> np.ndarray:
    """Per point, the position of the grid containing it (-1: in no grid).

    A point on a shared boundary belongs to the first grid (in ``grids`` order) it touches, so
    it is counted exactly once.
    """
    pts = gpd.GeoDataFrame(geometry=to_storage(points).reset_index(drop=True))
    polys = gpd.GeoDataFrame({"_pos": np.arange(len(grids))}, geometry=to_storage(grids.geometry).to_numpy(), crs=STORAGE_CRS)
    hits = gpd.sjoin(pts, polys, how="left", predicate="intersects")
    first = hits["_pos"].groupby(level=0).min()
    return first.reindex(range(len(pts))).fillna(-1).astype(np.int64).to_numpy()


def count_incidents(
    incidents: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    types: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    months: Iterable[str] | None = None,
) -> IncidentCounts:
    """Count incidents per grid and type in a window; points in no grid are counted apart."""
    chosen = filter_incidents(incidents, types=types, start=start, end=end, months=months)
    type_list = tuple(types) if types is not None else tuple(sorted(chosen["type"].dropna().unique()))
    located = chosen.geometry.notna() & ~chosen.geometry.is_empty
    pts = chosen[located.to_numpy()]
    pos = grid_of_points(pts.geometry, grids) if len(pts) else np.empty(0, dtype=np.int64)
    col = pts["type"].map({t: k for k, t in enumerate(type_list)}).to_numpy()
    inside = pos >= 0
    counts = np.zeros((len(grids), len(type_list)), dtype=np.int64)
    np.add.at(counts, (pos[inside], col[inside].astype(np.int64)), 1)
    outside_types = pts["type"].to_numpy()[~inside]
    return IncidentCounts(
        grid_codes=tuple(grids["code"]),
        types=type_list,
        counts=counts,
        outside=int((~inside).sum()),
        outside_by_type={t: int((outside_types == t).sum()) for t in type_list if (outside_types == t).any()},
        unlocated=int((~located).sum()),
    )


# -- Getis-Ord Gi* --------------------------------------------------------------------------------
@dataclass(frozen=True)
class GiStar:
    """Gi* per grid: z-score, two-sided normal p-value and class (+99/+95/+90 hot, -… cold, 0 none)."""

    z: np.ndarray
    p: np.ndarray
    level: np.ndarray  # int: 99, 95, 90 hot; -99, -95, -90 cold; 0 not significant

    def hot(self, confidence: int = 95) -> np.ndarray:
        """Positions of the hot spots at ``confidence`` % or more."""
        return np.flatnonzero(self.level >= confidence)

    def cold(self, confidence: int = 95) -> np.ndarray:
        return np.flatnonzero(self.level <= -confidence)


def star_weights(adjacency: sparse.spmatrix) -> sparse.csr_matrix:
    """Binary Gi* weights: the neighbours and the grid itself (w_ii = 1)."""
    a = sparse.csr_matrix(adjacency, dtype=float)
    a.data[:] = 1.0
    return (a + sparse.identity(a.shape[0], format="csr")).tocsr().sign()


def gi_star(values: np.ndarray, weights: sparse.spmatrix) -> GiStar:
    """Getis-Ord Gi* (Ord & Getis 1995) with binary weights including self.

    With n grids, mean x̄, S = sqrt(Σx²/n − x̄²), W_i = Σ_j w_ij and S1_i = Σ_j w_ij²:

        z_i = (Σ_j w_ij x_j − x̄ W_i) / (S · sqrt((n S1_i − W_i²) / (n − 1)))

    For binary weights S1_i = W_i. This is what PySAL's ``esda.G_Local(star=True,
    transform="B")`` reports as ``Zs``. With no variation (S = 0) every z is 0. The p-value
    is two-sided from the normal approximation.
    """
    x = np.asarray(values, dtype=float)
    w = sparse.csr_matrix(weights, dtype=float)
    n = x.size
    mean = x.mean() if n else 0.0
    s = np.sqrt(max((x**2).mean() - mean**2, 0.0)) if n else 0.0
    w_i = np.asarray(w.sum(axis=1)).ravel()
    s1_i = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    spread = np.sqrt(np.maximum(n * s1_i - w_i**2, 0.0) / max(n - 1, 1))
    denom = s * spread
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(denom > 0, (w @ x - mean * w_i) / denom, 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return GiStar(z=z, p=p, level=classify(z))


def classify(z: np.ndarray) -> np.ndarray:
    """+99/+95/+90 (hot) or −99/−95/−90 (cold) by the largest two-sided confidence reached; else 0."""
    level = np.zeros(len(z), dtype=np.int64)
    for conf, crit in reversed(CONFIDENCE_Z):  # weakest first, so stronger classes overwrite
        level[z >= crit] = conf
        level[z <= -crit] = -conf
    return level


def grid_gi_star(grids: gpd.GeoDataFrame, values: np.ndarray) -> GiStar:
    """Gi* of per-grid ``values`` on the shared-edge adjacency of ``grids``."""
    return gi_star(values, star_weights(adjacency_matrix(grids.geometry)))


# -- kernel density -------------------------------------------------------------------------------
@dataclass(frozen=True)
class DensityGrid:
    """Gaussian kernel density on a regular EPSG:4547 grid: incidents per km² at cell centres."""

    x: np.ndarray  # (nx,) cell-centre eastings, metres
    y: np.ndarray  # (ny,) cell-centre northings, metres
    values: np.ndarray  # (ny, nx) incidents per km²
    bandwidth_m: float
    cell_m: float
    crs: str = METRIC_CRS


def kernel_density(
    points_m: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    bandwidth_m: float = 500.0,
    cell_m: float = 250.0,
    extent: tuple[float, float, float, float] | None = None,
    max_cells: int = 250_000,
) -> DensityGrid:
    """Density Σ_k w_k · exp(−d²/2h²) / (2πh²) of metric points on a cell grid, per km².

    The kernel is cut at 4h (it has lost 99.97% of its mass there) and summed with a KD-tree, so
    the cost grows with points × cells within reach, not with the whole grid. ``extent``
    (min x, min y, max x, max y) defaults to the points' box widened by 3h; the cell is widened
    when the grid would exceed ``max_cells``.
    """
    pts = np.asarray(points_m, dtype=float).reshape(-1, 2)
    w = np.ones(len(pts)) if weights is None else np.asarray(weights, dtype=float)
    if extent is None:
        if not len(pts):
            return DensityGrid(np.empty(0), np.empty(0), np.zeros((0, 0)), bandwidth_m, cell_m)
        lo, hi = pts.min(axis=0) - 3 * bandwidth_m, pts.max(axis=0) + 3 * bandwidth_m
        extent = (lo[0], lo[1], hi[0], hi[1])
    minx, miny, maxx, maxy = extent
    area_cells = (maxx - minx) * (maxy - miny) / cell_m**2
    if area_cells > max_cells:
        cell_m *= float(np.sqrt(area_cells / max_cells))
    xs = np.arange(minx + cell_m / 2, maxx, cell_m)
    ys = np.arange(miny + cell_m / 2, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    centres = np.column_stack([gx.ravel(), gy.ravel()])
    dens = np.zeros(len(centres))
    if len(pts) and len(centres):
        # The coo form keeps zero distances (a point exactly on a cell centre), unlike the dok form.
        near = cKDTree(pts).sparse_distance_matrix(cKDTree(centres), 4 * bandwidth_m, output_type="coo_matrix")
        kernel = np.exp(-(near.data**2) / (2 * bandwidth_m**2))
        np.add.at(dens, near.col, w[near.row] * kernel)
        dens *= 1e6 / (2 * np.pi * bandwidth_m**2)  # per m² → per km²
    return DensityGrid(xs, ys, dens.reshape(len(ys), len(xs)), bandwidth_m, cell_m)


def heat_points(
    incidents: gpd.GeoDataFrame,
    *,
    types: Iterable[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    bandwidth_m: float = 500.0,
    cell_m: float = 250.0,
    min_share: float = 0.02,
) -> list[tuple[float, float, float]]:
    """(lat, lon, weight) cell centres of the kernel density, for a Folium ``HeatMap`` layer.

    Weights are the density divided by its maximum (0..1]; cells below ``min_share`` of the
    maximum are left out so the layer stays small. Lat/lon are EPSG:4490 (≈ WGS84).
    """
    chosen = filter_incidents(incidents, types=types, start=start, end=end)
    located = chosen.geometry.notna() & ~chosen.geometry.is_empty
    if not located.any():
        return []
    pts = to_metric(chosen[located.to_numpy()].geometry)
    grid = kernel_density(np.column_stack([pts.x, pts.y]), bandwidth_m=bandwidth_m, cell_m=cell_m)
    top = float(grid.values.max()) if grid.values.size else 0.0
    if top <= 0:
        return []
    rows, cols = np.nonzero(grid.values >= min_share * top)
    xy = gpd.GeoSeries(gpd.points_from_xy(grid.x[cols], grid.y[rows]), crs=METRIC_CRS).to_crs(STORAGE_CRS)
    weights = grid.values[rows, cols] / top
    return [(round(float(p.y), 6), round(float(p.x), 6), round(float(v), 4)) for p, v in zip(xy, weights)]
