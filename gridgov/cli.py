"""The gridgov command line: thin commands that parse options, call a use case and print."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from gridgov.cli_api import jobs as _jobs, serve as _serve, user_app
from gridgov.cli_common import DbOption, _db, _open, _say, err, out, pick, state, words
from gridgov.cli_maps import map_app
from gridgov.cli_studios import studios_app
from gridgov.errors import GridgovError, UserError

app = typer.Typer(
    help="gridgov：劳模包网格与调解工作室布局 / place model workers on governance grids",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
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


class LangChoice(str, Enum):
    zh = "zh"
    en = "en"
    both = "both"


def _show_version(value: bool) -> None:
    if value:
        from gridgov import __version__
        from gridgov.store.migrations import SCHEMA_VERSION

        out.print(pick(f"gridgov {__version__}（数据库结构版本 {SCHEMA_VERSION}）",
                       f"gridgov {__version__} (schema version {SCHEMA_VERSION})"))
        raise typer.Exit()


@app.callback()
def _main(
    db: DbOption = None,
    lang: Annotated[LangChoice, typer.Option(help="消息语言 zh | en | both", case_sensitive=False)] = LangChoice.both,
    version: Annotated[bool, typer.Option("--version", help="显示版本 / show the version and exit",
                                          callback=_show_version, is_eager=True)] = False,
) -> None:
    state.db = db
    state.lang = lang.value


@app.command()
def init(db: DbOption = None) -> None:
    """创建（或升级）数据库 / create or upgrade the store."""
    with _open(db, create=True) as store:
        _say(f"数据库已就绪：{store.url}（结构版本 {store.schema_version()}）",
             f"store ready: {store.url} (schema version {store.schema_version()})")


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="备份文件（.gpkg）/ the backup file (.gpkg)")],
    db: DbOption = None,
) -> None:
    """备份数据库（服务运行时也可）/ back up the store (safe while it is in use)."""
    # As it is: a copy taken before installing a newer gridgov must open with this one.
    with _open(db, upgrade=False) as store:
        store.backup(file)
        _say(f"已备份 {store.url} → {file.resolve()}（恢复：停止服务后用备份文件替换数据库文件）",
             f"backed up {store.url} → {file.resolve()} (restore: stop the service, put the backup in the store file's place)")


@app.command()
def copy(
    target: Annotated[str, typer.Argument(help="新的空数据库（.gpkg 路径或 postgresql:// 地址）/ a new, empty store")],
    db: DbOption = None,
) -> None:
    """把整个数据库复制到新的空数据库（如 GeoPackage → PostgreSQL），编号与工作台账保持不变 /
    copy the whole store into a new, empty one (e.g. GeoPackage → PostgreSQL), ids and ledger kept."""
    from gridgov.store.copy import copy_store
    from gridgov.store.migrations import SCHEMA_VERSION

    # The source as it is: "unchanged" must be true, and an upgrade is the admin's own step.
    with _open(db, upgrade=False) as source, _open(target, create=True) as dest:
        if _same_store(source.url, dest.url):
            raise UserError("目标数据库与源数据库相同", "the target is the source store itself")
        if source.schema_version() < SCHEMA_VERSION:
            raise UserError(
                f"源数据库的结构版本 {source.schema_version()} 较旧：请先备份，再运行 gridgov init 升级它，然后复制",
                f"the source store has the older schema version {source.schema_version()}: back it up, "
                "upgrade it with gridgov init, then copy")
        counts = copy_store(source, dest)
    table = Table(title=pick(f"已复制 {source.url} → {dest.url}", f"copied {source.url} → {dest.url}"))
    table.add_column(words("图层 layer"))
    table.add_column(words("条数 rows"), justify="right")
    for name, n in counts.items():
        table.add_row(name, str(n))
    out.print(table)
    _say("请把 GRIDGOV_DB 改为新数据库并重启服务；原数据库未改动",
         "point GRIDGOV_DB at the new store and restart the service; the source store is unchanged")


def _same_store(a: str, b: str) -> bool:
    if "://" in a or "://" in b:
        return a == b
    return Path(a).resolve() == Path(b).resolve()


@app.command()
def status(db: DbOption = None) -> None:
    """数据库内容概况 / what the store holds."""
    from gridgov.schema import LAYERS

    with _open(db) as store:
        version = store.schema_version()
        table = Table(title=pick(f"{store.url}（结构版本 {version}）", f"{store.url} (schema version {version})"))
        named = state.lang != "en"  # the 名称 column: the layers' Chinese names, left out in English
        table.add_column(words("图层 layer"))
        if named:
            table.add_column("名称")
        table.add_column(words("条数 rows"), justify="right")
        for name, layer in LAYERS.items():
            table.add_row(name, *([layer.label] if named else []), str(store.count(name)))
        out.print(table)
        from gridgov.plans.studios import unavailable_studio_staff

        _say_empty_seats(*unavailable_studio_staff(store))


@app.command("import")
def import_(
    layer: Annotated[ImportLayer, typer.Argument(help="导入的图层 / layer to import")],
    file: Annotated[Path, typer.Argument(help="GeoJSON / GeoPackage / Shapefile(.zip) / CSV / xlsx")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查不写入 / validate only")] = False,
    crs: Annotated[Optional[str], typer.Option(help="文件无坐标系时指定，如 4490 / CRS when the file has none")] = None,
    repair: Annotated[bool, typer.Option("--repair", help="修复无效几何 / repair invalid geometry")] = False,
    sheet_layer: Annotated[Optional[str], typer.Option(
        "--layer", help="GeoPackage 图层、zip 中的 Shapefile 或 Excel 工作表名 / layer, zipped Shapefile or sheet name")] = None,
    replace: Annotated[bool, typer.Option(
        "--replace", help="网格：文件是所列街道调整后的全部网格，撤销文件中没有的旧网格 / grids: the file holds all "
                          "grids of its wards; stored ones missing from it are removed")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="劳模：确认改回名册变动设定的值（如旧名单中的状态）/ workers: set back values roster changes "
                        "set since, on purpose")] = False,
    actor: Annotated[str, typer.Option(help="操作人（记入工作台账）/ who, for the ledger")] = "cli",
    db: DbOption = None,
) -> None:
    """导入数据（全部成功或全部不写入）/ import a file, all or nothing."""
    from gridgov.plans.imports import import_file

    with _import_store(db, dry_run, layer.value) as (store, created), \
            err.status(f"检查并导入 {file.name} / validating and importing …"):
        report = import_file(store, layer.value, file, crs=crs, repair=repair, dry_run=dry_run,
                             actor=actor, layer_name=sheet_layer, replace=replace, force=force)
    if created:
        _say(f"已新建数据库 {created}", f"created a new store {created}")
    _say(report.render("zh"), report.render("en"))


@contextmanager
def _import_store(db: str | None, dry_run: bool, layer: str) -> Iterator[tuple[Any, str | None]]:
    """(the store to import into, its path when this import created it). A missing GeoPackage is
    created by an import of wards only, the first step on a new store: workers imported from the
    wrong folder went into a new empty ./gridgov.gpkg, the service's roster unchanged, exit 0.
    A dry run against a GeoPackage that does not exist checks against an empty one in a
    temporary folder and leaves no file behind."""
    from gridgov.store import open_store, resolve_url

    url = resolve_url(_db(db))
    missing = "://" not in url and not Path(url).exists()
    where = str(Path(url).resolve()) if missing else None
    if missing and not dry_run and layer != "wards":
        raise UserError(
            f"数据库 {where} 不存在：用 --db 或 GRIDGOV_DB 指定已有数据库；新数据库先导入街道"
            "（gridgov import wards …）或运行 gridgov init",
            f"the store {where} does not exist: name the existing one with --db or "
            "GRIDGOV_DB; a new store starts with gridgov import wards … or gridgov init",
        )
    if not dry_run or not missing:
        with _open(db, create=True) as store:
            yield store, where
        return
    with tempfile.TemporaryDirectory() as tmp, open_store(str(Path(tmp) / "dry-run.gpkg"), create=True) as store:
        yield store, None


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
    with _open(db) as store, err.status(f"导出到 {file.name} / exporting …"):
        if ward:
            from gridgov.plans.run import check_wards

            check_wards(store.load("wards", columns=["code"])["code"], [ward])  # a typo is no empty file
        n = export_layer(store, layer.value, file, where=where)
    _say(f"已导出 {n} 条到 {file}", f"exported {n} rows to {file}")


@app.command()
def demo(
    db: DbOption = None,
    out_dir: Annotated[Path, typer.Option("--out", help="输出目录 / output folder")] = Path("out"),
    seed: Annotated[int, typer.Option(help="随机种子（同一种子得到同样数据）/ seed")] = 2026,
    scale: Annotated[float, typer.Option(help="规模（1.0 = 全市）/ size factor")] = 1.0,
    force: Annotated[bool, typer.Option(
        "--force", help="覆盖已有自己数据的数据库 / overwrite a store holding your own data")] = False,
) -> None:
    """生成焦作示例数据并运行主流程（替换数据库中的全部数据）/ build the Jiaozuo demo into the
    store (replacing everything in it) and run the main job."""
    from gridgov.demo.build import check_scale
    from gridgov.plans.demo_job import check_demo_target, run_demo

    check_scale(scale)
    with _open(db, create=True) as store:
        if not force:
            check_demo_target(store)
    with _open(db, create=True) as store, out.status("…") as status:
        summary = run_demo(store, out_dir=out_dir, seed=seed, scale=scale, progress=lambda msg: status.update(msg),
                           map_lang="en" if state.lang == "en" else "zh")
    _print_summary(summary, title=pick("焦作示例", "Jiaozuo demo"), details=str(out_dir / "summary.json"))


class RuleChoice(str, Enum):
    one = "one"
    several = "several"
    auto = "auto"


@app.command()
def solve(
    rule: Annotated[RuleChoice, typer.Option(help="one 一格一劳模 | several 多格一劳模 | auto 按街道人数自动")] = RuleChoice.auto,
    ward: Annotated[Optional[list[str]], typer.Option(help="只求解这些街道（可重复）/ only these wards")] = None,
    changed: Annotated[bool, typer.Option("--changed", help="只重算名册变动涉及的街道 / only wards touched by roster changes")] = False,
    time_limit: Annotated[float, typer.Option(help="每个街道的求解时限（秒）/ seconds per ward")] = 10.0,
    contiguity: Annotated[bool, typer.Option(help="多格一劳模的片区必须连片 / contiguous territories")] = True,
    balance: Annotated[Optional[float], typer.Option(help="工作量均衡容差，如 0.5 / workload tolerance")] = None,
    ward_rule: Annotated[Optional[list[str]], typer.Option(help="单个街道的规则，如 410802001=one（可重复）/ per-ward rule")] = None,
    actor: Annotated[str, typer.Option(help="操作人 / who")] = "cli",
    db: DbOption = None,
) -> None:
    """求解包格方案并保存为草稿 / solve a grid plan and store it as a draft."""
    from gridgov.plans.allocation import AllocationOptions
    from gridgov.plans.run import solve_plan

    options = AllocationOptions(rule=rule.value, time_limit=time_limit, contiguity=contiguity, balance=balance,
                                ward_rules=_ward_rules(ward_rule or []))
    with _open(db) as store, _ward_progress() as on_ward:
        outcome = solve_plan(store, options=options, wards=ward, changed=changed, progress=on_ward, actor=actor)
    if outcome.confirmed is not None:
        _say(f"重新求解了 {len(outcome.scope)} 个街道，结果与已发布方案 {outcome.confirmed} 相同：无需调整，未另存草稿（已记入工作台账）",
             f"re-solved {len(outcome.scope)} wards: the result is published plan {outcome.confirmed} unchanged; "
             "no draft stored (recorded on the ledger)")
        return
    if outcome.plan_id is None:
        _say("没有需要重新求解的街道", "nothing to re-solve")
        return
    _say(f"草稿方案 {outcome.plan_id} 已保存", f"draft plan {outcome.plan_id} stored")
    _print_summary(outcome.summary, title=pick(f"包格方案 {outcome.plan_id}", f"grid plan {outcome.plan_id}"),
                   details=f"GET /api/plans/{outcome.plan_id}")


def _ward_rules(items: list[str]) -> dict[str, str]:
    """``CODE=one|several|auto`` pairs from --ward-rule."""
    rules = {}
    for item in items:
        code, _, rule = item.partition("=")
        rule = rule.strip().lower()
        if rule not in ("one", "several", "auto") or not code.strip():
            raise UserError(f"--ward-rule 应写成 街道代码=one|several|auto：{item}",
                            f"--ward-rule takes WARD=one|several|auto: {item}")
        rules[code.strip()] = rule
    return rules


def _ward_progress():
    """A rich progress bar over wards, showing the best objective so far."""
    from contextlib import contextmanager

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    @contextmanager
    def bar():
        with Progress(TextColumn(f"[bold]{words('求解街道 wards')}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=out,
                      transient=False) as prog:
            task = prog.add_task("solve", total=None, info="")
            total_cost = [0.0]

            def on_ward(outcome, done: int, total: int) -> None:
                total_cost[0] += outcome.cost
                prog.update(task, completed=done, total=total,
                            info=f"{outcome.ward_code} {_word(outcome.status)}  "
                                 + pick(f"累计距离 {total_cost[0] / 1000:.0f} 公里", f"distance so far {total_cost[0] / 1000:.0f} km"))

            yield on_ward

    return bar()


plan_app = typer.Typer(help="方案版本：列表、对比、发布 / plan versions", no_args_is_help=True)
app.add_typer(plan_app, name="plan")


@plan_app.command("list")
def plan_list(
    limit: Annotated[int, typer.Option(help="只列最近的 N 个（0 = 全部）/ the latest N only (0: all)")] = 20,
    db: DbOption = None,
) -> None:
    """列出方案（最近的在后）/ list plans (latest last)."""
    with _open(db) as store:
        plans = store.load("plans")
    # A year of weekly plans is 50+ rows: the latest, and how many are left out.
    older = max(0, len(plans) - limit) if limit > 0 else 0
    plans = plans.iloc[older:]
    from rich import box

    # A compact box and Chinese values (English with --lang en) keep the table readable in an
    # 80-column console, where the bilingual values were cut to "publis…".
    table = Table(title=words("方案 plans"), box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    # 范围: the wards a plan solved (its objective covers those only), the whole city or a count.
    for col in ("编号 id", "类别 kind", "规则 rule", "状态 status", "求解 solver", "范围 scope", "目标 objective",
                "创建 created", "创建人 by"):
        table.add_column(words(col).replace(" ", "\n"), no_wrap=col.startswith(("编号", "目标", "创建 ")))
    for p in plans.itertuples():
        scope = _word("city") if not isinstance(p.scope, list) else f"{len(p.scope)}"
        table.add_row(str(p.plan_id), _word(p.kind), p.rule or "", _word(p.status), _word(p.solver_status or ""),
                      scope, "" if p.objective is None else f"{p.objective:,.0f}",
                      _when(p.created_at), p.created_by or "")
    out.print(table)
    if older:
        _say(f"另有 {older} 个较早的方案未列出（--limit 0 列出全部）", f"{older} older plans not listed (--limit 0 lists all)")


def _word(value: str) -> str:
    """A plan field's value in the console's language (Chinese unless --lang en)."""
    from gridgov.cli_summary import ZH_WORDS

    return value if state.lang == "en" else ZH_WORDS.get(value, value)


@plan_app.command("diff")
def plan_diff(
    a: Annotated[int, typer.Argument(help="原方案 / from plan")],
    b: Annotated[int, typer.Argument(help="新方案 / to plan")],
    db: DbOption = None,
) -> None:
    """两个方案之间换人的网格 / grids whose worker changed between two plans."""
    from gridgov.plans.versions import diff_plans, diff_summary, plan_assignment, removed_grids

    with _open(db) as store:
        moves = diff_plans(store, a, b)
        trade = diff_summary(store, moves)
        ids = sorted({w for m in moves for w in (m.before, m.after) if w})
        names = {r["worker_id"]: r["name"] for r in store.rows(
            "workers", where={"worker_id": ids}, columns=["worker_id", "name"])} if ids else {}
        grid_names = {r["code"]: r.get("name") for r in store.rows("grids", where={"code": [m.grid_code for m in moves]},
                                                                   columns=["code", "name"])} if moves else {}
        in_a = set(plan_assignment(store, a)) if moves else set()
        removed = {r["code"]: r for r in removed_grids(
            store, [m.grid_code for m in moves if m.grid_code not in grid_names]).to_dict("records")}

    def who(worker: str | None, nobody: str) -> str:
        return nobody if worker is None else f"{names.get(worker) or '（已删除）'} {worker}"

    table = Table(title=pick(f"方案 {a} → {b}：{len(moves)} 个网格变动", f"plan {a} → {b}: {len(moves)} grids changed"))
    for col in ("网格 grid", "网格名称 name", "街道 ward", "原劳模 from", "新劳模 to"):
        # Codes whole (15 digits that differ only at the end must not be cut to the same "…").
        table.add_column(words(col), no_wrap=col.startswith(("网格 ", "街道")), min_width=15 if col.startswith("网格 ") else None,
                         overflow="fold")
    for m in moves:
        record = removed.get(m.grid_code, {})
        table.add_row(m.grid_code, grid_names.get(m.grid_code) or record.get("name") or "",
                      m.ward_code or record.get("ward_code") or "",
                      who(m.before, "（无）" if m.grid_code in in_a else "（新网格）"),
                      who(m.after, "（无）" if m.grid_code in grid_names else "（网格已撤销）"))
    out.print(table)
    if moves:
        _say(f"新增覆盖 {trade.covered} 个网格（{trade.covered_households:,} 户），失去覆盖 {trade.uncovered} 个"
             f"（{trade.uncovered_households:,} 户）；在岗劳模换出 {trade.from_on_duty} 个网格，"
             f"已退出或暂不可用劳模的网格 {trade.from_away} 个",
             f"covered {trade.covered} more grids ({trade.covered_households:,} households), {trade.uncovered} fewer "
             f"({trade.uncovered_households:,} households); {trade.from_on_duty} grids moved off workers on duty, "
             f"{trade.from_away} off workers retired or away")


@plan_app.command("export")
def plan_export(
    file: Annotated[Path, typer.Argument(help="输出的 .xlsx 文件 / the .xlsx file to write")],
    plan_id: Annotated[Optional[int], typer.Option("--plan", help="方案编号（默认已发布方案）/ plan id (default: the published one)")] = None,
    ward: Annotated[Optional[list[str]], typer.Option(help="只导出这些街道（可重复）/ only these wards")] = None,
    db: DbOption = None,
) -> None:
    """导出方案的包格台账（网格、劳模与联系方式，Excel）/ a plan's workbook: grids, workers, contacts."""
    from gridgov.plans.run import check_wards
    from gridgov.plans.versions import plan_or_published
    from gridgov.plans.workbook import save_ledger_xlsx, workbook_title

    if file.suffix.lower() != ".xlsx":
        raise UserError(f"{file.name}：包格台账只能导出为 .xlsx", f"{file.name}: the plan workbook is written as .xlsx only")
    with _open(db) as store:
        plan_id = plan_or_published(store, plan_id)
        if ward:
            check_wards(store.load("wards")["code"], ward)
        n = save_ledger_xlsx(store, plan_id, ward or None, file, title=workbook_title(store, plan_id, ward or None))
    _say(f"方案 {plan_id} 的 {n} 个网格已导出到 {file}", f"{n} grids of plan {plan_id} written to {file}")


