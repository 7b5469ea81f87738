"""The work ledger (工作台账): one entry per roster change and per publish, before → after."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from gridgov.schema import ROLE_ZH
from gridgov.store import SqlStore, now_utc

# Actions written to the ledger; the Chinese labels are what exports and the page show.
ACTIONS: dict[str, str] = {
    "worker.add": "新增劳模",
    "worker.update": "修改劳模信息",
    "worker.retire": "劳模退出",
    "worker.unavailable": "劳模暂不可用",
    "worker.available": "劳模恢复可用",
    "worker.capacity": "调整承担能力",
    "worker.reinstate": "劳模重新启用",
    "worker.remove": "删除误录劳模",
    "worker.restore": "恢复误删劳模",
    "import": "导入数据",
    "grid.add": "新增网格",
    "grid.update": "修改网格",
    "grid.remove": "撤销网格",
    "ward.add": "新增街道",
    "ward.update": "修改街道",
    "plan.publish": "发布方案",
    "plan.confirm": "复核方案（名册变动后无需调整）",
    "user.add": "新增账号",
    "user.update": "修改账号",
}


# Layers whose rows each get an entry, by the prefix of its action (worker.update, grid.add …).
ROW_ACTION_PREFIX = {"workers": "worker", "grids": "grid", "wards": "ward"}

# Fields a street office does not read in a worker's history: past phone numbers and homes
# (perhaps in another ward, before the worker was theirs). It sees that they changed; the
# roster shows the current ones.
PAST_CONTACTS = ("phone", "geometry")
HIDDEN = "（已隐藏）"


def without_past_contacts(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``values`` (an entry's before or after) with the PAST_CONTACTS fields' values hidden."""
    if values is None:
        return None
    return {k: (HIDDEN if k in PAST_CONTACTS and v is not None else v) for k, v in values.items()}


def deleted_worker_ids(store: SqlStore, ids: list[str]) -> set[str]:
    """Those of ``ids`` deleted as entered by mistake (worker.remove) and not restored since."""
    if not ids:
        return set()
    rows = store.rows("ledger", where={"action": ["worker.remove", "worker.restore"], "subject": sorted(set(ids))},
                      order_by="entry_id")
    last = {str(r["subject"]): r["action"] for r in rows}
    return {subject for subject, action in last.items() if action == "worker.remove"}


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of a record value (dates as ISO text, geometry as WKT)."""
    if value is None or value is pd.NaT:
        return None
    if hasattr(value, "wkt"):
        return value.wkt
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()  # a numpy number from a frame row: JSON's own number, not its text
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and pd.isna(value):
        return None
    return value


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{field: (old, new)} for the fields whose value differs; every field when ``before`` is None."""
    before = before or {}
    out: dict[str, tuple[Any, Any]] = {}
    for key, new in after.items():
        old = _plain(before.get(key))
        new = _plain(new)
        if old != new:
            out[key] = (old, new)
    return out


def record(
    store: SqlStore,
    *,
    actor: str,
    action: str,
    subject: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> int:
    """Append one ledger entry (inside the caller's transaction, when there is one)."""
    return store.insert(
        "ledger",
        {
            "at": now_utc(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "before": None if before is None else {k: _plain(v) for k, v in before.items()},
            "after": None if after is None else {k: _plain(v) for k, v in after.items()},
        },
    )


# Fields of plan and import entries, and the home point, as the ledger export names them.
_OTHER_FIELDS = {"published": "发布的方案", "grids_changed": "换人网格数",
                 "file": "文件", "rows": "行数", "inserted": "新增", "updated": "更新", "unchanged": "未变",
                 "role": "角色", "wards": "负责街道", "display_name": "显示名称", "disabled": "停用", "password": "密码"}
# Bookkeeping no clerk acts on (which ledger entry each ward's roster was read up to): not shown.
_HIDDEN_FIELDS = frozenset({"ledger_seen"})
_ACCOUNT_VALUES = {
    "role": lambda v: ROLE_ZH.get(str(v), str(v)),
    "wards": lambda v: "、".join(map(str, v)) if isinstance(v, list) and v else "全市",
    "disabled": lambda v: "是" if v else "否",
    "password": lambda v: "已修改",
}
# Who made a change, when it was not a person's account.
_ACTORS = {"cli": "命令行", "demo": "示例数据"}


def readable(entries: pd.DataFrame) -> pd.DataFrame:
    """The ledger as a clerk reads it: 劳模退出 for worker.retire, 状态：在岗 → 退出 for the JSON."""
    from gridgov.io.values import render_honours
    from gridgov.schema import LAYERS, WORKER_STATUS_ZH

    def label(field: str, layer: str) -> str:
        if field == "geometry":
            return "住址坐标" if layer == "workers" else "边界"
        spec = LAYERS[layer]
        return spec.column(field).label if field in spec.column_names else _OTHER_FIELDS.get(field, field)

    def shown(field: str, value: Any) -> str:
        if value is None:
            return "（空）"
        if field == "geometry" or str(value).startswith(("POINT", "MULTIPOLYGON", "POLYGON")):
            # A home reads as its coordinates (a roster can be rebuilt from them); a boundary is
            # too long for a cell.
            point = re.fullmatch(r"POINT \(([-\d.eE+]+) ([-\d.eE+]+)\)", str(value).strip())
            return f"{point[1]}, {point[2]}" if point else "（坐标）" if str(value).startswith("POINT") else "（边界）"
        if field == "status":
            return WORKER_STATUS_ZH.get(str(value), str(value))
        if field == "honours" and isinstance(value, list):
            return render_honours(value)
        if field in _ACCOUNT_VALUES:  # an account's role, wards, state and password, in words
            return _ACCOUNT_VALUES[field](value)
        return str(value) if not isinstance(value, (dict, list)) else json.dumps(value, ensure_ascii=False)

    def text(values: Any, action: str) -> str:
        if not isinstance(values, Mapping):
            return "" if values is None else str(values)
        layer = next((name for name, prefix in ROW_ACTION_PREFIX.items() if action.startswith(prefix + ".")), "workers")
        return "；".join(f"{label(k, layer)}：{shown(k, v)}" for k, v in values.items() if k not in _HIDDEN_FIELDS)

    out = entries.copy()
    out["before"] = [text(v, a) for v, a in zip(out["before"], out["action"])]
    out["after"] = [text(v, a) for v, a in zip(out["after"], out["action"])]
    out["action"] = [ACTIONS.get(a, a) for a in out["action"]]
    out["actor"] = [_ACTORS.get(a, a) for a in out["actor"]]
    out["subject"] = [f"方案 {s[5:]}" if isinstance(s, str) and s.startswith("plan ") else s for s in out["subject"]]
    return out
