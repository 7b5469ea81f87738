"""Collecting located problems (row, feature or whole file) and raising them once as a ValidationError."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from gridgov.errors import Problem, ValidationError

Unit = Literal["row", "feature"]
WHOLE_FILE = "整个文件"
HEADER = "表头"


def where_label(unit: Unit, number: int) -> str:
    """The user-visible place: ``第 N 行`` for a table row, ``要素 N`` for a feature."""
    return f"第 {number} 行" if unit == "row" else f"要素 {number}"


class ValueProblem(Exception):
    """A cell's value cannot be used; the caller adds the file, row and field."""

    def __init__(self, message: str, message_en: str, fix: str = "", fix_en: str = "") -> None:
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en
        self.fix = fix
        self.fix_en = fix_en


def _place_order(problem: Problem) -> int:
    m = re.fullmatch(r"(?:第 (\d+) 行|要素 (\d+))", problem.where)
    return int(m[1] or m[2]) if m else -1


@dataclass
class Problems:
    """Every problem of one file, in the order found; ``raise_if_any`` raises them all at once."""

    file: str
    unit: Unit = "row"
    items: list[Problem] = field(default_factory=list)

    def add(
        self,
        where: int | str,
        field_name: str | None,
        message: str,
        message_en: str,
        fix: str = "",
        fix_en: str = "",
    ) -> None:
        place = where_label(self.unit, where) if isinstance(where, int) else where
        self.items.append(Problem(self.file, place, field_name, message, message_en, fix, fix_en))

    def add_value(self, where: int | str, field_name: str | None, exc: ValueProblem) -> None:
        self.add(where, field_name, exc.message, exc.message_en, exc.fix, exc.fix_en)

    def raise_if_any(self) -> None:
        if self.items:
            # Whole-file and header problems first, then down the sheet row by row (they are
            # found column by column): a clerk fixes them walking down the sheet.
            raise ValidationError(sorted(self.items, key=_place_order), file=self.file)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


def file_problem(
    file: str, message: str, message_en: str, fix: str = "", fix_en: str = "", *, field_name: str | None = None
) -> ValidationError:
    """A ValidationError holding one whole-file problem (empty, unreadable, wrong format …)."""
    return ValidationError([Problem(file, WHOLE_FILE, field_name, message, message_en, fix, fix_en)], file=file)