def _when(value: Any) -> str:
    """A stored time on the reader's clock (settings ``timezone``, Beijing time by default)."""
    import pandas as pd

    from gridgov.localtime import local

    if value is None or pd.isna(value):
        return ""
    return local(pd.Timestamp(value).to_pydatetime()).strftime("%Y-%m-%d %H:%M")


@plan_app.command("publish")
def plan_publish(
    plan_id: Annotated[int, typer.Argument(help="方案编号 / plan id")],
    actor: Annotated[str, typer.Option(help="操作人 / who")] = "cli",
    force: Annotated[bool, typer.Option(
        "--force", help="发布基于旧方案求解的方案（回退）/ publish a plan solved from an older one (roll back)")] = False,
    db: DbOption = None,
) -> None:
    """发布方案（记入工作台账）/ publish a plan (on the ledger)."""
    from gridgov.plans.studios import unavailable_studio_staff
    from gridgov.plans.versions import publish_plan, stale_wards

    with _open(db) as store:
        plan = publish_plan(store, plan_id, actor=actor, force=force)
        stale = stale_wards(store) if plan["kind"] == "grid" else []
        studio_plan, away = unavailable_studio_staff(store)
    _say(f"方案 {plan_id} 已发布", f"plan {plan_id} published")
    if stale:
        listed = _first_ten(stale, "个")
        _say(f"提示：{len(stale)} 个街道的名册在此方案之后有变动（{listed}），请运行 gridgov solve --changed",
             f"note: the roster of {len(stale)} wards changed after this plan: run gridgov solve --changed")
    _say_empty_seats(studio_plan, away)


