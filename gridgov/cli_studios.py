"""`gridgov studios`: dispute hotspots and mediation studio placement (劳模调解工作室) from the command line."""

from __future__ import annotations

import calendar
import re
from datetime import date
from enum import Enum
from typing import Annotated, Optional

import typer
from rich.table import Table

from gridgov.cli_common import DbOption, _open, _say, label, out, pick, words
from gridgov.errors import UserError

studios_app = typer.Typer(help="调解工作室：纠纷热点、选址、配人 / mediation studios: hotspots, placement, staffing",
                          no_args_is_help=True)

TypesOption = Annotated[
    Optional[list[str]],
    typer.Option("--types", help="纠纷类型，可重复或用逗号分隔，如 劳动争议,邻里（默认全部）/ dispute types"),
]
FromOption = Annotated[Optional[str], typer.Option("--from", help="起始 YYYY-MM 或 YYYY-MM-DD / window start")]
ToOption = Annotated[Optional[str], typer.Option("--to", help="截止 YYYY-MM 或 YYYY-MM-DD（含）/ window end, inclusive")]

_UNITS_M = {"km": 1000.0, "公里": 1000.0, "千米": 1000.0, "m": 1.0, "米": 1.0, "": 1000.0}


def parse_distance_m(text: str) -> float:
    """"2km" → 2000, "1500m" → 1500, "2.5" (kilometres by default) → 2500."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(km|m|公里|千米|米)?\s*", text.lower())
    if not match or float(match.group(1)) <= 0:
        raise UserError(f"距离格式应为 2km、1500m 或 2.5（公里）：{text}", f"a distance is 2km, 1500m or 2.5 (km): {text}")
    return float(match.group(1)) * _UNITS_M[match.group(2) or ""]


def parse_types(values: list[str] | None) -> tuple[str, ...] | None:
    """Repeated options and comma lists (, ， 、) alike; None when none were given."""
    if not values:
        return None
    parts = [p.strip() for v in values for p in re.split(r"[,，、]", v)]
    return tuple(dict.fromkeys(p for p in parts if p)) or None


def parse_day(text: str | None, *, end: bool = False) -> date | None:
    """YYYY-MM-DD, or YYYY-MM meaning its first day (start) or last day (``end``)."""
    if text is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}", text):
            year, month = (int(x) for x in text.split("-"))
            return date(year, month, calendar.monthrange(year, month)[1] if end else 1)
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"日期格式应为 YYYY-MM 或 YYYY-MM-DD：{text}", f"dates are YYYY-MM or YYYY-MM-DD: {text}") from None


def _window(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    first, last = parse_day(start), parse_day(end, end=True)
    if first and last and last < first:
        raise UserError(f"截止日期 {last} 早于起始日期 {first}", f"the window ends ({last}) before it starts ({first})")
    return first, last


_LEVEL = {99: ("热点 99%", "hot 99%"), 95: ("热点 95%", "hot 95%"), 90: ("热点 90%", "hot 90%"),
          -99: ("冷点 99%", "cold 99%"), -95: ("冷点 95%", "cold 95%"), -90: ("冷点 90%", "cold 90%")}


@studios_app.command("hotspots")
def hotspots(
    types: TypesOption = None,
    start: FromOption = None,
    end: ToOption = None,
    top: Annotated[int, typer.Option(help="每类列出的网格数 / grids listed per type")] = 5,
    db: DbOption = None,
) -> None:
    """各类纠纷的高发网格与 Gi* 热点 / busiest grids and Gi* hot spots per dispute type."""
    from gridgov.plans.studios import hotspot_report

    if top < 1:
        raise UserError("--top 至少为 1", "--top must be at least 1")
    first, last = _window(start, end)
    with _open(db) as store:
        rows, counts = hotspot_report(store, types=parse_types(types), start=first, end=last, top=top)
    if not rows:
        _say("所选时间段内没有矛盾纠纷", "no disputes in the chosen window")
        return
    overview = Table(title=words("纠纷热点 dispute hotspots（Getis-Ord Gi*）"))
    for zh, en in (("类型", "type"), ("件数", "count"), ("热点 99%", "hot 99%"), ("热点 95%", "hot 95%"),
                   ("热点 90%", "hot 90%"), ("冷点 ≥90%", "cold ≥90%"), ("网格外", "outside")):
        overview.add_column(label(zh, en), justify="left" if zh == "类型" else "right")
    for r in rows:
        overview.add_row(r.type, str(r.total), str(r.hot[99]), str(r.hot[95]), str(r.hot[90]),
                         str(sum(r.cold.values())), str(r.outside))
    out.print(overview)
    for r in rows:
        table = Table(title=f"{r.type}：" + words("高发网格 top grids"))
        for col in ("网格 grid", "名称 name", "件数 count", "Gi* z", "级别 class"):
            table.add_column(words(col))
        for g in r.top:
            table.add_row(g.grid_code, g.name, str(g.count), f"{g.z:.2f}", label(*_LEVEL[g.level]) if g.level in _LEVEL else "")
        out.print(table)
    if counts.outside or counts.unlocated:
        _say(f"另有 {counts.outside} 件落在所有网格之外，{counts.unlocated} 件没有位置",
             f"{counts.outside} incidents lie outside every grid, {counts.unlocated} have no location")


class ModelChoice(str, Enum):
    median = "median"
    coverage = "coverage"
    cover_all = "cover-all"


class PriorityChoice(str, Enum):
    grids_first = "grids-first"
    studios_first = "studios-first"


@studios_app.command("place")
def place(
    types: TypesOption = None,
    count: Annotated[Optional[int], typer.Option("--count", help="工作室数（含已建；--per-type 时为每种类型各多少个）/ studios, existing included (per type with --per-type)")] = None,
    keep_existing: Annotated[bool, typer.Option("--keep-existing/--no-keep-existing", help="保留已建工作室 / keep existing studios")] = True,
    radius: Annotated[Optional[str], typer.Option(help="服务半径，如 2km、1500m、2.5 / service radius")] = None,
    model: Annotated[ModelChoice, typer.Option(help="median 总距离最小 | coverage 半径内最多 | cover-all 全覆盖最少站点")] = ModelChoice.median,
    joint: Annotated[bool, typer.Option("--joint/--per-type", help="各类型合并布局或分别布局 / one model or one per type")] = True,
    start: FromOption = None,
    end: ToOption = None,
    seats: Annotated[int, typer.Option(help="每个工作室的调解员席位 / mediators per studio")] = 2,
    seat_cost: Annotated[float, typer.Option(help="每个席位占用的承担能力（标准网格）/ capacity per seat")] = 0.5,
    travel_km: Annotated[float, typer.Option(help="劳模住址到工作室的距离上限（公里）/ travel limit, km")] = 10.0,
    priority: Annotated[PriorityChoice, typer.Option(help="grids-first 包格优先 | studios-first 工作室优先")] = PriorityChoice.grids_first,
    time_limit: Annotated[float, typer.Option(help="每个模型的求解时限（秒）/ seconds per model")] = 30.0,
    actor: Annotated[str, typer.Option(help="操作人 / who")] = "cli",
    db: DbOption = None,
) -> None:
    """布局调解工作室并配备劳模，保存为草稿方案 / place and staff studios as a draft plan."""
    from gridgov.plans.studios import StudioOptions, place_studios
    from gridgov.schema import DISPUTE_TYPES

    first, last = _window(start, end)
    options = StudioOptions(
        types=parse_types(types) or DISPUTE_TYPES, joint=joint, model=model.value, count=count,
        radius_m=None if radius is None else parse_distance_m(radius), keep_existing=keep_existing,
        start=first, end=last, seats=seats, seat_cost=seat_cost, travel_limit_km=travel_km,
        priority=priority.value, time_limit=time_limit,
    )
    with _open(db) as store, out.status("求解 solving …") as status:
        outcome = place_studios(store, options=options, actor=actor,
                                progress=lambda event, info: status.update(f"{event} {info.get('objective', '')}"))
    _print_studios(outcome.summary)
    _say(f"草稿方案 {outcome.plan_id} 已保存（gridgov plan publish {outcome.plan_id} 发布）",
         f"draft plan {outcome.plan_id} stored (publish with gridgov plan publish {outcome.plan_id})")
    if options.priority == "studios-first":
        _say("工作室优先：下次包格求解前请扣除劳模已占用的席位能力",
             "studios first: the next grid solve must subtract the capacity these seats take")


def _print_studios(summary: dict) -> None:
    # In an 80-column console the boxed table cut every name and staff id to "水采 …" / "LM13…":
    # a light box, headers on two lines, numbers kept whole, names and staff wrapped, not cut.
    from rich import box

    table = Table(title=words("调解工作室 studios"), box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for col in ("站点 site", "名称 name", "已建 existing", "类型 types", "网格 grids", "纠纷 disputes",
                "平均距离 mean km", "调解员 staff", "缺额 short"):
        wrap = col.startswith(("名称", "类型", "调解员"))
        table.add_column(words(col).replace(" ", "\n"), no_wrap=not wrap, overflow="fold" if wrap else "ellipsis")
    for s in summary["studios"]:
        table.add_row(
            s["site_id"], s["name"], pick("是", "yes") if s["existing"] else pick("新", "new"), "、".join(s["types"]), str(s["grids"]),
            f"{s['disputes']:g}", "" if s["mean_km"] is None else f"{s['mean_km']:.2f}",
            " ".join(st["worker_id"] for st in s["staff"]), str(s["unfilled"] or ""),
        )
    out.print(table)
    t = summary["totals"]
    share = "" if t["within_radius_share"] is None else f"{t['within_radius_share']:.1%}"
    radius_km = summary["radius_m"] / 1000
    _say(
        f"工作室 {t['studios']} 个（新建 {t['new']}），{radius_km:g} 公里内纠纷占比 {share}，席位 {t['seats_filled']}/{t['seats']}",
        f"{t['studios']} studios ({t['new']} new), {share} of disputes within {radius_km:g} km, seats {t['seats_filled']}/{t['seats']}",
    )
    for key, grids in summary.get("unserved", {}).items():
        _say(f"{key}：{len(grids)} 个网格无工作室服务", f"{key}: {len(grids)} grids not served by any studio")
