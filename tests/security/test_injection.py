"""SQL injection and path traversal in every string parameter of every operation in the OpenAPI spec.

The table of operations and their string parameters (path, query, JSON body, form and multipart
fields, upload file names) is read from the spec, so a new route is covered without editing this
file. Each payload is sent as a planner and as a street office: no 5xx, no other ward's rows for
the street office, read routes leave the store unchanged, and uploads never write outside their
own temporary directory.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest
from seckit import SPEC, city

from gridgov.store import open_store

W1 = city.W1
DATA = Path(__file__).resolve().parents[1] / "data"
PAYLOADS = [
    "' OR '1'='1", "1; DROP TABLE workers; --", "\") OR 1=1 --", "x' UNION SELECT password_hash FROM users --",
    "../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%00", "\x00", "A" * 5000,
    "劳模\u202e𝕏😀\ufeff", "<script>alert(1)</script>",
]
TRAVERSAL = ("../../etc/passwd", "..%2f..%2fetc%2fpasswd")
# Another ward's people and places: none may reach street1 (its ward is W1: workers A, B).
OTHER_WARDS = ["王五", "赵六", "孙七", "周八", "13900000003", "13900000004", "13900000005", "13900000006",
               city.W2, city.W3, "G201", "G202", "G301", "G302"]
# A valid value for each path parameter (street1's own things), so only the payload is odd.
PATH_DEFAULTS = {"code": W1, "worker_id": "A", "username": "street1", "layer": "incidents",
                 "plan_id": "1", "a": "1", "b": "1", "job_id": "1"}
QUERY_DEFAULTS = {"/api/maps/diff": {"a": 1, "b": 1}}
# A valid body per request model; a payload then replaces one string field at a time.
BODIES = {
    "WorkerCreate": {"worker_id": "Z1", "name": "测试", "home_ward": W1, "lon": 113.205, "lat": 35.205},
    "WorkerUpdate": {"name": "测试"},
    "UserCreate": {"username": "u1", "password": "long-password-1", "role": "street", "wards": [W1]},
    "UserUpdate": {"display_name": "x"},
    "SolveIn": {"wards": [W1]},
    "UnavailableIn": {"start": "2030-01-01"},
    "CapacityIn": {"capacity": 1.0},
    "PasswordChange": {"current_password": "not-the-password", "new_password": "a-new-password-1"},
}


def _resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _is_string(schema) -> bool:
    options = schema.get("anyOf", [schema])
    return any(o.get("type") == "string" and o.get("format") != "binary" for o in options)


def _is_string_list(schema) -> bool:
    options = schema.get("anyOf", [schema])
    return any(o.get("type") == "array" and o.get("items", {}).get("type") == "string" for o in options)


def operations():
    """(method, path, where, name, body model) for every string parameter of every operation."""
    spec = SPEC
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                if _is_string(p["schema"]):
                    out.append((method.upper(), path, p["in"], p["name"], None))
            content = op.get("requestBody", {}).get("content", {})
            for media, body in content.items():
                ref = body["schema"].get("$ref", "")
                schema = _resolve(spec, body["schema"])
                where = {"application/json": "json", "multipart/form-data": "multipart",
                         "application/x-www-form-urlencoded": "form"}[media]
                for name, prop in schema.get("properties", {}).items():
                    if _is_string(prop) or _is_string_list(prop):
                        out.append((method.upper(), path, where, name, ref.rsplit("/", 1)[-1]))
                if where == "multipart":
                    out.append((method.upper(), path, "filename", "file", None))
    return out


OPERATIONS = operations()


def _request(client, method, path, where, name, model, payload, headers, *, raw_path=False):
    values = {k: quote(v, safe="") for k, v in PATH_DEFAULTS.items()}
    if where == "path":
        values[name] = payload if raw_path else quote(payload, safe="")
    url = path.format(**values)
    params = dict(QUERY_DEFAULTS.get(path, {}))
    kwargs = {}
    if where == "query":
        params[name] = payload
    if where == "json":
        body = dict(BODIES[model])
        body[name] = [payload] if name == "wards" else payload
        kwargs["json"] = body
    elif model in BODIES:
        kwargs["json"] = BODIES[model]
    if where == "form":
        form = {"username": "street1", "password": "wrong-password"}
        form[name] = payload
        kwargs["data"] = form
    if path.startswith("/api/uploads/"):
        filename = payload if where == "filename" else "incidents.csv"
        data = {"dry_run": "true"}
        if where == "multipart":
            data[name] = payload
        kwargs["files"] = {"file": (filename, (DATA / "good" / "incidents.csv").read_bytes())}
        kwargs["data"] = data
    return client.request(method, url, params=params, headers=headers, **kwargs)


def _sweep(client, auth, ops):
    failures = []
    for method, path, where, name, model in ops:
        for payload in PAYLOADS:
            variants = [False, True] if where == "path" and payload in TRAVERSAL else [False]
            for raw in variants:
                for role in ("planner", "street1"):
                    r = _request(client, method, path, where, name, model, payload, auth[role], raw_path=raw)
                    label = f"{role} {method} {path} {where}:{name}={payload[:30]!r}{' raw' if raw else ''}"
                    if r.status_code >= 500:
                        failures.append(f"{label}: {r.status_code} {r.text[:200]}")
                    if "root:x:0:0" in r.text:
                        failures.append(f"{label}: served /etc/passwd")
                    if role == "street1":
                        leaked = [m for m in OTHER_WARDS if m in r.text]
                        if leaked:
                            failures.append(f"{label}: another ward's data {leaked}")
    return failures


def test_the_table_covers_every_kind_of_string_parameter():
    kinds = {where for _m, _p, where, _n, _b in OPERATIONS}
    assert kinds == {"path", "query", "json", "form", "multipart", "filename"}
    assert len(OPERATIONS) > 40


def test_leak_markers_are_real(sec_client, sec_auth):
    text = sec_client.get("/api/workers", headers=sec_auth["planner"]).text
    assert all(m in text for m in ("王五", "13900000006"))


def test_read_routes_take_every_payload_and_change_nothing(sec_client, sec_auth, city_url, fingerprint):
    with open_store(city_url) as store:
        before = fingerprint(store)
    failures = _sweep(sec_client, sec_auth, [op for op in OPERATIONS if op[0] == "GET"])
    with open_store(city_url) as store:
        assert fingerprint(store) == before
    assert not failures, "\n".join(failures)


# PostGIS only: the same binding code serves both stores (read routes and schemathesis cover the
# GeoPackage), and the write sweep is the slow half of this file.
@pytest.mark.parametrize("city_url", ["postgis"], indirect=True)
def test_write_routes_take_every_payload_as_plain_data(sec_client, sec_auth, city_url, monkeypatch, tmp_path):
    # Uploads land in their own temporary directory under tmp_path/tmp: nothing may appear beside it.
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    failures = _sweep(sec_client, sec_auth, [op for op in OPERATIONS if op[0] != "GET"])
    assert not failures, "\n".join(failures)
    assert [p.name for p in tmp_path.rglob("*")] == ["tmp"], "an upload wrote outside its temporary directory"
    with open_store(city_url) as store:
        workers = store.load("workers")
    # Every payload went in as a literal: the table is whole and an injected name reads back as sent.
    assert {"A", "B", "C", "D", "E", "F"} <= set(workers["worker_id"])
    r = sec_client.post("/api/workers", json={**BODIES["WorkerCreate"], "worker_id": "x'; DROP TABLE workers; --",
                                              "name": "' OR '1'='1"}, headers=sec_auth["planner"])
    assert r.status_code == 201, r.text
    one = sec_client.get(f"/api/workers/{quote(r.json()['worker_id'], safe='')}", headers=sec_auth["planner"])
    assert one.status_code == 200 and one.json()["name"] == "' OR '1'='1"


@pytest.mark.parametrize("filename", ["../../evil.csv", "..\\..\\evil.csv", "/tmp/evil.csv", "..%2f..%2fevil.csv",
                                      "evil" + "x" * 400 + ".csv", "\u202eevil.csv"])
def test_upload_file_names_stay_in_the_temporary_directory(sec_client, sec_auth, monkeypatch, tmp_path, filename):
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    body = (DATA / "good" / "incidents.csv").read_bytes()
    r = sec_client.post("/api/uploads/incidents", files={"file": (filename, body)}, data={"dry_run": "true"},
                        headers=sec_auth["planner"])
    assert r.status_code < 500, r.text
    assert [p.name for p in tmp_path.rglob("*")] == ["tmp"]
    assert not Path("/tmp/evil.csv").exists()
