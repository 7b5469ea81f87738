"""Uploads (422 with every problem, store unchanged, same messages as the CLI), xlsx exports, maps, offline docs."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from api_city import W1, W2

from gridgov.errors import ValidationError
from gridgov.plans.imports import import_file
from gridgov.store import open_store

DATA = Path(__file__).resolve().parents[1] / "data"
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


@pytest.mark.parametrize("layer,name", [("workers", "workers_bad_phone.csv"), ("incidents", "incidents_unknown_type.csv"),
                                        ("grids", "junk.geojson")])
def test_bad_upload_is_422_with_the_cli_problems_and_changes_nothing(client, auth, city, fingerprint, layer, name):
    path = DATA / "bad" / name
    with open_store(city) as store:
        before = fingerprint(store)
        with pytest.raises(ValidationError) as cli:
            import_file(store, layer, path, actor="cli")
    r = client.post(f"/api/uploads/{layer}", files={"file": (name, path.read_bytes())}, headers=auth["planner"])
    assert r.status_code == 422, r.text
    problems = r.json()["detail"]["problems"]
    assert problems and [p["message"] for p in problems] == [p.message for p in cli.value.problems]
    assert all(p["message_en"] for p in problems)
    with open_store(city) as store:
        assert fingerprint(store) == before


def test_upload_name_cannot_escape_the_temporary_folder(client, auth, city, fingerprint):
    with open_store(city) as store:
        before = fingerprint(store)
    body = (DATA / "bad" / "junk.csv").read_bytes()
    r = client.post("/api/uploads/incidents", files={"file": ("../../../etc/passwd.csv", body)}, headers=auth["planner"])
    assert r.status_code == 422 and "passwd.csv" in r.text and "/etc" not in r.text
    with open_store(city) as store:
        assert fingerprint(store) == before


def test_good_upload_dry_run_then_real(client, auth, city, fingerprint):
    path = DATA / "good" / "incidents.csv"
    with open_store(city) as store:
        before = fingerprint(store)
    files = {"file": (path.name, path.read_bytes())}
    r = client.post("/api/uploads/incidents", files=files, data={"dry_run": "true"}, headers=auth["planner"])
    assert r.status_code == 200, r.text
    assert r.json()["dry_run"] and r.json()["inserted"] > 0
    with open_store(city) as store:
        assert fingerprint(store) == before
    r = client.post("/api/uploads/incidents", files=files, headers=auth["planner"])
    assert r.status_code == 200 and r.json()["inserted"] == r.json()["rows"]


def test_ward_xlsx_has_chinese_headers_and_only_that_ward(client, auth):
    from openpyxl import load_workbook

    r = client.get(f"/api/exports/wards/{W1}.xlsx", headers=auth["street1"])
    assert r.status_code == 200
    assert "filename*=UTF-8''" + quote("民生街道_包格台账.xlsx") in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:8] == ("街道代码", "街道名称", "网格编码", "网格名称", "户数", "劳模编号", "劳模姓名", "联系电话")
    assert {row[0] for row in rows[1:]} == {W1} and len(rows) == 4
    assert {row[6] for row in rows[1:]} <= {"张三", "李四"} and all(row[7] for row in rows[1:])
    assert rows[1][10] == "河南省劳动模范(省部,2015)"


def test_city_xlsx_neutralises_formulas(city, client, auth):
    from openpyxl import load_workbook

    h = auth["planner"]
    formula = "=HYPERLINK(\"http://x\",\"y\")"
    # Imports and roster changes refuse formulas; one can still reach the store from elsewhere
    # (an older gridgov, another tool), and the workbook must not run it.
    assert client.patch("/api/workers/A", json={"employer": formula}, headers=h).status_code == 422
    with open_store(city) as store:
        store.update("workers", {"worker_id": "A"}, {"employer": formula})
    r = client.get("/api/exports/plan.xlsx", headers=h)
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert {row[0] for row in rows[1:]} == {W1, W2, "410803001"}
    employers = [row[8] for row in rows[1:] if row[5] == "A"]
    assert employers and all(e.startswith("'=") for e in employers)
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_maps_are_html_without_cdn_links(client, auth):
    for path, user in ((f"/api/maps/ward/{W1}", "street1"), ("/api/maps/coverage", "planner"),
                       ("/api/maps/diff?a=1&b=1", "planner"), ("/api/maps/coverage?lang=en", "planner")):
        r = client.get(path, headers=auth[user])
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), (path, r.text[:200])
        assert "/static/maps/leaflet/leaflet.js" in r.text
        assert not EXTERNAL.search(r.text), EXTERNAL.search(r.text)
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', r.text):
            assert client.get(asset).status_code == 200, asset


def test_docs_work_offline(client):
    r = client.get("/docs")
    assert r.status_code == 200 and not EXTERNAL.search(r.text)
    for asset in re.findall(r"""['"](/static/swagger/[^'"]+)['"]""", r.text):
        assert client.get(asset).status_code == 200
    assert len(re.findall(r"/static/swagger/", r.text)) >= 2
    assert client.get("/openapi.json").json()["paths"]["/api/login/access-token"]
    assert client.get("/redoc").status_code == 404


def test_health_and_page(client):
    assert client.get("/api/health").json() == {"status": "ok"}
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert client.get("/api/workers").headers.get("cache-control") == "no-store"