def _first_ten(items: list[str], unit: str) -> str:
    """``a、b、…`` for a note: the first ten, then how many in all (等 37 个)."""
    return "、".join(items[:10]) + (f" 等 {len(items)} {unit}" if len(items) > 10 else "")


def _say_empty_seats(studio_plan: int | None, away: list[str]) -> None:
    if away:
        listed = _first_ten(away, "名")
        _say(f"提示：已发布的调解工作室方案 {studio_plan} 中有 {len(away)} 名调解员已退出或暂不可用（{listed}），"
             "请运行 gridgov studios place 重新布局配人",
             f"note: {len(away)} mediators of published studio plan {studio_plan} have retired or are away "
             f"({', '.join(away[:10])}): run gridgov studios place to staff the studios again")


worker_app = typer.Typer(help="劳模名册动态管理 / roster changes", no_args_is_help=True)
app.add_typer(worker_app, name="worker")


def _date(value: str | None) -> "date | None":
    """A date typed as imports read it: 2026-12-01, 2026/12/1, 2026年12月1日, full-width digits."""
    from gridgov.io.problems import ValueProblem
    from gridgov.io.values import parse_date

    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueProblem:
        raise UserError(f"日期无法识别：{value}（请写成 2026-12-01）", f"date not recognised: {value} (write 2026-12-01)") from None


