"""One error hierarchy for gridgov, with bilingual (Chinese first) messages."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Places that are not a numbered row or feature (io.problems names them).
_PLACES_EN = {"整个文件": "whole file", "表头": "header", "修改内容": "the change"}
_FIELDS_EN = {"几何": "geometry", "住址坐标": "home point"}  # fields gridgov names itself (a file's own headers stay)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located precisely enough to fix it.

    ``where`` names the row or feature as a user sees it (``第 3 行`` / ``row 3``,
    ``要素 12`` / ``feature 12``), ``field`` the column, and ``fix`` what to do.
    """

    file: str
    where: str
    field: str | None
    message: str
    message_en: str
    fix: str = ""
    fix_en: str = ""

    @property
    def where_en(self) -> str:
        """``where`` in English: ``第 3 行`` → ``row 3``, ``要素 12`` → ``feature 12`` …"""
        m = re.fullmatch(r"第 (\d+) 行", self.where)
        if m:
            return f"row {m[1]}"
        m = re.fullmatch(r"要素 (\d+)", self.where)
        if m:
            return f"feature {m[1]}"
        return _PLACES_EN.get(self.where, self.where)

    def render(self, lang: str = "zh") -> str:
        if lang == "en":
            field = _FIELDS_EN.get(self.field or "", self.field)
            loc = ", ".join(x for x in (self.file, self.where_en, field) if x)
            text = f"{loc}: {self.message_en}"
            return f"{text} — fix: {self.fix_en}" if self.fix_en else text
        loc = ", ".join(x for x in (self.file, self.where, self.field) if x)
        text = f"{loc}：{self.message}"
        return f"{text}（修正：{self.fix}）" if self.fix else text


class GridgovError(Exception):
    """Base of every error gridgov raises on purpose; carries a Chinese and an English text."""

    exit_code = 1
    # How to do it on the command line, (Chinese, English): the CLI prints it after the message;
    # the page, which has its own buttons, never shows it (clerks were told to add --reinstate).
    cli_hint: tuple[str, str] | None = None

    def __init__(self, message: str, message_en: str | None = None) -> None:
        super().__init__(message_en or message)
        self.message = message
        self.message_en = message_en or message

    def render(self, lang: str = "zh") -> str:
        return self.message_en if lang == "en" else self.message


class UserError(GridgovError):
    """The user asked for something that cannot be done as asked (bad option, unknown code)."""

    exit_code = 2


