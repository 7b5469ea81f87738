"""Mediation studios (planners): the published studio plan, else the newest draft."""

from __future__ import annotations

from fastapi import APIRouter

from gridgov.api.deps import PlannerUser, StoreDep
from gridgov.api.errors import http_error
from gridgov.api.models import PlanOut
from gridgov.api.routes.plans import plan_out

router = APIRouter(prefix="/studios", tags=["studios"])


@router.get("", response_model=PlanOut)
def studios(store: StoreDep, _user: PlannerUser) -> PlanOut:
    """调解工作室方案（已发布优先，否则最新草稿；工作室与人员在 summary 中）/ the studio plan."""
    from gridgov.plans.studios import latest_studio_plan

    plan = latest_studio_plan(store)
    if plan is None:
        raise http_error(404, "尚无调解工作室方案：请先运行工作室布局", "no studio plan yet: place studios first")
    return plan_out(plan)
