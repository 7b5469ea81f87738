"""What every CLI command module shares: the consoles, global options and opening the store."""

from __future__ import annotations

import re
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)


class _State:
    db: str | None = None
    lang: str = "both"


state = _State()


DbOption = Annotated[
    Optional[str],
    typer.Option("--db", help="数据库：.gpkg 文件或 postgresql:// 地址（默认 GRIDGOV_DB 或 ./gridgov.gpkg）"),
]


def _db(db: str | None) -> str | None:
    return db or state.db


def _open(db: str | None, *, create: bool = False, upgrade: bool = True):
    from gridgov.store import open_store
    from gridgov.store.migrations import SCHEMA_VERSION

    store = open_store(_db(db), create=create, upgrade=upgrade)
    if store.upgraded_from is not None:
        before, kept = store.upgraded_from
        if kept is not None:
            _say(f"数据库结构已从版本 {before} 升级到 {SCHEMA_VERSION}；升级前的数据库保存在 {kept}（旧版 gridgov 可打开它）",
                 f"the store's schema was upgraded from version {before} to {SCHEMA_VERSION}; the store as it was is "
                 f"kept in {kept} (the older gridgov opens it)")
        else:
            _say(f"数据库结构已从版本 {before} 升级到 {SCHEMA_VERSION}（PostgreSQL：升级前请先用 pg_dump 备份）",
                 f"the store's schema was upgraded from version {before} to {SCHEMA_VERSION} "
                 "(PostgreSQL: take a pg_dump before upgrading gridgov)")
    return store


def _say(zh: str, en: str) -> None:
    # Messages quote file names and values: [/tmp/x] or [b] in them is text, not rich markup
    # (unescaped, the first was an internal error and the second went bold).
    zh, en = escape(zh), escape(en)
    if state.lang == "en":
        out.print(en)
    elif state.lang == "zh":
        out.print(zh)
    else:
        out.print(f"{zh}\n[dim]{en}[/dim]")


def click_exceptions() -> Any:
    """The exceptions module of the click that typer runs on (typer 0.2x vendors its own)."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions


def usage_problem(exc: Any) -> tuple[str, str]:
    """(Chinese, English) for a command-line usage error (a click UsageError): click words them
    in English only."""
    click = click_exceptions()
    english = " ".join(exc.format_message().split())  # click lists choices one per line
    command = exc.ctx.command_path if exc.ctx is not None else "gridgov"
    see_zh, see_en = f"（用 {command} --help 查看用法）", f" (see {command} --help)"
    if isinstance(exc, click.NoSuchOption):
        name = exc.option_name
        if name.lstrip("-").replace(".", "", 1).isdigit():
            return (f"“{name}”被当作选项：以 - 开头的值要写在 -- 之后，如 {command} … -- {name}{see_zh}",
                    f"“{name}” was read as an option: put a value starting with - after --{see_en}")
        if name == "--lang":
            return (f"--lang 要写在子命令之前，如 gridgov --lang en {command.partition(' ')[2]} …",
                    f"--lang goes before the subcommand, e.g. gridgov --lang en {command.partition(' ')[2]} …")
        similar = f"（相近的选项：{'、'.join(exc.possibilities)}）" if exc.possibilities else ""
        return f"没有选项 {name}{similar}{see_zh}", f"{english}{see_en}"
    if isinstance(exc, click.MissingParameter):
        hint = _param_name(exc)
        choices = re.search(r"Choose from:?\s*(.+?)\.?$", exc.format_message(), re.S)
        listed = "（可选：" + "、".join(re.findall(r"[\w-]+", choices[1])) + "）" if choices else ""
        return f"缺少参数 {hint}{listed}{see_zh}", f"{english}{see_en}"
    if isinstance(exc, click.BadParameter):
        hint = _param_name(exc)
        return f"参数 {hint} 的值无效：{_reason_zh(exc.message)}{see_zh}", f"{english}{see_en}"
    if (m := re.match(r"No such command '([^']+)'\.(?: Did you mean '([^']+)'\?)?", english)) is not None:
        similar = f"（相近的命令：{m[2]}）" if m[2] else ""
        return f"没有命令 {m[1]}{similar}{see_zh}", f"{english}{see_en}"
    return f"命令用法有误：{exc.format_message()}{see_zh}", f"{english}{see_en}"


def _param_name(exc: Any) -> str:
    """The parameter an error is about as a user types it (--rule, or the argument's name)."""
    param = getattr(exc, "param", None)
    if param is None:
        return str(getattr(exc, "param_hint", None) or "")
    options = [o for o in getattr(param, "opts", ()) if o.startswith("-")]
    return "/".join(options) if options else str(param.name).upper()


def _reason_zh(message: str) -> str:
    """Why a value was refused, in Chinese where the (pydantic or click) wording is known."""
    if (m := re.search(r"'([^']*)' is not one of (.+?)\.?$", message)) is not None:
        allowed = "、".join(re.findall(r"'([^']*)'", m[2]))
        return f"“{m[1]}”不是可选值（可选：{allowed}）"
    if "valid integer" in message:
        return "应为整数"
    if "valid number" in message:
        return "应为数字"
    return message


_CJK = re.compile(r"[\u3400-\u9fff]")


def words(label: str) -> str:
    """A bilingual label ("图层 layer", "网格（全方案）grids (whole plan)") in the chosen --lang:
    the Chinese before the first English word that no Chinese follows, or that English."""
    if state.lang not in ("zh", "en"):
        return label
    for m in re.finditer(r"[A-Za-z]", label):
        head, tail = label[:m.start()].rstrip(), label[m.start():]
        if head and not head[-1].isascii() and not _CJK.search(tail):
            return head if state.lang == "zh" else tail
    return label


def label(zh: str, en: str) -> str:
    """A table label by --lang: ``zh``, ``en``, or both side by side ("热点 99% hot 99%")."""
    return zh if state.lang == "zh" else en if state.lang == "en" else f"{zh} {en}"


def pick(zh: str, en: str) -> str:
    """``zh`` or ``en`` by --lang; both (Chinese first) when none was chosen."""
    return zh if state.lang == "zh" else en if state.lang == "en" else f"{zh} / {en}"