@worker_app.command("retire")
def worker_retire(worker_id: str, actor: Annotated[str, typer.Option()] = "cli", db: DbOption = None) -> None:
    """劳模退出 / a worker leaves the roster."""
    from gridgov.plans.roster import retire_worker

    with _open(db) as store:
        changed = retire_worker(store, worker_id, actor=actor)
    if not changed:
        _say(f"{worker_id} 早已退出，没有变化", f"{worker_id} had already retired: nothing changed")
        return
    _say(f"{worker_id} 已退出；运行 gridgov solve --changed 重新安排其网格",
         f"{worker_id} retired; run gridgov solve --changed to re-place their grids")


@worker_app.command("unavailable")
def worker_unavailable(
    worker_id: str,
    start: Annotated[str, typer.Option("--from", help="YYYY-MM-DD")],
    end: Annotated[Optional[str], typer.Option("--to", help="YYYY-MM-DD（不填为待定）")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="替换尚未结束的暂不可用登记 / replace an absence not over yet")] = False,
    actor: Annotated[str, typer.Option()] = "cli",
    db: DbOption = None,
) -> None:
    """劳模暂不可用 / a worker is away for a while."""
    from gridgov.plans.roster import mark_unavailable

    with _open(db) as store:
        mark_unavailable(store, worker_id, start=_date(start), end=_date(end), actor=actor, replace=replace)
    _say(f"{worker_id} 暂不可用 {start} 至 {end or '待定'}", f"{worker_id} unavailable from {start} to {end or 'further notice'}")


