"""Request bodies are bounded before they are read whole, uploads need a token before their body is
read, NUL is refused only where it is one, and every answer carries the security headers."""

from __future__ import annotations

from api_city import TestClient, token

from gridgov.api.main import create_app
from gridgov.settings import Settings


def _small_upload_client(url: str) -> TestClient:
    settings = Settings(db=url, api_run_jobs=False, api_secret="test-secret-of-at-least-32-bytes-long",
                        api_max_upload_mb=0.01)  # 10 KiB
    return TestClient(create_app(settings))


def test_an_upload_over_the_limit_is_413_declared_or_streamed(city):
    with _small_upload_client(city) as client:
        h = {"Authorization": f"Bearer {token(client, 'planner')}"}
        big = b"a" * 20_000
        r = client.post("/api/uploads/workers", files={"file": ("w.csv", big, "text/csv")}, headers=h)
        assert r.status_code == 413 and "10 KiB" not in r.text and "limit" in r.json()["detail"]["message_en"]

        def chunks():  # no Content-Length: counted as it arrives
            boundary = b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"w.csv\"\r\n\r\n"
            yield boundary
            for _ in range(40):
                yield b"a" * 1000
            yield b"\r\n--x--\r\n"

        r = client.post("/api/uploads/workers", content=chunks(),
                        headers={**h, "Content-Type": "multipart/form-data; boundary=x"})
        assert r.status_code == 413, r.text
        small = "编号,姓名\nW1,张三\n".encode()
        r = client.post("/api/uploads/workers", files={"file": ("w.csv", small, "text/csv")}, headers=h,
                        data={"dry_run": "true"})
        assert r.status_code != 413


def test_an_upload_without_a_token_is_401_before_its_body_is_read(city):
    with _small_upload_client(city) as client:
        read = []

        def body():
            read.append(1)
            yield b"--x\r\n"

        r = client.post("/api/uploads/workers", content=body(), headers={"Content-Type": "multipart/form-data; boundary=x"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert read == []  # not a byte was asked for


def test_a_json_body_over_a_megabyte_is_413(client, auth):
    r = client.patch("/api/workers/B", content=b'{"employer": "' + b"a" * (1 << 20) + b'"}',
                     headers={**auth["planner"], "Content-Type": "application/json"})
    assert r.status_code == 413
    r = client.post("/api/login/access-token", content=b"username=" + b"a" * (2 << 20),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


def test_nul_is_refused_only_where_it_is_one(client, auth):
    h = {**auth["planner"], "Content-Type": "application/json"}
    for text in ("焦作100%00公司", "焦作\\u0000公司"):  # look like NUL, are not
        r = client.patch("/api/workers/B", json={"employer": text}, headers=auth["planner"])
        assert r.status_code == 200, (text, r.text)
    r = client.patch("/api/workers/B", content='{"employer": "焦作\\u0000公司"}'.encode(), headers=h)
    assert r.status_code == 422 and "NUL" in r.json()["detail"]["message_en"]
    r = client.post("/api/login/access-token", content=b"username=a%00b&password=x",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422


def test_security_headers_and_only_the_docs_files_are_served(client):
    for path in ("/", "/docs", "/api/health"):
        r = client.get(path)
        assert r.headers["x-frame-options"] == "SAMEORIGIN" and r.headers["referrer-policy"] == "no-referrer", path
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'self'" in r.headers["content-security-policy"]
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    # swagger-ui-py's demo initializer fetches the petstore from the internet; the page folder is a package
    for path in ("/static/swagger/index.html", "/static/swagger/swagger-initializer.js", "/__init__.py"):
        assert client.get(path).status_code == 404, path
    assert client.get("/app.js").status_code == 200


def test_a_formula_behind_a_tab_newline_or_quote_is_still_a_formula(client, auth):
    for text in ('\t=HYPERLINK("http://evil.example","x")', "'=cmd|' /C calc'!A0", "\n=1+1"):
        r = client.patch("/api/workers/B", json={"employer": text}, headers=auth["planner"])
        assert r.status_code == 422 and "formula" in r.text, (text, r.text)
    csv = 'worker_id,name,employer\nB,李四,"\t=HYPERLINK(""http://evil.example"",""x"")"\n'.encode()
    r = client.post("/api/uploads/workers", files={"file": ("w.csv", csv, "text/csv")},
                    data={"dry_run": "true"}, headers=auth["planner"])
    assert r.status_code == 422 and "formula" in r.text
    assert client.patch("/api/workers/B", json={"employer": "+86 中心"}, headers=auth["planner"]).status_code == 200


def test_an_empty_ward_list_is_not_a_city_solve(client, auth):
    r = client.post("/api/plans/solve", json={"wards": []}, headers=auth["planner"])
    assert r.status_code == 422 and client.get("/api/jobs", headers=auth["planner"]).json() == []


def test_an_unknown_ward_or_job_is_404_for_planners_too(client, auth):
    for path in ("/api/workers?ward=999999999", "/api/grids?ward=999999999", "/api/plans/1/assignments?ward=999999999"):
        r = client.get(path, headers=auth["planner"])
        assert r.status_code == 404, (path, r.status_code)
    r = client.get("/api/jobs/99999", headers=auth["planner"])
    assert r.status_code == 404 and r.json()["detail"]["message_en"] == "no job with id 99999"
