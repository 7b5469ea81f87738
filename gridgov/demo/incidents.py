"""A synthetic year of dispute incidents with hotspots by type and mild seasonality."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import shapely

from gridgov.demo.grids import GridSet
from gridgov.demo.places import places
from gridgov.demo.polygons import locate, points_in
from gridgov.demo.population import mountain_factor
from gridgov.demo.wards import Territory
from gridgov.schema import DISPUTE_TYPES

INCIDENTS_AT_FULL_SCALE = 12_000
FIRST_DAY = date(2025, 11, 1)
DAYS = 365

# Shares roughly as in 人民调解 statistics: family and neighbour disputes lead.
TYPE_SHARES: dict[str, float] = {
    "婚姻家庭": 0.18, "邻里": 0.22, "房屋宅基地": 0.08, "合同": 0.06, "生产经营": 0.03,
    "损害赔偿": 0.07, "山林土地": 0.03, "征地拆迁": 0.02, "环境污染": 0.015, "劳动争议": 0.06,
    "消费": 0.03, "医疗": 0.02, "道路交通事故": 0.06, "物业": 0.05, "其它": 0.075,
}

# Where each type happens: shares of spatial components (see ``_component_points``).
RECIPES: dict[str, tuple[tuple[str, float], ...]] = {
    "婚姻家庭": (("people", 1.0),),
    "邻里": (("people", 1.0),),
    "房屋宅基地": (("rural", 0.8), ("fringe", 0.2)),
    "合同": (("commerce", 0.4), ("people", 0.6)),
    "生产经营": (("parks", 0.3), ("commerce", 0.3), ("people", 0.4)),
    "损害赔偿": (("people", 0.7), ("roads", 0.3)),
    "山林土地": (("hills", 0.7), ("rural", 0.3)),
    "征地拆迁": (("fringe", 1.0),),
    "环境污染": (("parks", 0.5), ("people", 0.5)),
    "劳动争议": (("parks", 0.65), ("urban", 0.35)),
    "消费": (("commerce", 0.7), ("people", 0.3)),
    "医疗": (("commerce", 0.5), ("people", 0.5)),
    "道路交通事故": (("roads", 0.8), ("people", 0.2)),
    "物业": (("estates", 1.0),),
    "其它": (("people", 1.0),),
}

# Month multipliers: wage arrears before the Spring Festival, family visits, spring farming …
SEASON: dict[str, dict[int, float]] = {
    "劳动争议": {12: 1.6, 1: 1.8, 2: 1.3},
    "婚姻家庭": {1: 1.3, 2: 1.5},
    "邻里": {7: 1.3, 8: 1.3},
    "道路交通事故": {1: 1.3, 2: 1.4, 10: 1.3},
    "房屋宅基地": {3: 1.4, 4: 1.4, 5: 1.2},
    "山林土地": {3: 1.4, 4: 1.4, 10: 1.2},
    "物业": {11: 1.4, 12: 1.3},
    "征地拆迁": {4: 1.3, 5: 1.3, 6: 1.2},
}


def build_incidents(
    territory: Territory, grids: GridSet, *, scale: float, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """Incident attributes (sorted by date) and their metric points."""
    n = max(50, int(round(INCIDENTS_AT_FULL_SCALE * scale)))
    counts = rng.multinomial(n, np.array([TYPE_SHARES[t] for t in DISPUTE_TYPES]))
    weights = _grid_weights(grids)
    xy_parts, ward_parts, types, dates = [], [], [], []
    for dtype, count in zip(DISPUTE_TYPES, counts):
        recipe = RECIPES[dtype]
        split = rng.multinomial(count, [share for _, share in recipe])
        for (component, _), m in zip(recipe, split):
            xy, ward = _component_points(component, int(m), territory, grids, weights, rng)
            xy_parts.append(xy)
            ward_parts.append(ward)
        types += [dtype] * int(count)
        dates.append(_dates(dtype, int(count), rng))
    day = np.concatenate(dates)
    order = np.argsort(day, kind="stable")
    day = day[order]
    frame = pd.DataFrame({
        "incident_id": [f"MD{i + 1:06d}" for i in range(n)],
        "type": np.array(types)[order],
        "date": [FIRST_DAY + timedelta(days=int(d)) for d in day],
        "ward_code": np.concatenate(ward_parts)[order],
        "status": _statuses(day, rng),
    })
    return frame, np.vstack(xy_parts)[order]


def _grid_weights(grids: GridSet) -> dict[str, np.ndarray]:
    """Per-grid weights of the population-driven components."""
    f = grids.frame
    hh = f["households"].to_numpy(dtype=float)
    street = (f["ward_code"].str[6] == "0").to_numpy()
    urban_county = f["ward_code"].str[:6].isin({"410802", "410803", "410804", "410811", "410871"}).to_numpy()
    community = f["community"].to_numpy()
    d_town = np.min(np.hypot(*(grids.points[:, None, :] - places().kernels_xy[None]).transpose(2, 0, 1)), axis=1)
    return {
        "people": hh,
        "urban": hh * (street & urban_county),
        "rural": hh * ~street,
        "fringe": hh * np.exp(-(((d_town - 4500.0) / 2500.0) ** 2)),
        "hills": hh * (1.05 - mountain_factor(grids.points)) * ~community,
        "estates": hh * (community & street),
    }


def _component_points(
    component: str, m: int, territory: Territory, grids: GridSet, weights: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """``m`` points of one component with their ward codes."""
    if m == 0:
        return np.empty((0, 2)), np.empty(0, dtype=object)
    if component in weights:
        w = weights[component]
        grid = rng.choice(len(w), size=m, p=w / w.sum())
        return points_in(grids.geoms, grid, rng), grids.frame["ward_code"].to_numpy()[grid]
    got_xy, got_ward = np.empty((0, 2)), np.empty(0, dtype=np.int64)
    while len(got_xy) < m:  # anchored draws can fall outside the city: redraw those
        xy = _anchored(component, 2 * m, rng)
        ward = locate(xy, territory.ward_geoms)
        got_xy, got_ward = np.vstack([got_xy, xy[ward >= 0]]), np.concatenate([got_ward, ward[ward >= 0]])
    return got_xy[:m], territory.ward_codes[got_ward[:m]]


def _anchored(component: str, m: int, rng: np.random.Generator) -> np.ndarray:
    """Points around industrial parks, commercial centres, or along the main roads."""
    pl = places()
    if component == "roads":
        lengths = np.array([r.length for r in pl.roads])
        road = rng.choice(len(pl.roads), size=m, p=lengths / lengths.sum())
        along = shapely.line_interpolate_point(np.array(pl.roads, dtype=object)[road], rng.random(m), normalized=True)
        return shapely.get_coordinates(along) + rng.normal(0.0, 200.0, (m, 2))
    anchors, sigma = (pl.parks_xy, 1500.0) if component == "parks" else (pl.commerce_xy, 1200.0)
    pick = rng.integers(0, len(anchors), size=m)
    return anchors[pick] + rng.normal(0.0, sigma, (m, 2))


def _dates(dtype: str, count: int, rng: np.random.Generator) -> np.ndarray:
    """Day offsets from FIRST_DAY: a mild winter peak plus the type's own season."""
    days = np.arange(DAYS)
    months = np.array([(FIRST_DAY + timedelta(days=int(d))).month for d in days])
    w = 1.0 + 0.08 * np.cos(2 * np.pi * (months - 1) / 12)
    for month, factor in SEASON.get(dtype, {}).items():
        w = np.where(months == month, w * factor, w)
    return rng.choice(days, size=count, p=w / w.sum())


def _statuses(day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mostly 已调解; recent cases are often still 调解中."""
    age = (DAYS - 1) - day
    ongoing = 0.03 + 0.6 * np.exp(-age / 30.0)
    u = rng.random(len(day))
    return np.where(u < ongoing, "调解中", np.where(u < ongoing + 0.05, "未调解", "已调解"))