@worker_app.command("available")
def worker_available(
    worker_id: str,
    reinstate: Annotated[bool, typer.Option("--reinstate", help="重新启用已退出的劳模 / bring back a retired worker")] = False,
    actor: Annotated[str, typer.Option()] = "cli",
    db: DbOption = None,
) -> None:
    """劳模恢复可用（已退出的需 --reinstate）/ a worker is back (a retired one with --reinstate)."""
    from gridgov.plans.roster import mark_available

    with _open(db) as store:
        changed = mark_available(store, worker_id, actor=actor, reinstate=reinstate)
    if not changed:
        _say(f"{worker_id} 本来就在岗，没有变化", f"{worker_id} was not away: nothing changed")
        return
    _say(f"{worker_id} 已恢复；运行 gridgov solve --changed 重新安排", f"{worker_id} is available again; run gridgov solve --changed")


@worker_app.command("update")
def worker_update(
    worker_id: str,
    name: Annotated[Optional[str], typer.Option(help="姓名 / name")] = None,
    phone: Annotated[Optional[str], typer.Option(help="联系电话 / phone")] = None,
    employer: Annotated[Optional[str], typer.Option(help="工作单位 / employer")] = None,
    sector: Annotated[Optional[str], typer.Option(help="系统（司法、公安…）/ sector")] = None,
    home_ward: Annotated[Optional[str], typer.Option(help="居住街道代码 / ward code of the home")] = None,
    lon: Annotated[Optional[float], typer.Option(help="住址经度（与 --lat 同给）/ home longitude")] = None,
    lat: Annotated[Optional[float], typer.Option(help="住址纬度 / home latitude")] = None,
    actor: Annotated[str, typer.Option()] = "cli",
    db: DbOption = None,
) -> None:
    """修改劳模信息（住址变化后运行 gridgov solve --changed）/ change a worker's details or home."""
    from gridgov.plans.roster import update_worker

    fields = {"name": name, "phone": phone, "employer": employer, "sector": sector, "home_ward": home_ward,
              "lon": lon, "lat": lat}
    values = {k: v for k, v in fields.items() if v is not None}
    if not values:
        raise UserError("没有要修改的内容：请给出 --phone、--home-ward 等选项", "nothing to change: give --phone, --home-ward, …")
    with _open(db) as store:
        diff = update_worker(store, worker_id, values, actor=actor)
    if not diff:
        _say(f"{worker_id} 没有变化", f"{worker_id}: nothing changed")
    elif {"home_ward", "geometry"} & set(diff):
        _say(f"{worker_id} 已更新（住址变化：运行 gridgov solve --changed 重新安排）",
             f"{worker_id} updated (new home: run gridgov solve --changed)")
    else:
        _say(f"{worker_id} 已更新：{'、'.join(diff)}", f"{worker_id} updated: {', '.join(diff)}")


