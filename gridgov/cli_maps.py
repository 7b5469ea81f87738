"""`gridgov map …`: coverage, ward and plan-diff maps written as self-contained HTML files."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from gridgov.cli_common import DbOption, _open, _say, state

map_app = typer.Typer(help="覆盖图（离线可用的 HTML）/ coverage maps (offline HTML)", no_args_is_help=True)

TilesOption = Annotated[
    Optional[str],
    typer.Option("--tiles", help="底图：none | osm | tianditu | amap | 内网瓦片地址模板（默认 GRIDGOV_TILES_PROVIDER 或 none）"),
]
PlanOption = Annotated[Optional[int], typer.Option("--plan", help="方案编号（默认已发布方案）/ plan id")]
OutOption = Annotated[Path, typer.Option("-o", "--out", help="输出 HTML 文件 / output file")]


class MapLang(str, Enum):
    zh = "zh"
    en = "en"


LangOption = Annotated[
    Optional[MapLang], typer.Option("--lang", help="地图文字语言 zh | en（默认随全局 --lang）/ map labels"),
]


def _lang(lang: MapLang | None) -> str:
    """The map's language: the option, else English only when the CLI speaks English only."""
    return lang.value if lang is not None else ("en" if state.lang == "en" else "zh")


def _write(m: object, out: Path) -> None:
    from gridgov.maps import save_map

    path = save_map(m, out)
    _say(f"地图已写入 {path}（无需联网即可打开）", f"map written to {path} (opens with no network)")


@map_app.command("coverage")
def map_coverage(
    out: OutOption,
    plan: PlanOption = None,
    tiles: TilesOption = None,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    """全市覆盖图 / the city coverage map."""
    from gridgov.maps import coverage_map

    with _open(db) as store:
        m = coverage_map(store, plan_id=plan, tiles=tiles, lang=_lang(lang))
    _write(m, out)


@map_app.command("ward")
def map_ward(
    code: Annotated[str, typer.Argument(help="街道/乡镇代码 / ward code")],
    out: OutOption,
    plan: PlanOption = None,
    tiles: TilesOption = None,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    """单个街道的覆盖图 / one ward's coverage map."""
    from gridgov.maps import ward_map

    with _open(db) as store:
        m = ward_map(store, code, plan_id=plan, tiles=tiles, lang=_lang(lang))
    _write(m, out)


@map_app.command("diff")
def map_diff(
    a: Annotated[int, typer.Argument(help="原方案编号 / plan before")],
    b: Annotated[int, typer.Argument(help="新方案编号 / plan after")],
    out: OutOption,
    ward: Annotated[Optional[str], typer.Option(help="只看该街道 / only this ward")] = None,
    tiles: TilesOption = None,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    """两个方案之间换人的网格 / grids whose worker changed between two plans."""
    from gridgov.maps import diff_map

    with _open(db) as store:
        m = diff_map(store, a, b, ward=ward, tiles=tiles, lang=_lang(lang))
    _write(m, out)
