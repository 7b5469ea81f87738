"""The 包格台账 workbook: a plan's grids with their worker's contacts, for one ward or the city."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from gridgov.io.values import render_honours
from gridgov.io.writers import neutralise
from gridgov.plans.allocation import reason_in
from gridgov.schema import PLAN_STATUS_ZH
from gridgov.store import SqlStore

HEADERS = ["街道代码", "街道名称", "网格编码", "网格名称", "户数", "劳模编号", "劳模姓名", "联系电话",
           "工作单位", "行业", "荣誉", "说明"]


def workbook_title(store: SqlStore, plan_id: int, wards: list[str] | None) -> str:
    """The sheet's title, by ward name (a clerk knows 民生街道, not 410802001)."""
    if not wards:
        return f"全市方案 {plan_id} 包格台账"
    from gridgov.geo.shipped import COUNTY_NAMES

    stored = store.load("wards", columns=["code", "name"])
    names = dict(zip(stored["code"], stored["name"]))
    shared = set(stored["name"][stored["name"].duplicated(keep=False)])
    # Jiaozuo has two 太行街道: a shared name carries its county (山阳区太行街道), as imports take it.
    shown = [f"{COUNTY_NAMES.get(w[:6], '')}{names[w]}" if names.get(w) in shared else str(names.get(w, w)) for w in wards]
    return f"{'、'.join(shown)} 包格台账"


def _text(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    if isinstance(value, (int, float)):
        return value
    return neutralise(str(value))  # a name like "=HYPERLINK(...)" must stay text in Excel


def ledger_rows(store: SqlStore, plan_id: int, wards: list[str] | None) -> list[list[Any]]:
    """One row per grid of ``wards`` (all when None): grid, its worker and the worker's contacts."""
    grids = store.load("grids", where=None if wards is None else {"ward_code": wards})
    ward_names = dict(zip(*store.load("wards")[["code", "name"]].to_numpy().T))
    held = store.load("assignments", where={"plan_id": plan_id}).set_index("grid_code")
    grids, changed_since = _grids_of_plan(store, grids, held, wards)
    ids = sorted({w for w in held["worker_id"].dropna()}) if len(held) else []
    workers = store.load("workers", where={"worker_id": ids}).set_index("worker_id") if ids else None
    away = _away_notes(workers.reset_index()) if workers is not None else {}
    rows = []
    for g in grids.sort_values(["ward_code", "code"]).to_dict("records"):
        a = held.loc[g["code"]] if g["code"] in held.index else None
        wid = None if a is None or pd.isna(a["worker_id"]) else a["worker_id"]
        w = workers.loc[wid] if workers is not None and wid in workers.index else None
        rows.append([_text(x) for x in (
            g["ward_code"], ward_names.get(g["ward_code"]), g["code"], g.get("name"),
            None if pd.isna(g.get("households")) else int(g["households"]),
            wid, None if w is None else w["name"], None if w is None else w["phone"],
            None if w is None else w["employer"], None if w is None else w["sector"],
            None if w is None else render_honours(w["honours"]),
            changed_since.get(g["code"]) or (away.get(wid) if wid in away else (None if a is None else reason_in(a["reason"], "zh"))),
        )])
    return rows


def _grids_of_plan(store: SqlStore, grids: pd.DataFrame, held: pd.DataFrame,
                   wards: list[str] | None) -> tuple[pd.DataFrame, dict[str, str]]:
    """Today's grids plus those the plan holds that were removed since (as the ledger recorded
    them), and a note for each grid the plan and today's grids do not share: an older plan's
    workbook must still show what that plan assigned."""
    notes = {code: "方案之后新增的网格，本方案未安排" for code in grids["code"] if code not in held.index}
    gone = sorted(set(held.index) - set(grids["code"]))
    if not gone:
        return grids, notes
    from gridgov.plans.versions import removed_grids

    records = {r["code"]: {k: v for k, v in r.items() if k != "geometry"}
               for r in removed_grids(store, gone).to_dict("records")}
    removed = [records.get(code, {"code": code, "ward_code": None}) for code in gone]
    removed = [r for r in removed if wards is None or r.get("ward_code") in wards]
    notes.update({r["code"]: "此网格在方案之后已撤销" for r in removed})
    return pd.concat([grids.drop(columns="geometry", errors="ignore"), pd.DataFrame(removed)],
                     ignore_index=True), notes


def _away_notes(workers: pd.DataFrame) -> dict[str, str]:
    """Workers of the plan who are not available today, with why: a sheet on a wall must not send
    people to a retired worker's phone while the re-solve is waiting to be published."""
    from gridgov.plans.roster import unavailable_today

    return {w: "该劳模已退出，待重新安排" if kind == "retired" else
            f"该劳模暂不可用{'' if until is None else f'（至 {until}）'}，待重新安排"
            for w, (kind, until) in unavailable_today(workers).items()}


def save_ledger_xlsx(store: SqlStore, plan_id: int, wards: list[str] | None, path: str | Path, *,
                     title: str) -> int:
    """Write the workbook to ``path`` atomically (a temporary file, then a rename); returns its
    grid rows."""
    from gridgov.io.writers import atomic_path

    rows = ledger_rows(store, plan_id, wards)
    with atomic_path(Path(path)) as tmp:
        tmp.write_bytes(_workbook(rows, title, _provenance(store, plan_id)))
    return len(rows)


def ledger_xlsx(store: SqlStore, plan_id: int, wards: list[str] | None, *, title: str) -> bytes:
    """The workbook as bytes: bold frozen Chinese header, no cell a formula."""
    return _workbook(ledger_rows(store, plan_id, wards), title, _provenance(store, plan_id))


def _provenance(store: SqlStore, plan_id: int) -> str:
    """Which plan a printed sheet comes from and when it was exported (a sheet on a wall outlives
    the plan it shows)."""
    from gridgov.localtime import local
    from gridgov.plans.versions import get_plan
    from gridgov.store import now_utc

    status = str(get_plan(store, plan_id)["status"])
    return f"方案 {plan_id}（{PLAN_STATUS_ZH.get(status, status)}）· 导出于 {local(now_utc()).strftime('%Y-%m-%d %H:%M')}"


def _workbook(rows: list[list[Any]], title: str, provenance: str) -> bytes:
    from gridgov.io.writers import sheet_workbook

    wb = sheet_workbook(title, HEADERS, rows)
    ws = wb.active
    from openpyxl.styles import Alignment

    for col, width in zip("ABCDEFGHIJKL", (12, 12, 18, 22, 8, 10, 10, 14, 24, 8, 36, 24)):
        ws.column_dimensions[col].width = width
    # Long names, employers, honours and notes wrap in their cell instead of running under the next.
    wrap = Alignment(wrap_text=True, vertical="top")
    for column in ("D", "I", "K", "L"):
        for cell in ws[column][1:]:
            cell.alignment = wrap
    # Printed: A4 landscape (a driver's default may be Letter), one page wide, the header on
    # every page, the plan and date in the footer.
    ws.print_title_rows = "1:1"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.center.text = title
    ws.oddFooter.left.text = provenance
    ws.oddFooter.right.text = "第 &P 页 / 共 &N 页"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
