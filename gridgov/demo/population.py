"""The population surface: a 250 m raster of people, dense in the urban core and the county seats."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.ndimage import gaussian_filter

from gridgov.demo.places import places
from gridgov.demo.polygons import locate

CELL_M = 250.0
PEOPLE_PER_VILLAGE = 1_100.0


@dataclass(frozen=True)
class Surface:
    """People per raster cell over the city, and the county index of every cell (-1 outside)."""

    x0: float
    y0: float
    nx: int
    ny: int
    density: np.ndarray  # (ny * nx,) people per cell
    county: np.ndarray   # (ny * nx,) county index or -1

    def centres(self) -> np.ndarray:
        ix, iy = np.meshgrid(np.arange(self.nx), np.arange(self.ny))
        return np.column_stack([self.x0 + (ix.ravel() + 0.5) * CELL_M, self.y0 + (iy.ravel() + 0.5) * CELL_M])

    def cell_of(self, xy: np.ndarray) -> np.ndarray:
        ix = np.clip(((xy[:, 0] - self.x0) // CELL_M).astype(np.int64), 0, self.nx - 1)
        iy = np.clip(((xy[:, 1] - self.y0) // CELL_M).astype(np.int64), 0, self.ny - 1)
        return iy * self.nx + ix

    def value_at(self, xy: np.ndarray) -> np.ndarray:
        """People per km² at each point."""
        return self.density[self.cell_of(xy)] / (CELL_M * CELL_M / 1e6)

    def sample(self, rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
        """``n`` points drawn cell by cell in proportion to ``weights``, uniform within a cell."""
        p = weights / weights.sum()
        cells = rng.choice(len(p), size=n, p=p)
        ix, iy = cells % self.nx, cells // self.nx
        jitter = rng.random((n, 2))
        return np.column_stack([self.x0 + (ix + jitter[:, 0]) * CELL_M, self.y0 + (iy + jitter[:, 1]) * CELL_M])


def mountain_factor(xy: np.ndarray) -> np.ndarray:
    """1 on the plain, falling to ~0.15 north of the Taihang foothills."""
    ridge = shapely.get_coordinates(places().ridge)
    north_m = xy[:, 1] - np.interp(xy[:, 0], ridge[:, 0], ridge[:, 1])
    return 0.15 + 0.85 / (1.0 + np.exp(north_m / 2000.0))


def build_surface(
    counties: np.ndarray, rural_villages: np.ndarray, *, rng: np.random.Generator
) -> Surface:
    """The raster over ``counties`` (metric polygons); ``rural_villages[c]`` villages are scattered in each."""
    minx, miny, maxx, maxy = shapely.total_bounds(counties)
    nx, ny = int(np.ceil((maxx - minx) / CELL_M)), int(np.ceil((maxy - miny) / CELL_M))
    blank = Surface(minx, miny, nx, ny, np.zeros(nx * ny), np.zeros(nx * ny, dtype=np.int64))
    xy = blank.centres()
    county = locate(xy, counties)
    inside = county >= 0
    hills = mountain_factor(xy)
    density = _villages(blank, county, hills, rural_villages, rng) + _towns(xy)
    density = np.where(inside, density + 2.0 * hills, 0.0)
    return Surface(minx, miny, nx, ny, density, county)


def _towns(xy: np.ndarray) -> np.ndarray:
    pl = places()
    out = np.zeros(len(xy))
    for (cx, cy), sigma, mass in zip(pl.kernels_xy, pl.kernels_sigma, pl.kernels_mass):
        r2 = (xy[:, 0] - cx) ** 2 + (xy[:, 1] - cy) ** 2
        out += mass * CELL_M**2 / (2 * np.pi * sigma**2) * np.exp(-r2 / (2 * sigma**2))
    return out


def _villages(
    blank: Surface, county: np.ndarray, hills: np.ndarray, rural_villages: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Rural texture: each county's villages as blobs of ~1,100 people, rarer in the hills."""
    mass = np.zeros(blank.nx * blank.ny)
    for c, n in enumerate(rural_villages):
        w = np.where(county == c, hills**2, 0.0)
        if n <= 0 or w.sum() == 0:
            continue
        cells = rng.choice(len(w), size=int(n), p=w / w.sum())
        np.add.at(mass, cells, PEOPLE_PER_VILLAGE * rng.lognormal(0.0, 0.4, size=int(n)))
    smooth = gaussian_filter(mass.reshape(blank.ny, blank.nx), sigma=1.6, mode="constant")
    return smooth.ravel()
