"""Excel exports: one ward's 包格台账 (street offices: their own), the whole city plan (planners)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from gridgov.api.deps import PlannerUser, ScopeDep, StoreDep
from gridgov.api.models import RowId
from gridgov.plans.versions import plan_or_published
from gridgov.plans.workbook import ledger_xlsx, workbook_title

router = APIRouter(prefix="/exports", tags=["exports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(data: bytes, name: str) -> Response:
    # RFC 5987: browsers keep the Chinese file name; the ASCII fallback is for old clients.
    disposition = f"attachment; filename=\"gridgov.xlsx\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": disposition})


@router.get("/wards/{code}.xlsx", response_class=Response)
def ward_xlsx(code: str, store: StoreDep, scope: ScopeDep) -> Response:
    """本街道包格台账（已发布方案）/ one ward's assignments with contacts, from the published plan."""
    scope.require_ward(store, code)
    plan_id = plan_or_published(store, None)
    title = workbook_title(store, plan_id, [code])
    return _download(ledger_xlsx(store, plan_id, [code], title=title), f"{title.replace(' ', '_')}.xlsx")


@router.get("/plan.xlsx", response_class=Response)
def plan_xlsx(store: StoreDep, _user: PlannerUser, plan_id: RowId | None = None) -> Response:
    """全市方案台账（默认已发布方案）/ the whole city plan (published unless plan_id)."""
    pid = plan_or_published(store, plan_id)
    return _download(ledger_xlsx(store, pid, None, title=workbook_title(store, pid, None)), f"全市方案_{pid}.xlsx")
