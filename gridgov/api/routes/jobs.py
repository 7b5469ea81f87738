"""Background jobs (planners): list and read, with progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gridgov.api.deps import PlannerUser, StoreDep
from gridgov.api.errors import http_error
from gridgov.api.models import JobOut, RowId, brief_summary, pick

router = APIRouter(prefix="/jobs", tags=["jobs"])
_FIELDS = list(JobOut.model_fields)


@router.get("", response_model=list[JobOut])
def jobs(store: StoreDep, _user: PlannerUser, limit: int = 50) -> list[JobOut]:
    """最近的后台任务（片区明细见单个任务）/ recent background jobs, newest first (per-territory
    detail: GET /api/jobs/{job_id})."""
    rows = store.load("jobs", order_by="job_id DESC").head(max(1, min(limit, 500)))
    return [JobOut(**_brief(pick(r, _FIELDS))) for r in rows.to_dict("records")]


def _brief(job: dict[str, Any]) -> dict[str, Any]:
    """The job without its plan summary's per-territory detail (~78 KB for a city solve), which
    the page polls every second while a job runs; the plan itself keeps it."""
    progress = job.get("progress")
    if isinstance(progress, dict) and "summary" in progress:
        job = {**job, "progress": {**progress, "summary": brief_summary(progress["summary"])}}
    return job


@router.get("/{job_id}", response_model=JobOut)
def job(job_id: RowId, store: StoreDep, _user: PlannerUser) -> JobOut:
    """一个任务的状态与进度 / one job's status and progress."""
    rows = store.load("jobs", where={"job_id": job_id})
    if rows.empty:
        raise http_error(404, f"没有编号为 {job_id} 的任务", f"no job with id {job_id}")
    return JobOut(**pick(rows.iloc[0].to_dict(), _FIELDS))