@worker_app.command("remove")
def worker_remove(worker_id: str, actor: Annotated[str, typer.Option()] = "cli", db: DbOption = None) -> None:
    """删除误录的劳模（台账保留原记录，可用 restore 恢复）/ delete a worker imported by mistake."""
    from gridgov.plans.roster import remove_worker

    with _open(db) as store:
        drafts = remove_worker(store, worker_id, actor=actor)
    _say(f"已删除劳模 {worker_id}；原记录保存在工作台账中，误删可用 gridgov worker restore {worker_id} 恢复",
         f"worker {worker_id} deleted; the ledger keeps the record (gridgov worker restore {worker_id} puts it back)")
    if drafts:
        listed = "、".join(map(str, drafts))
        _say(f"注意：草稿方案 {listed} 中有此人，已不能发布，请重新求解",
             f"note: draft plans {', '.join(map(str, drafts))} name this worker and can no longer be published: solve again")


@worker_app.command("restore")
def worker_restore(worker_id: str, actor: Annotated[str, typer.Option()] = "cli", db: DbOption = None) -> None:
    """恢复误删的劳模（按台账记录）/ put back a deleted worker as the ledger recorded them."""
    from gridgov.plans.roster import restore_worker

    with _open(db) as store:
        restore_worker(store, worker_id, actor=actor)
    _say(f"已恢复劳模 {worker_id}；运行 gridgov solve --changed 重新安排", f"worker {worker_id} restored; run gridgov solve --changed")


