"""The map tests' hand-made store: a 4x4 lattice of grids in two wards near 113.2E 35.2N."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from shapely.geometry import MultiPolygon, Point, box
from shapely.ops import unary_union

from gridgov.plans.versions import publish_plan, save_plan
from gridgov.store import SqlStore, open_store

X0, Y0, STEP = 113.20, 35.20, 0.01
WARD_W, WARD_E = "410811001", "410811002"
COUNTY = "410811"
# Owner of the cell in row r (south to north), column c (west to east); None: uncovered.
OWNERS = [
    ["wB", None, "wE", "wE"],
    ["wB", "wB", "wE", "wD"],
    ["wB", "wA", "wC", "wD"],
    ["wA", "wA", "wC", "wC"],
]
UNCOVERED_REASON = "附近十五公里内无可用劳模 / no available worker within 15 km"  # as plans store reasons
# Plan 2 differs from plan 1 in exactly these grids.
PLAN2_CHANGES = {"G01": "wB", "G20": "wA"}
PHONE = "13900001234"


def cell(r: int, c: int):
    return box(X0 + c * STEP, Y0 + r * STEP, X0 + (c + 1) * STEP, Y0 + (r + 1) * STEP)


def grid_rows() -> list[dict]:
    return [
        {"code": f"G{r}{c}", "ward_code": WARD_W if c < 2 else WARD_E, "name": f"第{r}{c}网格",
         "kind": "基础", "households": 400, "population": 1200, "geometry": MultiPolygon([cell(r, c)])}
        for r in range(4) for c in range(4)
    ]


def _ward_geom(cols: range) -> MultiPolygon:
    return MultiPolygon([unary_union([cell(r, c) for r in range(4) for c in cols])])


def worker_rows() -> list[dict]:
    homes = {"wA": (0, 3), "wB": (0, 1), "wC": (2, 3), "wD": (3, 1), "wE": (3, 0), "wF": (1, 2)}
    honours = [{"title": "全国劳动模范", "level": "全国", "year": 2015}]
    return [
        {"worker_id": w, "name": f"劳模{w[-1]}", "honours": honours, "sector": "司法", "phone": PHONE,
         "home_ward": WARD_W if c < 2 else WARD_E, "status": "active", "capacity": 3.0,
         "geometry": Point(X0 + (c + 0.5) * STEP, Y0 + (r + 0.5) * STEP)}
        for w, (c, r) in homes.items()
    ]


def assignment(changes: dict[str, str | None] | None = None) -> dict[str, str | None]:
    out = {f"G{r}{c}": OWNERS[r][c] for r in range(4) for c in range(4)}
    out.update(changes or {})
    return out


def _plan(store: SqlStore, kind: str, assign: dict, reasons: dict, summary: dict) -> int:
    return save_plan(store, kind=kind, rule="several", params={}, scope=None, assignment=assign, reasons=reasons,
                     solver_status="optimal", objective=0.0, bound=0.0, summary=summary, actor="test")


def studio_summary() -> dict:
    return {
        "studios": [{"site_id": "S1", "name": "东区劳模调解工作室", "kind": "社区", "existing": True,
                     "types": ["邻里", "婚姻家庭"], "lon": X0 + 2.5 * STEP, "lat": Y0 + 1.5 * STEP,
                     "staff": [{"worker_id": "wC", "sector": "司法", "km": 1.2}], "unfilled": 1}],
        "served": {"邻里+婚姻家庭": {"G12": "S1", "G13": "S1", "G02": "S1"}},
    }


def populate(store: SqlStore) -> None:
    """Lattice, wards, county, workers, incidents; plan 1 published, plan 2 draft, a studio plan."""
    store.save("counties", [{"code": COUNTY, "name": "山阳区", "geometry": _ward_geom(range(4))}])
    store.save("wards", [
        {"code": WARD_W, "name": "西街道", "county_code": COUNTY, "geometry": _ward_geom(range(0, 2))},
        {"code": WARD_E, "name": "东街道", "county_code": COUNTY, "geometry": _ward_geom(range(2, 4))},
    ])
    store.save("grids", grid_rows())
    store.save("workers", worker_rows())
    store.save("incidents", [
        {"incident_id": f"I{i}", "type": "邻里" if i % 2 else "婚姻家庭", "date": date(2025, 3, 1 + i % 20),
         "ward_code": WARD_E, "status": "closed",
         "geometry": Point(X0 + 2.5 * STEP + (i % 5) * 0.001, Y0 + 1.5 * STEP + (i % 3) * 0.001)}
        for i in range(30)
    ])
    p1 = _plan(store, "grid", assignment(), {"G01": UNCOVERED_REASON}, {})
    publish_plan(store, p1, actor="test")
    _plan(store, "grid", assignment(PLAN2_CHANGES), {}, {})
    publish_plan(store, _plan(store, "studio", {}, {}, studio_summary()), actor="test")


def build_store(path: Path) -> SqlStore:
    store = open_store(str(path), create=True)
    populate(store)
    return store

