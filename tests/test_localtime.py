"""Stored UTC times read on the user's clock (Beijing time unless configured)."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
from openpyxl import load_workbook

from gridgov.io import write_layer
from gridgov.localtime import local


def test_utc_to_beijing_across_midnight():
    at = datetime(2026, 11, 24, 16, 30, tzinfo=timezone.utc)
    assert local(at, name="Asia/Shanghai").strftime("%Y-%m-%d %H:%M") == "2026-11-25 00:30"
    assert local(at.replace(tzinfo=None), name="Asia/Shanghai").hour == 0  # naive means UTC
    assert local(at, name="UTC").hour == 16


def test_ledger_spreadsheet_shows_local_time(tmp_path):
    ledger = pd.DataFrame({"entry_id": [1], "at": [datetime(2026, 11, 24, 15, 57, 47, tzinfo=timezone.utc)],
                           "actor": ["cli"], "action": ["worker.retire"], "subject": ["LM0001"],
                           "before": [{"status": "active"}], "after": [{"status": "retired"}]})
    path = tmp_path / "ledger.xlsx"
    write_layer(ledger, path, layer="ledger")
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[1][1] == datetime(2026, 11, 24, 23, 57, 47)
