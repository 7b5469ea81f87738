"""Every file of the bad-input corpus uploaded through the API: HTTP 422, problems listed, store unchanged."""

from __future__ import annotations

from corpus import BAD_CORPUS as BAD
from corpus import corpus_layer

from gridgov.store import open_store


def test_every_bad_upload_is_422_and_changes_nothing(client, auth, city, fingerprint):
    # One app per backend for the whole corpus: the app's set-up (logins hash passwords) dominates.
    assert len(BAD) >= 30
    failures = []
    for path in BAD:
        with open_store(city) as store:
            before = fingerprint(store)
        r = client.post(f"/api/uploads/{corpus_layer(path)}", files={"file": (path.name, path.read_bytes())},
                        headers=auth["planner"])
        body = r.json()
        problems = body.get("detail", {}).get("problems") if isinstance(body.get("detail"), dict) else None
        with open_store(city) as store:
            unchanged = fingerprint(store) == before
        if r.status_code != 422 or not problems or not unchanged:
            failures.append(f"{path.name}: HTTP {r.status_code}, problems={bool(problems)}, unchanged={unchanged}")
        elif not all(p["message"] and p["message_en"] for p in problems):
            failures.append(f"{path.name}: a problem lacks its Chinese or English text")
    assert not failures, "\n".join(failures)
