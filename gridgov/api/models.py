"""Response and request bodies; no model carries a password hash, and rows are built field by field."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict

from gridgov.api.accounts import User
from gridgov.schema import MAX_CAPACITY


def clean(value: Any) -> Any:
    """A JSON-ready value from a store cell: NaN/NaT/NA -> None, numpy scalars -> Python."""
    if value is None:
        return None
    try:
        import pandas as pd

        if value is pd.NaT or value is pd.NA:
            return None
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pass
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        return value.item()
    return value


def _iso_text(value: Any) -> Any:
    # Lax pydantic reads 0 as 1970-01-01: a date must be written out, so a slip is a 422, not 1970.
    if isinstance(value, (int, float)):
        raise ValueError("日期须写作 YYYY-MM-DD / a date must be written YYYY-MM-DD")
    return value


# A plan summary's per-territory and per-grid detail: ~80 KB (grid plan) to ~140 KB (studio
# plan) on the demo city. Lists (plan history, jobs) leave it out; one plan's or job's own
# endpoint has it.
_DETAIL_KEYS = frozenset({"territories", "served"})


def brief_summary(summary: Any) -> Any:
    """A plan summary without its per-territory and per-grid detail (anything else as it is)."""
    return {k: v for k, v in summary.items() if k not in _DETAIL_KEYS} if isinstance(summary, dict) else summary

# Store ids are SQLite/PostgreSQL 64-bit integers: a larger one in a path or query is a 422,
# not the driver's overflow surfacing as a 500.
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]


# Request bodies are strict (false is no latitude, 0 is no "changed" flag); dates stay ISO text.
STRICT = ConfigDict(strict=True)
IsoDate = Annotated[date, Strict(False), BeforeValidator(_iso_text)]


def pick(row: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {n: clean(row.get(n)) for n in names}


class Message(BaseModel):
    message: str
    message_en: str


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str
    wards: list[str] | None = None
    disabled: bool = False

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(username=user.username, display_name=user.display_name, role=user.role,
                   wards=None if user.wards is None else sorted(user.wards), disabled=user.disabled)


class UserCreate(BaseModel):
    model_config = STRICT

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    role: Literal["admin", "planner", "street"]
    wards: list[str] = []
    display_name: str = ""


class PasswordChange(BaseModel):
    model_config = STRICT

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class UserUpdate(BaseModel):
    model_config = STRICT

    password: str | None = Field(default=None, min_length=8, max_length=256)
    role: Literal["admin", "planner", "street"] | None = None
    wards: list[str] | None = None
    disabled: bool | None = None
    display_name: str | None = None


class WardOut(BaseModel):
    code: str
    name: str
    county_code: str | None = None


class Honour(BaseModel):
    model_config = STRICT

    title: str | None = None
    level: str | None = None
    year: int | None = None


class WorkerOut(BaseModel):
    worker_id: str
    name: str
    phone: str | None = None
    employer: str | None = None
    sector: str | None = None
    honours: list[dict[str, Any]] = []
    home_ward: str | None = None
    status: str | None = None
    unavailable_from: date | None = None
    unavailable_to: date | None = None
    capacity: float | None = None
    lon: float | None = None
    lat: float | None = None
    grids: list[str] = []  # grids held in the published plan
    grid_names: list[str | None] = []  # their names, in the same order (a clerk knows 枫华园社区第1网格)


class WorkerCreate(BaseModel):
    model_config = STRICT

    worker_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    employer: str | None = Field(default=None, max_length=128)
    sector: str | None = Field(default=None, max_length=32)
    honours: list[Honour] = []
    home_ward: str
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    capacity: float = Field(default=1.0, gt=0, le=MAX_CAPACITY)


class WorkerUpdate(BaseModel):
    """Contact details and home; status and capacity change through the roster routes."""

    model_config = STRICT

    # Absent = unchanged; null is refused where the store needs a value (a name, a home).
    name: str = Field(default=None, min_length=1, max_length=64)  # type: ignore[assignment]
    phone: str | None = Field(default=None, max_length=32)
    employer: str | None = Field(default=None, max_length=128)
    sector: str | None = Field(default=None, max_length=32)
    honours: list[Honour] = Field(default=None)  # type: ignore[assignment]
    home_ward: str = Field(default=None, min_length=1, max_length=64)  # type: ignore[assignment]
    lon: float = Field(default=None, ge=-180, le=180)  # type: ignore[assignment]
    lat: float = Field(default=None, ge=-90, le=90)  # type: ignore[assignment]


class UnavailableIn(BaseModel):
    model_config = STRICT

    start: IsoDate
    end: IsoDate | None = None


class CapacityIn(BaseModel):
    model_config = STRICT

    capacity: float = Field(gt=0, le=MAX_CAPACITY)


class RosterResult(BaseModel):
    worker_id: str
    changed: dict[str, Any]
    job_id: int | None = None  # the re-solve this change queued (or joined)
    drafts_unpublishable: list[int] = []  # a deletion: the drafts naming the worker, no longer publishable


class PlanOut(BaseModel):
    plan_id: int
    kind: str
    rule: str | None = None
    params: dict[str, Any] | None = None
    scope: list[str] | None = None
    status: str
    created_by: str | None = None
    created_at: datetime | None = None
    published_by: str | None = None
    published_at: datetime | None = None
    solver_status: str | None = None
    objective: float | None = None
    bound: float | None = None
    summary: dict[str, Any] | None = None
    based_on: int | None = None  # the published plan it was solved from (grid plans)


class SolveIn(BaseModel):
    model_config = STRICT

    # None (or absent) is the whole city; an empty list is an empty ward picker, not a city solve.
    wards: list[str] | None = Field(default=None, min_length=1)
    changed: bool = False
    rule: Literal["one", "several", "auto"] = "auto"
    time_limit: float = Field(default=10.0, gt=0, le=600)
    # As `gridgov solve` takes them: the page and API clients could not ask for either.
    ward_rules: dict[str, Literal["one", "several", "auto"]] = Field(default_factory=dict)
    contiguity: bool = True
    balance: float | None = Field(default=None, ge=0)


class MoveOut(BaseModel):
    grid_code: str
    ward_code: str
    before: str | None
    after: str | None


class DiffOut(BaseModel):
    a: int
    b: int
    moves: list[MoveOut]


class PublishedOut(BaseModel):
    """Which plan a street office's list comes from (a printed sheet must say so)."""

    plan_id: int | None = None
    published_at: datetime | None = None


