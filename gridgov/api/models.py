"""Response and request bodies; no model carries a password hash, and rows are built field by field."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from gridgov.api.accounts import User


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
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    role: Literal["admin", "planner", "street"]
    wards: list[str] = []
    display_name: str = ""


class UserUpdate(BaseModel):
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


class WorkerCreate(BaseModel):
    worker_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    employer: str | None = Field(default=None, max_length=128)
    sector: str | None = Field(default=None, max_length=32)
    honours: list[Honour] = []
    home_ward: str
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    capacity: float = Field(default=1.0, gt=0, le=50)


class WorkerUpdate(BaseModel):
    """Contact details and home; status and capacity change through the roster routes."""

    name: str | None = Field(default=None, min_length=1, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    employer: str | None = Field(default=None, max_length=128)
    sector: str | None = Field(default=None, max_length=32)
    honours: list[Honour] | None = None
    home_ward: str | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)


class UnavailableIn(BaseModel):
    start: date
    end: date | None = None


class CapacityIn(BaseModel):
    capacity: float = Field(gt=0, le=50)


class RosterResult(BaseModel):
    worker_id: str
    changed: dict[str, Any]
    job_id: int | None = None  # the re-solve this change queued (or joined)


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


class SolveIn(BaseModel):
    wards: list[str] | None = None
    changed: bool = False
    rule: Literal["one", "several", "auto"] = "auto"
    time_limit: float = Field(default=10.0, gt=0, le=600)


class MoveOut(BaseModel):
    grid_code: str
    ward_code: str
    before: str | None
    after: str | None


class DiffOut(BaseModel):
    a: int
    b: int
    moves: list[MoveOut]


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
