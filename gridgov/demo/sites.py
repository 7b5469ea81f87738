"""Candidate mediation-studio sites (service centres, 职工之家, 司法所, park points) and existing studios."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridgov.demo.grids import GridSet
from gridgov.demo.places import places
from gridgov.demo.polygons import locate
from gridgov.demo.wards import Territory
from gridgov.schema import DISPUTE_TYPES

# Candidates per kind at scale 1 (~190), plus the existing studios.
KIND_COUNTS: dict[str, int] = {"社区服务中心": 80, "司法所": 70, "职工之家": 30, "园区服务站": 9}
EXISTING_STUDIOS = 10
STAFFING_SECTORS = ("司法", "社会工作", "法院", "公安", "人社", "检察")

KIND_TYPES: dict[str, tuple[str, ...]] = {
    "社区服务中心": ("婚姻家庭", "邻里", "物业", "消费", "房屋宅基地", "损害赔偿", "其它"),
    "司法所": DISPUTE_TYPES,
    "职工之家": ("劳动争议", "合同", "生产经营", "损害赔偿"),
    "园区服务站": ("劳动争议", "生产经营", "合同", "环境污染"),
}
KIND_CAPACITY: dict[str, tuple[float, float]] = {
    "社区服务中心": (200, 500), "司法所": (300, 700), "职工之家": (200, 500),
    "园区服务站": (300, 800), "现有工作室": (400, 800),
}


def build_sites(
    territory: Territory, grids: GridSet, workers: pd.DataFrame, *, scale: float, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """Site attributes and metric points: candidates spread by population, then the existing studios."""
    n = {k: max(2, int(round(c * scale))) for k, c in KIND_COUNTS.items()}
    n["园区服务站"] = min(n["园区服务站"], len(places().park_names))
    parts = [
        _service_centres(grids, n["社区服务中心"], rng),
        _justice_offices(territory, grids, n["司法所"], rng),
        _workers_homes(territory, workers, n["职工之家"], rng),
        _park_points(territory, n["园区服务站"], rng),
        _existing(grids, workers, max(2, int(round(EXISTING_STUDIOS * scale))), rng),
    ]
    names = [name for p in parts for name in p[0]]
    kinds = [kind for p in parts for kind in p[1]]
    xy = np.vstack([p[2] for p in parts])
    frame = pd.DataFrame({
        "site_id": [f"ST{i + 1:04d}" for i in range(len(names))],
        "name": names,
        "kind": kinds,
        "types": [_types(k, rng) for k in kinds],
        "capacity": [float(round(rng.uniform(*KIND_CAPACITY[k]), -1)) for k in kinds],
        "existing": [k == "现有工作室" for k in kinds],
    })
    return frame, xy


Part = tuple[list[str], list[str], np.ndarray]


def _service_centres(grids: GridSet, n: int, rng: np.random.Generator) -> Part:
    """社区服务中心 in distinct villages/communities, drawn by households (urban ones favoured)."""
    f = grids.frame
    first = ~f["code"].str[:12].duplicated().to_numpy()
    w = f["households"].to_numpy() * np.where(f["community"], 3.0, 1.0) * first
    pick = rng.choice(len(f), size=min(n, int(first.sum())), replace=False, p=w / w.sum())
    names = [f"{v}服务中心" if v.endswith("社区") else f"{v}党群服务中心" for v in f["village"].to_numpy()[pick]]
    return names, ["社区服务中心"] * len(pick), grids.points[pick]


def _justice_offices(territory: Territory, grids: GridSet, n: int, rng: np.random.Generator) -> Part:
    """司法所 in the densest grid of a random set of wards (a township's seat)."""
    wards = np.sort(rng.choice(len(territory.ward_codes), size=min(n, len(territory.ward_codes)), replace=False))
    f = grids.frame
    density = f["households"].to_numpy() / np.maximum(f["area_m2"].to_numpy(), 1.0)
    idx = []
    for w in wards:
        own = np.flatnonzero(f["ward_code"].to_numpy() == territory.ward_codes[w])
        idx.append(own[np.argmax(density[own])])
    names = [f"{territory.ward_names[w]}司法所" for w in wards]
    return names, ["司法所"] * len(wards), grids.points[np.array(idx, dtype=np.int64)]


def _workers_homes(territory: Territory, workers: pd.DataFrame, n: int, rng: np.random.Generator) -> Part:
    """职工之家 of enterprises, around the industrial parks."""
    employers = sorted(set(workers.loc[workers["sector"] == "企业", "employer"])) or ["焦作市总工会"]
    chosen = rng.choice(employers, size=n, replace=len(employers) < n)
    names = [f"{e}职工之家" for e in chosen]
    return names, ["职工之家"] * n, _inside(territory, places().parks_xy, 2000.0, n, rng)


def _park_points(territory: Territory, n: int, rng: np.random.Generator) -> Part:
    pl = places()
    pick = np.sort(rng.choice(len(pl.park_names), size=n, replace=False))
    xy = _inside(territory, pl.parks_xy[pick], 150.0, n, rng, in_order=True)
    return [f"{pl.park_names[i]}服务站" for i in pick], ["园区服务站"] * n, xy


def _existing(grids: GridSet, workers: pd.DataFrame, n: int, rng: np.random.Generator) -> Part:
    """Studios already named after a model worker, in a dense grid of the worker's home ward."""
    pool = workers[(workers["status"] == "active") & workers["sector"].isin(STAFFING_SECTORS)]
    pool = pool if len(pool) >= n else workers
    chosen = pool.iloc[np.sort(rng.choice(len(pool), size=min(n, len(pool)), replace=False))]
    f = grids.frame
    idx = []
    for ward in chosen["home_ward"]:
        own = np.flatnonzero(f["ward_code"].to_numpy() == ward)
        hh = f["households"].to_numpy()[own].astype(float)
        idx.append(own[rng.choice(len(own), p=hh / hh.sum())])
    names = [f"{name}劳模调解工作室" for name in chosen["name"]]
    return names, ["现有工作室"] * len(chosen), grids.points[np.array(idx, dtype=np.int64)]


def _inside(
    territory: Territory, anchors: np.ndarray, sigma: float, n: int, rng: np.random.Generator, *, in_order: bool = False
) -> np.ndarray:
    """``n`` points scattered around ``anchors`` (the i-th around the i-th when ``in_order``), inside the city."""
    out = np.empty((n, 2))
    todo = np.arange(n)
    while len(todo):
        a = anchors[todo] if in_order else anchors[rng.integers(0, len(anchors), size=len(todo))]
        xy = a + rng.normal(0.0, sigma, (len(todo), 2))
        ok = locate(xy, territory.ward_geoms) >= 0
        out[todo[ok]] = xy[ok]
        todo = todo[~ok]
    return out


def _types(kind: str, rng: np.random.Generator) -> list[str]:
    """Dispute types a site handles; an existing studio covers family and neighbour disputes and more."""
    if kind != "现有工作室":
        return list(KIND_TYPES[kind])
    extra = rng.choice([t for t in DISPUTE_TYPES if t not in ("婚姻家庭", "邻里")], size=int(rng.integers(4, 9)),
                       replace=False)
    return ["婚姻家庭", "邻里", *sorted(extra, key=DISPUTE_TYPES.index)]
