"""Summaries in the terminal: labels, short values, the territory table reduced to its count."""

from __future__ import annotations

from gridgov.cli_summary import summary_rows


def test_plan_figures_get_labels_and_short_values() -> None:
    summary = {
        "种子 seed": 2026,
        "包格 rules": {"one": 13, "several": 99},
        "包格 statuses": {"optimal": 29, "feasible": 83, "infeasible": 0},
        "包格 contiguous_share": 1.0,
        "包格 balance_unmet_wards": [],
        "包格 territories": {f"LM{i:04d}": {"ward": "410802001", "load": 1.0, "compactness": 0.7} for i in range(1167)},
        "包格 compactness_mean": None,
    }
    rows = dict(summary_rows(summary, details="out/summary.json"))
    assert rows["种子 seed"] == "2026"  # unknown keys pass through
    assert rows["包格 规则 rules"] == "一格一劳模 one 13 · 多格一劳模 several 99"
    assert rows["包格 求解状态 statuses"] == "最优 optimal 29 · 可行 feasible 83 · 无解 infeasible 0"
    assert rows["包格 片区连片 contiguous territories"] == "100.0%"
    assert rows["包格 未达均衡街道 wards off balance"] == "无 none"
    assert rows["包格 片区 territories"] == "1167（明细 details: out/summary.json）"
    assert rows["包格 平均紧凑度 mean compactness (Polsby-Popper)"] == "—"


def test_long_ward_lists_are_cut_with_their_count() -> None:
    codes = [f"4108{i:05d}" for i in range(25)]
    text = dict(summary_rows({"balance_unmet_wards": codes}))["未达均衡街道 wards off balance"]
    assert text.count("、") == 9 and "共 25" in text


def test_one_language_when_one_is_chosen() -> None:
    summary = {"包格 statuses": {"optimal": 2, "unknown": 1}, "包格 balance_unmet_wards": []}
    zh = dict(summary_rows(summary, lang="zh"))
    en = dict(summary_rows(summary, lang="en"))
    assert zh["包格 求解状态 statuses"] == "最优 2 · 时限内未得方案 1" and zh["包格 未达均衡街道 wards off balance"] == "无"
    assert en["包格 求解状态 statuses"] == "optimal 2 · unknown 1" and en["包格 未达均衡街道 wards off balance"] == "none"