class ValidationError(UserError):
    """An input failed validation; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem], *, file: str = "") -> None:
        self.problems = list(problems)
        n = len(self.problems)
        head_zh = f"{file} 有 {n} 处问题，未写入任何数据" if file else f"发现 {n} 处问题，未写入任何数据"
        head_en = (
            f"{file} has {n} problem(s); nothing was written"
            if file
            else f"{n} problem(s) found; nothing was written"
        )
        super().__init__(head_zh, head_en)

    def render(self, lang: str = "zh") -> str:
        head = super().render(lang)
        return "\n".join([head, *("  - " + p.render(lang) for p in self.problems)])


class InfeasibleError(GridgovError):
    """A model has no feasible solution under its hard constraints."""

    exit_code = 2


class SolverError(GridgovError):
    """A solver library answered with a status other than a solution (a cost range it cannot
    take, an internal failure): nothing was stored; the numbers are for a bug report."""

    exit_code = 3

    def __init__(self, what: str, what_en: str, status: object) -> None:
        super().__init__(f"{what}求解失败（求解器状态 {status}），未保存任何结果：请把这条信息报告给维护者",
                         f"{what_en} failed (solver status {status}); nothing was stored: report this to the maintainers")


class NotFoundError(UserError):
    """A named thing (ward, plan, worker) does not exist."""


class StoreError(GridgovError):
    """The store failed to read or write; the store is left as it was."""

    exit_code = 3


def cause_for_log(exc: GridgovError) -> str:
    """The first line of an error's English message, without what a database quotes after it
    (PostgreSQL's "DETAIL: Failing row contains (W001, 张卫国, …)"): what an administrator's log
    may hold — the cause, not the row, which can hold names and phones."""
    first = exc.message_en.split("\n", 1)[0]
    return first.split("DETAIL:", 1)[0].rstrip()


class StoreUnavailableError(StoreError):
    """The database cannot be reached (stopped, wrong URL); retry when it is back."""


class StoreReadOnlyError(StoreUnavailableError):
    """The store answers but cannot take writes (a full disk, a read-only file or role)."""


class SchemaVersionError(StoreError):
    """The store was written by a newer gridgov than this one."""


class MissingExtraError(GridgovError):
    """An optional dependency is not installed; the message names the extra to install."""

    exit_code = 2

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"需要可选依赖 {package}：请运行 pip install 'gridgov[{extra}]'",
            f"the optional dependency {package} is missing: pip install 'gridgov[{extra}]'",
        )
        self.package = package
        self.extra = extra


class LockedError(UserError):
    """Another solve holds a ward this one needs; retry when it has finished."""

    def __init__(self, ward: str, *, holder: str | None = None) -> None:
        by_zh = f"（{holder}）" if holder else ""
        by_en = f" ({holder})" if holder else ""
        super().__init__(
            f"另一个求解{by_zh}正在处理街道 {ward}，请等它完成后再试",
            f"another solve{by_en} is working on ward {ward}: try again when it has finished",
        )
        self.ward = ward
        self.holder = holder


class ChangedMeanwhileError(UserError):
    """Rows an import read changed (another import, a roster change) before it wrote: writing it
    would put back what the other change replaced. Nothing was written; import the file again."""

    def __init__(self, file: str, keys: list[str]) -> None:
        shown = "、".join(keys[:10]) + (f" 等 {len(keys)} 条" if len(keys) > 10 else "")
        shown_en = ", ".join(keys[:10]) + (f" and {len(keys) - 10} more" if len(keys) > 10 else "")
        super().__init__(
            f"{file}：导入期间 {shown} 已被他人修改，本次未写入任何数据；请重新导入（将按最新数据比较）",
            f"{file}: {shown_en} changed while this import was checked; nothing was written: "
            "import the file again (it will be compared with the new data)",
        )
        self.keys = keys


class DeletedWorkerIdError(UserError):
    """The id belongs to a row deleted as entered by mistake: the ledger keeps that person's record
    under it, so a new person must not take it (their histories would mix, and a street office
    seeing the new one would read the other's)."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(
            f"编号 {worker_id} 属于已删除的误录记录（工作台账保留其信息）：先在工作台账中恢复它再修改；新人员请换一个编号",
            f"worker id {worker_id} belongs to a row deleted as entered by mistake (the ledger keeps it): "
            "restore it from the ledger and edit it, or give a new person another id",
        )
        self.cli_hint = (f"命令行：gridgov worker restore {worker_id}", f"on the command line: gridgov worker restore {worker_id}")
        self.worker_id = worker_id


class StalePlanError(UserError):
    """Publishing this plan would undo changes published since it was solved."""

    def __init__(self, plan_id: int, published_id: int, based_on: int) -> None:
        was = f"在方案 {based_on} 的基础上" if based_on else "在尚无发布方案时"
        was_en = f"from plan {based_on}" if based_on else "while no plan was published"
        super().__init__(
            f"方案 {plan_id} 是{was}求解的，当前已发布的是方案 {published_id}：发布它会撤销"
            f"方案 {published_id} 中的调整。请先重新求解变动的街道，或确认要回退后强制发布",
            f"plan {plan_id} was solved {was_en}, but plan {published_id} is published now: "
            f"publishing it would undo plan {published_id}'s changes. Re-solve the changed wards first, "
            f"or force the publish to roll back on purpose",
        )
        self.plan_id, self.published_id = plan_id, published_id


class RetiredWorkerError(UserError):
    """Bringing back a worker who left the roster (退出) is a decision of its own, not 恢复可用."""

    def __init__(self, worker_id: str, *, action: str = "available") -> None:
        if action == "unavailable":
            super().__init__(
                f"劳模 {worker_id} 已退出名册，不能登记暂不可用（登记后会回到名册）。如确需重新启用，请先确认重新启用",
                f"worker {worker_id} has left the roster (retired): an absence cannot be booked for them (it would "
                "bring them back). To bring them back, reinstate them first",
            )
        else:
            super().__init__(
                f"劳模 {worker_id} 已退出名册：恢复可用只用于暂不可用的劳模。如确需重新启用，请确认",
                f"worker {worker_id} has left the roster (retired): 'available' is for workers back from an "
                "absence. To bring them back, confirm it",
            )
        self.cli_hint = (f"命令行：gridgov worker available {worker_id} --reinstate",
                         f"on the command line: gridgov worker available {worker_id} --reinstate")
        self.worker_id = worker_id


class AbsenceReplaceError(UserError):
    """A worker has one absence on record: a new one that drops days of one not yet over is confirmed."""

    def __init__(self, worker_id: str, start: str, end: str | None) -> None:
        until_zh, until_en = end or "待定", end or "further notice"
        super().__init__(
            f"劳模 {worker_id} 已登记暂不可用 {start} 至 {until_zh}（尚未结束）。每名劳模只记一段暂不可用，"
            f"新的登记会替换它，这段时间将不再计入。确认后替换",
            f"worker {worker_id} already has an absence from {start} to {until_en}, not over yet. A worker has one "
            f"absence on record: the new one would replace it and those days would be lost. Replace it once confirmed",
        )
        self.cli_hint = ("命令行：确认替换请加 --replace", "on the command line: confirm with --replace")
        self.worker_id = worker_id


class WorkerInPlansError(UserError):
    """A worker a published or past plan names stays on the roster: its history must keep reading."""

    def __init__(self, worker_id: str, plan_ids: list[int]) -> None:
        listed = "、".join(map(str, plan_ids))
        super().__init__(
            f"劳模 {worker_id} 出现在已发布或历史方案 {listed} 中，不能删除（方案记录要能查到此人）。"
            "已离开的劳模请用“退出”",
            f"worker {worker_id} is named in published or past plans {', '.join(map(str, plan_ids))} and cannot be "
            "deleted (those plans must still read). For a worker who left, retire them instead",
        )
        self.cli_hint = (f"命令行：gridgov worker retire {worker_id}", f"on the command line: gridgov worker retire {worker_id}")
        self.worker_id, self.plan_ids = worker_id, plan_ids
