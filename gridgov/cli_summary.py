"""How plan and demo summaries read in the terminal: bilingual labels, short values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gridgov.schema import PLAN_STATUS_ZH

_PLAN_PREFIX = "包格 "  # the demo prefixes the plan's own figures with it

# The plan summary's keys (``plans.run.plan_summary``) as a planner reads them.
LABELS: dict[str, str] = {
    # The first three count the whole plan; the rest, the wards this solve solved (all of them
    # unless --ward or --changed).
    "grids": "网格（全方案）grids (whole plan)",
    "covered": "已包格（全方案）covered (whole plan)",
    "uncovered": "未覆盖（全方案）uncovered (whole plan)",
    "wards_solved": "求解街道 wards solved",
    "workers_used": "上岗劳模（本次求解街道）workers in use (wards solved)",
    "rules": "规则 rules",
    "moves": "调整在岗劳模的网格 grids moved off workers still on duty",  # leavers' grids not counted
    "grids_changed": "较原方案换人的网格（全方案）grids whose worker changed (whole plan)",
    # A run of Chinese longer than the label column (18 characters) is cut, not wrapped: keep them short.
    "distance_km": "住址到网格距离（公里，所解街道）home-to-grid distance (km, wards solved)",
    "cost_km": "目标值（公里，所解街道，减就近优惠）objective (km, wards solved; home-ward bonus off)",
    "contiguous_share": "片区连片 contiguous territories",
    "compactness_mean": "平均紧凑度 mean compactness (Polsby-Popper)",
    "load_max_over_mean": "最大/平均工作量 max / mean load",
    "solve_s": "求解用时（秒）solve time (s)",
    "statuses": "求解状态 statuses",
    "balance_unmet_wards": "未达均衡街道 wards off balance",
    "territories": "片区 territories",
}
# Plan fields' values in Chinese: kinds, statuses, solver statuses, rules.
ZH_WORDS = {"grid": "包格", "studio": "工作室", **PLAN_STATUS_ZH, "optimal": "最优", "feasible": "可行",
            "infeasible": "无解", "unknown": "时限内未得方案", "one": "一格一劳模", "several": "多格一劳模", "city": "全市"}
_MAX_LISTED = 10  # ward codes shown before "… N in all"


def summary_rows(summary: Mapping[str, Any], *, details: str = "summary", lang: str = "both") -> list[tuple[str, str]]:
    """(label, value) rows: known keys get their bilingual label, mappings and lists a short form,
    and the per-territory table only its count, with where to read it (``details``)."""
    rows = []
    for key, value in summary.items():
        prefix, name = (_PLAN_PREFIX, key[len(_PLAN_PREFIX):]) if key.startswith(_PLAN_PREFIX) else ("", key)
        label = prefix + LABELS.get(name, name)
        if name == "territories" and isinstance(value, Mapping):
            text = {"zh": f"{len(value)}（明细：{details}）", "en": f"{len(value)} (details: {details})"}.get(
                lang, f"{len(value)}（明细 details: {details}）")
        elif name == "contiguous_share" and isinstance(value, (int, float)):
            text = f"{value:.1%}"
        else:
            text = short(value, lang=lang)
        rows.append((label, text))
    return rows


def short(value: Any, *, lang: str = "both") -> str:
    """One line for a value: ``a 1 · b 2`` for a mapping, ``x、y`` (at most ten) for a list."""
    none = {"zh": "无", "en": "none"}.get(lang, "无 none")
    if value is None:
        return "—"
    if isinstance(value, Mapping):
        return " · ".join(f"{_word(str(k), lang)} {short(v, lang=lang)}" for k, v in value.items()) or none
    if isinstance(value, (list, tuple)):
        if not value:
            return none
        head = "、".join(str(v) for v in value[:_MAX_LISTED])
        more = {"zh": f"（共 {len(value)} 个）", "en": f" ({len(value)} in all)"}.get(lang, f"（共 {len(value)} / {len(value)} in all）")
        return head if len(value) <= _MAX_LISTED else f"{head} …{more}"
    return str(value)


def _word(word: str, lang: str) -> str:
    if word not in ZH_WORDS or lang == "en":
        return word
    return ZH_WORDS[word] if lang == "zh" else f"{ZH_WORDS[word]} {word}"
