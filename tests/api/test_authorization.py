"""The authorization matrix: every route × every role × own ward / other ward, as one table."""

from __future__ import annotations

from api_city import W1, W2

# (method, path, roles allowed, scoped). Scoped paths name street1's ward (own) through {ward},
# {grid} and {worker}; the "other" column swaps in street2's ward. Everyone not allowed gets 403;
# a street office asking for another ward's thing gets 404, exactly like a thing that does not exist.
OWN = {"ward": W1, "grid": "G101", "worker": "A"}
OTHER = {"ward": W2, "grid": "G201", "worker": "C"}
ALL = ("admin", "planner", "street1")
PLANNERS = ("admin", "planner")
ROUTES = [
    ("GET", "/api/me", ALL, False),
    ("GET", "/api/users", ("admin",), False),
    ("GET", "/api/wards", ALL, False),
    ("GET", "/api/wards/geojson", ALL, False),
    ("GET", "/api/wards/{ward}", ALL, True),
    ("GET", "/api/wards/{ward}/assignments", ALL, True),
    ("GET", "/api/wards/{ward}/plan", ALL, True),
    ("GET", "/api/grids", ALL, False),
    ("GET", "/api/grids?ward={ward}", ALL, True),
    ("GET", "/api/grids/{grid}", ALL, True),
    ("GET", "/api/workers", ALL, False),
    ("GET", "/api/workers?ward={ward}", ALL, True),
    ("GET", "/api/workers/{worker}", ALL, True),
    ("GET", "/api/ledger", ALL, False),
    ("GET", "/api/maps/ward/{ward}", ALL, True),
    ("GET", "/api/maps/coverage", PLANNERS, False),
    ("GET", "/api/maps/diff?a=1&b=1", PLANNERS, False),
    ("GET", "/api/exports/wards/{ward}.xlsx", ALL, True),
    ("GET", "/api/exports/plan.xlsx", PLANNERS, False),
    ("GET", "/api/plans", PLANNERS, False),
    ("GET", "/api/plans/1", PLANNERS, False),
    ("GET", "/api/plans/1/assignments", PLANNERS, False),
    ("GET", "/api/plans/1/diff/1", PLANNERS, False),
    ("GET", "/api/jobs", PLANNERS, False),
    ("POST", "/api/plans/solve", PLANNERS, False),
    ("POST", "/api/plans/1/publish", PLANNERS, False),
    ("POST", "/api/workers", PLANNERS, False),
    ("PATCH", "/api/workers/{worker}", PLANNERS, False),
    ("POST", "/api/workers/{worker}/retire", PLANNERS, False),
    ("POST", "/api/workers/{worker}/unavailable", PLANNERS, False),
    ("POST", "/api/workers/{worker}/available", PLANNERS, False),
    ("POST", "/api/workers/{worker}/capacity", PLANNERS, False),
    ("POST", "/api/uploads/workers", PLANNERS, False),
    ("POST", "/api/users", ("admin",), False),
    ("PATCH", "/api/users/street1", ("admin",), False),
    ("POST", "/api/me/password", ALL, False),
]
READ_ONLY = [r for r in ROUTES if r[0] == "GET"]


def _call(client, method, path, headers):
    return client.request(method, path, headers=headers)


def test_no_token_or_a_bad_one_is_401(client):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        for method, path, _roles, _scoped in ROUTES:
            r = _call(client, method, path.format(**OWN), headers)
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["www-authenticate"] == "Bearer"


def test_matrix(client, auth):
    """Reads run for every role; writes only for the roles that must be refused (403)."""
    failures = []
    for method, path, roles, scoped in ROUTES:
        for user in ("admin", "planner", "street1"):
            for side, values in (("own", OWN), ("other", OTHER)):
                if not scoped and side == "other":
                    continue
                allowed = user in roles
                if method != "GET" and allowed:
                    continue  # writes by allowed roles are exercised by the workflow tests
                r = _call(client, method, path.format(**values), auth[user])
                if not allowed:
                    want = 403
                elif user == "street1" and side == "other":
                    want = 404
                else:
                    want = 200
                if r.status_code != want:
                    failures.append(f"{user} {method} {path} ({side}): {r.status_code}, want {want}: {r.text[:120]}")
    assert not failures, "\n".join(failures)


def test_other_ward_404_is_the_same_as_missing(client, auth):
    """A street office cannot tell another ward's code from a code that does not exist."""
    other = client.get(f"/api/wards/{W2}", headers=auth["street1"])
    missing = client.get("/api/wards/999999999", headers=auth["street1"])
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"]["message"].replace(W2, "X") == missing.json()["detail"]["message"].replace("999999999", "X")


def test_street_lists_hold_only_its_wards(client, auth):
    h = auth["street1"]
    assert [w["code"] for w in client.get("/api/wards", headers=h).json()] == [W1]
    features = client.get("/api/grids", headers=h).json()["features"]
    assert {f["properties"]["ward_code"] for f in features} == {W1} and len(features) == 3
    workers = client.get("/api/workers", headers=h).json()
    assert {w["worker_id"] for w in workers} == {"A", "B"}
    assert all(w["phone"] for w in workers)  # its own workers' contacts: yes
    for entry in client.get("/api/ledger", headers=h).json():
        assert entry["subject"] in {"A", "B"}
    assign = client.get(f"/api/wards/{W1}/assignments", headers=h).json()
    assert {a["ward_code"] for a in assign} == {W1}


def test_street_ledger_sees_own_worker_changes_only(client, auth):
    assert client.post("/api/workers/A/capacity", json={"capacity": 2.5}, headers=auth["planner"]).status_code == 200
    assert client.post("/api/workers/C/capacity", json={"capacity": 2.5}, headers=auth["planner"]).status_code == 200
    mine = client.get("/api/ledger", headers=auth["street1"]).json()
    assert [e["subject"] for e in mine] == ["A"]
    everything = client.get("/api/ledger", headers=auth["planner"]).json()
    assert {"A", "C"} <= {e["subject"] for e in everything}


def test_no_password_hash_anywhere(client, auth):
    for path in ("/api/users", "/api/me"):
        assert "password" not in client.get(path, headers=auth["admin"]).text
    assert "argon2" not in client.get("/api/ledger", headers=auth["admin"]).text


def test_street_ledger_hides_past_phones_and_homes(client, auth):
    """A worker's earlier record may be from before they were this office's (another ward's
    home, an old phone): the office sees that they changed, not the values; planners see all."""
    new = {"phone": "13912345678", "lon": 113.2021, "lat": 35.2032}
    assert client.patch("/api/workers/A", json=new, headers=auth["planner"]).status_code == 200
    mine = [e for e in client.get("/api/ledger", headers=auth["street1"]).json() if e["action"] == "worker.update"]
    assert mine and mine[0]["after"]["phone"] == "（已隐藏）" and mine[0]["before"]["phone"] == "（已隐藏）"
    assert mine[0]["after"]["geometry"] == "（已隐藏）"
    planner = [e for e in client.get("/api/ledger", headers=auth["planner"]).json() if e["action"] == "worker.update"]
    assert planner[0]["after"]["phone"] == "13912345678" and planner[0]["after"]["geometry"].startswith("POINT")
