"""Exported workbooks never hold a formula: names and employers stored as formulas stay text.

The API refuses such values as an import does; they can still reach the store from elsewhere (an
older gridgov, another tool writing the database), so they are written there directly."""

from __future__ import annotations

import io
import zipfile

import pytest
from seckit import city
from openpyxl import load_workbook

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
# Worker A lives in street1's ward, C in street2's: both end up in the city workbook.
CHANGES = {
    "A": {"name": '=HYPERLINK("http://evil","x")', "employer": "=cmd|' /C calc'!A0", "sector": "@SUM(A1)",
          "honours": [{"title": "+1+1", "level": "-2+3"}]},
    "C": {"name": "-2+3", "employer": "\t=1+1", "phone": "=1+1", "sector": "\r=2"},
}


def _cells(data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                xml = z.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml, f"a formula element in {name}"
    wb = load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


@pytest.mark.parametrize("city_url", ["gpkg"], indirect=True)  # the workbook code is the same for both stores
def test_every_exported_cell_is_inert(sec_client, sec_auth, city_url):
    from gridgov.store import open_store

    for worker, body in CHANGES.items():
        r = sec_client.patch(f"/api/workers/{worker}", json=body, headers=sec_auth["planner"])
        assert r.status_code == 422, r.text
        with open_store(city_url) as store:
            store.update("workers", {"worker_id": worker}, body)
    exports = [(f"/api/exports/wards/{city.W1}.xlsx", "street1"), (f"/api/exports/wards/{city.W1}.xlsx", "planner"),
               (f"/api/exports/wards/{city.W2}.xlsx", "planner"), ("/api/exports/plan.xlsx", "planner")]
    seen = set()
    for path, user in exports:
        r = sec_client.get(path, headers=sec_auth[user])
        assert r.status_code == 200, (path, r.text)
        for cell in _cells(r.content):
            assert cell.data_type != "f", (path, cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                assert not cell.value.startswith(DANGEROUS), (path, cell.coordinate, cell.value)
                seen.add(cell.value)
    # The values are there, as text with a leading quote, not dropped.
    for text in ('=HYPERLINK("http://evil","x")', "=cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", "\t=1+1", "=1+1"):
        assert "'" + text in seen, text
    assert any("+1+1" in v for v in seen)  # the honour, rendered inside its cell's text
