"""A worker living in one ward may serve another: each street office sees only its own grid codes."""

from __future__ import annotations

from api_city import W1, W2

from gridgov.plans.versions import plan_assignment, publish_plan, published_plan, save_plan
from gridgov.store import open_store


def _move_a_grid_of_w2_to_a_w1_resident(url: str) -> None:
    with open_store(url) as store:
        current = plan_assignment(store, int(published_plan(store)["plan_id"]))
        moved = {**current, "G201": "A"}  # A lives in W1 (民生街道); G201 lies in W2 (民主街道)
        plan = save_plan(store, kind="grid", rule="several", params={}, scope=None, assignment=moved,
                         reasons={}, solver_status="feasible", objective=None, bound=None, summary={},
                         actor="test")
        publish_plan(store, plan, actor="test")


def test_street_offices_see_only_their_own_grid_codes(client, auth, city):
    _move_a_grid_of_w2_to_a_w1_resident(city)
    w1 = {w["worker_id"]: w["grids"] for w in client.get("/api/workers", headers=auth["street1"]).json()}
    w2 = {w["worker_id"]: w["grids"] for w in client.get("/api/workers", headers=auth["street2"]).json()}
    assert "G201" not in w1["A"] and all(g.startswith("G1") for g in w1["A"])
    assert w2["A"] == ["G201"]  # W2 sees A because A holds one of its grids, and only that grid
    one = client.get("/api/workers/A", headers=auth["street1"]).json()
    assert "G201" not in one["grids"]
    planner = client.get("/api/workers/A", headers=auth["planner"]).json()
    assert "G201" in planner["grids"]
