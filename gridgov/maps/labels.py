"""Every text a map shows, in Chinese and English."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

_TEXT: dict[str, tuple[str, str]] = {
    "title_city": ("焦作市劳模包格覆盖图", "Jiaozuo: model workers' grid coverage"),
    "title_ward": ("{ward} 劳模包格覆盖图", "{ward}: model workers' grid coverage"),
    "title_diff": ("方案对比：{a} → {b}", "Plan diff: {a} → {b}"),
    "plan": ("方案 {plan}", "plan {plan}"),
    "no_plan": ("尚无发布的包格方案", "no published grid plan yet"),
    "draft": ("草稿", "draft"),
    "published": ("已发布", "published"),
    "superseded": ("已替换", "superseded"),
    "tiles": ("底图", "Base map"),
    "territories": ("劳模负责网格", "Workers' grids"),
    "territories_note": ("相邻片区颜色不同", "neighbouring territories differ in colour"),
    "uncovered": ("未覆盖网格", "Uncovered grids"),
    "unplanned": ("未纳入方案的网格", "Grids not in the plan"),
    "wards": ("街道/乡镇界", "Ward boundaries"),
    "counties": ("区县界", "County boundaries"),
    "homes": ("劳模住址", "Workers' homes"),
    "studios": ("调解工作室", "Mediation studios"),
    "catchment": ("工作室服务范围", "Studio catchments"),
    "heat": ("矛盾纠纷热力", "Disputes heat"),
    "heat_all": ("全部", "all"),
    "changed": ("换人网格", "Grids with a new worker"),
    "unchanged": ("未变网格", "Unchanged grids"),
    "grid": ("网格", "Grid"),
    "ward": ("街道", "Ward"),
    "worker": ("劳模", "Worker"),
    "households": ("户数", "Households"),
    "population": ("人口", "Population"),
    "reason": ("原因", "Reason"),
    "no_reason": ("未说明", "not given"),
    "honours": ("荣誉", "Honours"),
    "sector": ("行业", "Sector"),
    "grids": ("负责网格", "Grids"),
    "none": ("无", "none"),
    "staff": ("工作人员", "Staff"),
    "other_staff": ("另有 {n} 名其他街道的劳模", "{n} from other wards"),
    "types": ("受理类型", "Dispute types"),
    "before": ("原", "before"),
    "after": ("现", "after"),
    "uncovered_short": ("未覆盖", "uncovered"),
    "retired_note": ("已退出，待重新安排", "retired: to be re-placed"),
    "away_note": ("暂不可用，待重新安排", "away: to be re-placed"),
    "legend": ("图例", "Legend"),
    "changed_count": ("{n} 个网格换人", "{n} grids changed"),
}

# Dispute types are stored in Chinese; English maps show both.
DISPUTE_EN: dict[str, str] = {
    "婚姻家庭": "marriage & family", "邻里": "neighbours", "房屋宅基地": "housing & plots",
    "合同": "contracts", "生产经营": "business", "损害赔偿": "damages", "山林土地": "forest & land",
    "征地拆迁": "land acquisition", "环境污染": "pollution", "劳动争议": "labour",
    "消费": "consumer", "医疗": "medical", "道路交通事故": "traffic accidents", "物业": "property mgmt",
    "其它": "other",
}


def t(key: str, lang: Lang, **fmt: object) -> str:
    """The ``lang`` text of ``key``, formatted with ``fmt``."""
    zh, en = _TEXT[key]
    return (en if lang == "en" else zh).format(**fmt)


def dispute_label(kind: str, lang: Lang) -> str:
    return f"{kind} {DISPUTE_EN[kind]}" if lang == "en" and kind in DISPUTE_EN else kind