@worker_app.command("capacity")
def worker_capacity(
    worker_id: str,
    capacity: Annotated[str, typer.Argument(help="可承担的标准网格数（1 个标准网格 = 400 户）")],
    actor: Annotated[str, typer.Option()] = "cli",
    db: DbOption = None,
) -> None:
    """调整承担能力 / change how much a worker takes on."""
    from gridgov.io.problems import ValueProblem
    from gridgov.io.values import number
    from gridgov.plans.roster import set_capacity

    try:  # as imports read it: ２ typed with a Chinese input method, 1.5
        value = number(capacity)
    except ValueProblem:
        value = None
    if value is None:
        raise UserError(f"承担能力应为大于 0 的数字（收到 {capacity}）", f"capacity must be a number above 0 (got {capacity})")
    with _open(db) as store:
        set_capacity(store, worker_id, value, actor=actor)
    _say(f"{worker_id} 承担能力改为 {value:g}", f"{worker_id} capacity set to {value:g}")


def _print_summary(summary: dict, *, title: str, details: str) -> None:
    from gridgov.cli_summary import summary_rows

    table = Table(title=title)
    table.add_column(words("项目 item"))
    table.add_column(words("数值 value"), justify="right")
    for label, text in summary_rows(summary, details=details, lang=state.lang):
        table.add_row(words(label), text)
    out.print(table)


