"""What every CLI command module shares: the consoles, global options and opening the store."""

from __future__ import annotations

from typing import Annotated, Optional

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


def _open(db: str | None, *, create: bool = False):
    from gridgov.store import open_store

    return open_store(_db(db), create=create)


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
