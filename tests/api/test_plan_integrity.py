"""Plans as the service hands them out: uncovered grids, ids out of range, studio plans where a
grid plan is meant, and publishing a plan solved from an older one."""

from __future__ import annotations

from api_city import W1

from gridgov.plans.versions import plan_assignment, published_plan, save_plan
from gridgov.store import open_store

HUGE = "99999999999999999999"  # beyond a 64-bit integer: the database driver would overflow


def _store_plan(url: str, *, kind: str = "grid", uncover: str | None = None) -> int:
    with open_store(url) as store:
        current = plan_assignment(store, int(published_plan(store)["plan_id"]))
        if uncover:
            current[uncover] = None
        return save_plan(store, kind=kind, rule="one", params={}, scope=None, assignment=current,
                         reasons={uncover: "测试 / test"} if uncover else {}, solver_status="optimal",
                         objective=0.0, bound=0.0, summary={}, actor="test")


def test_grids_with_an_uncovered_grid_list_it_with_no_worker(city, client, auth):
    plan = _store_plan(city, uncover="G101")
    assert client.post(f"/api/plans/{plan}/publish", headers=auth["planner"]).status_code == 200
    for user, path in (("street1", "/api/grids"), ("planner", "/api/grids"), ("planner", f"/api/grids?ward={W1}")):
        r = client.get(path, headers=auth[user])
        assert r.status_code == 200, (user, path, r.text)
        props = {f["properties"]["code"]: f["properties"] for f in r.json()["features"]}
        assert props["G101"]["worker_id"] is None and props["G101"]["worker_name"] is None
        assert props["G102"]["worker_id"] and props["G102"]["worker_name"]


def test_ids_beyond_64_bits_are_422_not_500(client, auth):
    h = auth["planner"]
    for path in (f"/api/plans/{HUGE}", f"/api/plans/{HUGE}/assignments", f"/api/plans/1/diff/{HUGE}",
                 f"/api/jobs/{HUGE}", f"/api/maps/diff?a=1&b={HUGE}", f"/api/maps/coverage?plan_id={HUGE}",
                 f"/api/exports/plan.xlsx?plan_id={HUGE}"):
        r = client.get(path, headers=h)
        assert r.status_code == 422, (path, r.status_code, r.text[:200])
        assert r.json()["detail"]["message_en"] == "the request is invalid"
    assert client.post(f"/api/plans/{HUGE}/publish", headers=h).status_code == 422


def test_a_studio_plan_is_refused_where_a_grid_plan_is_meant(city, client, auth):
    studio = _store_plan(city, kind="studio")
    h = auth["planner"]
    for path in (f"/api/plans/{studio}/assignments", f"/api/plans/1/diff/{studio}",
                 f"/api/maps/diff?a=1&b={studio}", f"/api/maps/coverage?plan_id={studio}",
                 f"/api/exports/plan.xlsx?plan_id={studio}"):
        r = client.get(path, headers=h)
        assert r.status_code == 404, (path, r.status_code)
        assert r.json()["detail"]["message_en"] == f"plan {studio} is not a grid plan (it is a studio plan)"


def test_publishing_a_plan_solved_from_an_older_one_needs_force(city, client, auth):
    h = auth["planner"]
    first = client.get("/api/plans", headers=h).json()[0]["plan_id"]
    with open_store(city) as store:
        drafts = [save_plan(store, kind="grid", rule="one", params={}, scope=None,
                            assignment=plan_assignment(store, first), reasons={}, solver_status="optimal",
                            objective=0.0, bound=0.0, summary={}, actor="test", based_on=first)
                  for _ in range(2)]
    assert client.post(f"/api/plans/{drafts[1]}/publish", headers=h).status_code == 200
    r = client.post(f"/api/plans/{drafts[0]}/publish", headers=h)  # also solved from the first plan
    assert r.status_code == 409
    assert r.json()["detail"]["message_en"].startswith(
        f"plan {drafts[0]} was solved from plan {first}, but plan {drafts[1]} is published now")
    assert client.get(f"/api/plans/{drafts[1]}", headers=h).json()["status"] == "published"
    r = client.post(f"/api/plans/{drafts[0]}/publish?force=true", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "published" and r.json()["based_on"] == first


def test_a_solve_of_an_unknown_ward_is_refused_before_it_is_queued(client, auth):
    h = auth["planner"]
    before = client.get("/api/jobs", headers=h).json()
    r = client.post("/api/plans/solve", json={"wards": ["999999999"]}, headers=h)
    assert r.status_code == 404 and r.json()["detail"]["message_en"] == "unknown ward codes: 999999999"
    assert client.get("/api/jobs", headers=h).json() == before


def test_invalid_requests_read_in_chinese(client, auth):
    h = auth["planner"]
    r = client.post("/api/plans/solve", json={"rule": "many"}, headers=h)
    (problem,) = r.json()["detail"]["problems"]
    assert r.status_code == 422 and problem["message"] == "规则：须为以下之一：one、several、auto"
    assert "Input should be" in problem["message_en"]
    r = client.post("/api/plans/solve", content=b"{not json", headers={**h, "Content-Type": "application/json"})
    (problem,) = r.json()["detail"]["problems"]
    assert problem["field"] is None and problem["message"] == "请求体无效：不是有效的 JSON"
    # Fields by the names the page's forms give them (a clerk read "请求体 start 无效"), numbers as typed.
    r = client.post("/api/workers/A/unavailable", json={}, headers=h)
    assert [p["message"] for p in r.json()["detail"]["problems"]] == ["开始日期：缺少此项"]
    r = client.post("/api/workers/A/capacity", json={"capacity": 0}, headers=h)
    assert [p["message"] for p in r.json()["detail"]["problems"]] == ["承担能力：须大于 0"]
    r = client.post("/api/plans/solve", json={"ward_rules": {"410802001": "many"}, "balance": -1}, headers=h)
    assert sorted(p["message"] for p in r.json()["detail"]["problems"]) == [
        "各街道规则 410802001：须为以下之一：one、several、auto", "工作量均衡容差：须不小于 0"]
    r = client.patch("/api/workers/A", json={"honours": [{"title": 5}]}, headers=h)
    assert [p["message"] for p in r.json()["detail"]["problems"]][0].startswith("荣誉第 1 项的称号：")


def test_large_answers_are_compressed_small_ones_not(client, auth):
    h = {**auth["planner"], "Accept-Encoding": "gzip"}
    big = client.get("/api/maps/coverage", headers=h)
    assert big.status_code == 200 and big.headers["content-encoding"] == "gzip" and "leaflet" in big.text
    small = client.get("/api/me", headers=h)
    assert small.status_code == 200 and "content-encoding" not in small.headers


def test_available_on_a_retired_worker_asks_to_reinstate(client, auth):
    h = auth["planner"]
    assert client.post("/api/workers/B/retire", headers=h).status_code == 200
    r = client.post("/api/workers/B/available", headers=h)
    detail = r.json()["detail"]
    # The page asks with its own dialog: no command-line option in what a clerk reads.
    assert r.status_code == 409 and "请确认" in detail["message"] and "--reinstate" not in detail["message"] + detail["message_en"]
    r = client.post("/api/workers/B/available?reinstate=true", headers=h)
    assert r.status_code == 200 and r.json()["changed"] == {"status": True}
