"""The gridgov command line: thin commands that parse options, call a use case and print."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from gridgov.errors import GridgovError, UserError

app = typer.Typer(
    help="gridgov：劳模包网格与调解工作室布局 / place model workers on governance grids",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)


class _State:
    db: str | None = None
    lang: str = "both"


state = _State()


class ImportLayer(str, Enum):
    wards = "wards"
    grids = "grids"
    workers = "workers"
    incidents = "incidents"
    sites = "sites"


class ExportLayer(str, Enum):
    counties = "counties"
    wards = "wards"
    grids = "grids"
    workers = "workers"
    incidents = "incidents"
    sites = "sites"
    assignments = "assignments"
    ledger = "ledger"


DbOption = Annotated[
    Optional[str],
    typer.Option("--db", help="数据库：.gpkg 文件或 postgresql:// 地址（默认 GRIDGOV_DB 或 ./gridgov.gpkg）"),
]


@app.callback()
def _main(
    db: DbOption = None,
    lang: Annotated[str, typer.Option(help="消息语言 zh | en | both")] = "both",
) -> None:
    state.db = db
    state.lang = lang


def _db(db: str | None) -> str | None:
    return db or state.db


def _open(db: str | None, *, create: bool = False):
    from gridgov.store import open_store

    return open_store(_db(db), create=create)


def _say(zh: str, en: str) -> None:
    if state.lang == "en":
        out.print(en)
    elif state.lang == "zh":
        out.print(zh)
    else:
        out.print(f"{zh}\n[dim]{en}[/dim]")


@app.command()
def init(db: DbOption = None) -> None:
    """创建（或升级）数据库 / create or upgrade the store."""
    with _open(db, create=True) as store:
        _say(f"数据库已就绪：{store.url}（结构版本 {store.schema_version()}）",
             f"store ready: {store.url} (schema version {store.schema_version()})")


@app.command()
def status(db: DbOption = None) -> None:
    """数据库内容概况 / what the store holds."""
    from gridgov.schema import LAYERS

    with _open(db) as store:
        table = Table(title=f"{store.url}（结构版本 {store.schema_version()}）")
        table.add_column("图层 layer")
        table.add_column("名称")
        table.add_column("条数 rows", justify="right")
        for name, layer in LAYERS.items():
            table.add_row(name, layer.label, str(store.count(name)))
        out.print(table)


@app.command("import")
def import_(
    layer: Annotated[ImportLayer, typer.Argument(help="导入的图层 / layer to import")],
    file: Annotated[Path, typer.Argument(help="GeoJSON / GeoPackage / Shapefile(.zip) / CSV / xlsx")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查不写入 / validate only")] = False,
    crs: Annotated[Optional[str], typer.Option(help="文件无坐标系时指定，如 4490 / CRS when the file has none")] = None,
    repair: Annotated[bool, typer.Option("--repair", help="修复无效几何 / repair invalid geometry")] = False,
    sheet_layer: Annotated[Optional[str], typer.Option("--layer", help="GeoPackage 图层名 / layer name")] = None,
    actor: Annotated[str, typer.Option(help="操作人（记入工作台账）/ who, for the ledger")] = "cli",
    db: DbOption = None,
) -> None:
    """导入数据（全部成功或全部不写入）/ import a file, all or nothing."""
    from gridgov.plans.imports import import_file

    with _open(db, create=True) as store:
        report = import_file(store, layer.value, file, crs=crs, repair=repair, dry_run=dry_run,
                             actor=actor, layer_name=sheet_layer)
    out.print(report.render("en" if state.lang == "en" else "zh"))


@app.command("export")
def export(
    layer: Annotated[ExportLayer, typer.Argument(help="导出的图层 / layer to export")],
    file: Annotated[Path, typer.Argument(help=".geojson / .gpkg / .xlsx / .csv")],
    ward: Annotated[Optional[str], typer.Option(help="只导出该街道 / only this ward")] = None,
    db: DbOption = None,
) -> None:
    """导出数据（GeoJSON、GeoPackage、Excel）/ export a layer."""
    from gridgov.plans.imports import export_layer

    where = None
    if ward:
        where = {"code": ward} if layer.value == "wards" else {
            "grids": {"ward_code": ward}, "incidents": {"ward_code": ward},
            "workers": {"home_ward": ward},
        }.get(layer.value)
        if where is None:
            raise UserError(f"图层 {layer.value} 不能按街道筛选", f"layer {layer.value} cannot be filtered by ward")
    with _open(db) as store:
        n = export_layer(store, layer.value, file, where=where)
    _say(f"已导出 {n} 条到 {file}", f"exported {n} rows to {file}")


@app.command()
def demo(
    db: DbOption = None,
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录 / output folder")] = Path("out"),
    seed: Annotated[int, typer.Option(help="随机种子（同一种子得到同样数据）/ seed")] = 2026,
    scale: Annotated[float, typer.Option(help="规模（1.0 = 全市）/ size factor")] = 1.0,
) -> None:
    """生成焦作示例数据并运行主流程 / build the Jiaozuo demo and run the main job."""
    from gridgov.plans.demo_job import run_demo

    with _open(db, create=True) as store, out.status("…") as status:
        summary = run_demo(store, out_dir=out_dir, seed=seed, scale=scale,
                           progress=lambda msg: status.update(msg))
    _print_summary(summary)


def _print_summary(summary: dict) -> None:
    table = Table(title="焦作示例 / Jiaozuo demo")
    table.add_column("项目 item")
    table.add_column("数值 value", justify="right")
    for key, value in summary.items():
        table.add_row(str(key), str(value))
    out.print(table)


def _report(exc: GridgovError) -> None:
    lang = state.lang
    if lang in ("zh", "en"):
        err.print(exc.render(lang), style="red", markup=False, highlight=False)
    else:
        err.print(exc.render("zh"), style="red", markup=False, highlight=False)
        err.print(exc.render("en"), style="dim red", markup=False, highlight=False)


def main() -> None:
    """Entry point: user errors print a bilingual message and exit non-zero, never a traceback."""
    try:
        app()
    except GridgovError as exc:
        _report(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("已中断 / interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly; the traceback is one variable away
        if os.environ.get("GRIDGOV_DEBUG"):
            raise
        err.print(
            f"内部错误 / internal error: {type(exc).__name__}: {exc}\n"
            "设置 GRIDGOV_DEBUG=1 查看详情 / set GRIDGOV_DEBUG=1 for the traceback",
            style="red", markup=False, highlight=False,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