class AssignmentOut(BaseModel):
    grid_code: str
    grid_name: str | None = None
    ward_code: str
    worker_id: str | None = None
    worker_name: str | None = None
    reason: str | None = None


class JobOut(BaseModel):
    job_id: int
    kind: str
    status: str
    params: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None
    message: str | None = None
    plan_id: int | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None


class LedgerOut(BaseModel):
    entry_id: int
    at: datetime
    actor: str
    action: str
    action_label: str
    subject: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class ImportOut(BaseModel):
    layer: str
    file: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    dry_run: bool
    notices: list[dict[str, Any]] = []
    message: str
    message_en: str


class Problem(BaseModel):
    """One thing wrong with a request or an uploaded file, in both languages, with how to fix it."""

    file: str | None = None
    where: str | None = None
    field: str | None = None
    message: str
    message_en: str
    fix: str | None = None
    fix_en: str | None = None


class ErrorDetail(BaseModel):
    message: str
    message_en: str
    problems: list[Problem] | None = None


class ErrorOut(BaseModel):
    """Every error answer: {"detail": {"message": 中文, "message_en": English, "problems"?: [...]}}."""

    detail: ErrorDetail


def _error(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"model": ErrorOut, "description": description}
    if retry_after:
        out["headers"] = {"Retry-After": {"description": "秒 / seconds to wait", "schema": {"type": "string"}}}
    return out


# Documented on every route, so clients (and the schemathesis run in CI) know every answer.
SERVICE_ERRORS: dict[int | str, dict[str, Any]] = {
    422: _error("请求或文件有误（逐条说明）/ the request or file is invalid (every problem listed)"),
    503: _error("数据库暂不可用，稍后重试 / the database is away: retry later", retry_after=True),
}
SIGNED_IN_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("无法执行（原因见说明）/ cannot be done (the message says why)"),
    401: _error("未登录或登录已过期 / not signed in or the session expired"),
    403: _error("角色无权使用 / the role may not use this route"),
    404: _error("不存在或不在您负责的街道内 / does not exist or is outside your wards"),
    409: _error("该街道正在求解，稍后重试 / a solve holds the ward: retry when it has finished"),
    **SERVICE_ERRORS,
}
TOO_MANY = _error("登录失败次数过多，请稍后再试 / too many failed sign-ins: wait and retry", retry_after=True)
TOO_LARGE = _error("文件过大 / the file is too large")
NOT_AVAILABLE = _error("地图模块不可用 / the maps module is not available")
