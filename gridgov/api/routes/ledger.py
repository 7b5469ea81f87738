"""The ledger (who changed what, when): planners see all; a street office only its visible workers' entries."""

from __future__ import annotations

from fastapi import APIRouter

from gridgov.api.deps import ScopeDep, StoreDep
from gridgov.api.models import LedgerOut, pick
from gridgov.plans.ledger import ACTIONS, without_past_contacts

router = APIRouter(prefix="/ledger", tags=["ledger"])


@router.get("", response_model=list[LedgerOut])
def ledger(store: StoreDep, scope: ScopeDep, limit: int = 200, offset: int = 0) -> list[LedgerOut]:
    """工作台账，新的在前 / ledger entries, newest first.

    A street office sees only roster entries (worker.*) about workers it can see, without past
    phone numbers and homes (a worker's earlier record may be from another ward): publishes,
    imports and account changes are city-wide and stay with planners.
    """
    rows = store.load("ledger", order_by="entry_id DESC")
    visible = scope.worker_ids(store)
    if visible is not None:
        rows = rows[rows["action"].str.startswith("worker.") & rows["subject"].isin(visible)]
    rows = rows.iloc[max(0, offset): max(0, offset) + max(1, min(limit, 1000))]
    entries = rows.to_dict("records")
    if visible is not None:
        for r in entries:
            r["before"], r["after"] = without_past_contacts(r["before"]), without_past_contacts(r["after"])
    return [LedgerOut(**pick(r, ["entry_id", "at", "actor", "action", "subject", "before", "after"]),
                      action_label=ACTIONS.get(r["action"], r["action"]))
            for r in entries]
