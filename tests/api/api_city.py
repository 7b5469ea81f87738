"""The hand-made test city (3 wards, 7 grids, 6 workers) with accounts, and API client helpers (shared by tests/api and tests/web)."""

from __future__ import annotations

import warnings

import geopandas as gpd
from shapely.geometry import Point, box

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx vs httpx2 is not ours to fix
    from fastapi.testclient import TestClient

import gridgov.api.security as security
from gridgov.api.accounts import add_user
from gridgov.api.main import create_app
from gridgov.plans.run import solve_plan
from gridgov.plans.versions import publish_plan
from gridgov.settings import Settings
from gridgov.store import SqlStore

# Cheap argon2 parameters: the tests hash and verify dozens of passwords on 2 shared cores.
security._hasher = security.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

W1, W2, W3 = "410802001", "410802002", "410803001"
PASSWORD = "correct-horse-1"
USERS = {
    "admin": ("admin", []),
    "planner": ("planner", []),
    "street1": ("street", [W1]),
    "street2": ("street", [W2]),
}
# Each ward's own workers suffice, so the published plan keeps workers at home.
WORKERS = [
    ("A", "张三", W1, "13900000001", 113.202), ("B", "李四", W1, "13900000002", 113.207),
    ("C", "王五", W2, "13900000003", 113.212), ("D", "赵六", W2, "13900000004", 113.217),
    ("E", "孙七", W3, "13900000005", 113.222), ("F", "周八", W3, "13900000006", 113.227),
]


def seed_city(store: SqlStore) -> int:
    """Wards side by side, grids in strips, workers at home; returns the published plan id."""
    wards = gpd.GeoDataFrame(
        {"code": [W1, W2, W3], "name": ["民生街道", "民主街道", "焦东街道"],
         "county_code": ["410802", "410802", "410803"]},
        geometry=[box(113.20 + 0.01 * i, 35.20, 113.21 + 0.01 * i, 35.21) for i in range(3)], crs="EPSG:4490",
    )
    strips = {W1: 3, W2: 2, W3: 2}
    codes, ward_codes, geoms = [], [], []
    for i, (ward, n) in enumerate(strips.items()):
        x0, width = 113.20 + 0.01 * i, 0.01 / n
        for j in range(n):
            codes.append(f"G{i + 1}0{j + 1}")
            ward_codes.append(ward)
            geoms.append(box(x0 + j * width, 35.20, x0 + (j + 1) * width, 35.21))
    grids = gpd.GeoDataFrame(
        {"code": codes, "ward_code": ward_codes, "name": [f"{c}网格" for c in codes],
         "households": [300] * len(codes)}, geometry=geoms, crs="EPSG:4490",
    )
    workers = [
        {"worker_id": w, "name": n, "home_ward": h, "phone": p, "employer": "焦作市总工会", "sector": "企业",
         "honours": [{"title": "河南省劳动模范", "level": "省部", "year": 2015}],
         "status": "active", "capacity": 3.0, "geometry": Point(x, 35.205)}
        for w, n, h, p, x in WORKERS
    ]
    store.save("wards", wards)
    store.save("grids", grids)
    store.save("workers", workers)
    for name, (role, wards_) in USERS.items():
        add_user(store, name, role=role, password=PASSWORD, wards=wards_, actor="test")
    plan_id = solve_plan(store, actor="test").plan_id
    assert plan_id is not None
    publish_plan(store, plan_id, actor="test")
    return plan_id


def make_client(url: str, *, run_jobs: bool = False) -> TestClient:
    settings = Settings(db=url, api_run_jobs=run_jobs, api_secret="test-secret-of-at-least-32-bytes-long", api_job_poll_s=0.2)
    return TestClient(create_app(settings))


def token(client: TestClient, username: str, password: str = PASSWORD) -> str:
    r = client.post("/api/login/access-token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]