app.add_typer(map_app, name="map")
app.add_typer(studios_app, name="studios")
app.add_typer(user_app, name="user")
app.command("serve")(_serve)
app.command("jobs")(_jobs)


def _report(exc: GridgovError) -> None:
    lang = state.lang
    for i, one in enumerate(("zh", "en") if lang not in ("zh", "en") else (lang,)):
        text = exc.render(one)
        if exc.cli_hint is not None:
            text += ("（{}）" if one == "zh" else " ({})").format(exc.cli_hint[one == "en"])
        err.print(text, style="dim red" if i else "red", markup=False, highlight=False)


def main() -> None:
    """Entry point: user errors print a bilingual message and exit non-zero, never a traceback."""
    from gridgov.cli_common import click_exceptions, usage_problem

    click = click_exceptions()
    # click < 8.2 has no NoArgsIsHelpError (it prints the help and exits 0 itself).
    no_args_help = getattr(click, "NoArgsIsHelpError", ())
    # A usage error in the top-level arguments comes before the callback reads --lang.
    argv = sys.argv[1:]
    if "--lang" in argv[:-1] and argv[argv.index("--lang") + 1] in ("zh", "en", "both"):
        state.lang = argv[argv.index("--lang") + 1]
    try:
        # Not standalone: click would print its usage errors itself, in English only.
        code = app(standalone_mode=False, prog_name="gridgov")
        if isinstance(code, int) and code:  # an explicit exit code (click's Exit)
            sys.exit(code)
    except GridgovError as exc:
        _report(exc)
        sys.exit(exc.exit_code)
    except no_args_help as exc:  # a bare `gridgov plan`: its help, as click prints it
        out.print(exc.format_message(), markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        _report(UserError(*usage_problem(exc)))
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        err.print(pick("已中断", "interrupted"))
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly; the traceback is one variable away
        from gridgov.settings import settings_problems

        bad = settings_problems(exc)
        if bad is not None:  # GRIDGOV_API_TOKEN_MINUTES=8h is the admin's typo, not a bug
            _report(UserError(*bad))
            sys.exit(2)
        if os.environ.get("GRIDGOV_DEBUG"):
            raise
        err.print(
            pick(f"内部错误：{type(exc).__name__}: {exc}\n设置 GRIDGOV_DEBUG=1 查看详情",
                 f"internal error: {type(exc).__name__}: {exc}\nset GRIDGOV_DEBUG=1 for the traceback"),
            style="red", markup=False, highlight=False,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
