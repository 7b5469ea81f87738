"""Small use cases the API needs that the plans package does not offer yet (candidates to move there)."""

from __future__ import annotations

from typing import Any

from shapely.geometry import Point

from gridgov.errors import NotFoundError, UserError
from gridgov.plans.ledger import changed_fields, record
from gridgov.store import SqlStore


def update_worker(store: SqlStore, worker_id: str, values: dict[str, Any], *, actor: str) -> dict:
    """Change a worker's contact details or home (on the ledger as worker.update, changed fields only)."""
    values = dict(values)
    lon, lat = values.pop("lon", None), values.pop("lat", None)
    with store.transaction():
        rows = store.load("workers", where={"worker_id": worker_id})
        if rows.empty:
            raise NotFoundError(f"没有编号为 {worker_id} 的劳模", f"no worker with id {worker_id}")
        before = rows.iloc[0].to_dict()
        if (lon is None) != (lat is None):
            raise UserError("修改住址需同时给出经度和纬度", "a new home needs both lon and lat")
        if values.get("home_ward") and not store.count("wards", where={"code": values["home_ward"]}):
            raise UserError(f"没有街道 {values['home_ward']}", f"no ward {values['home_ward']}")
        diff = changed_fields(before, values)
        if lon is not None:
            home = Point(float(lon), float(lat))
            old = before.get("geometry")
            if old is None or not old.equals(home):
                diff["geometry"] = (None if old is None else old.wkt, home.wkt)
        if not diff:
            return {}
        full = {**before, **values}
        if lon is not None:
            full["geometry"] = Point(float(lon), float(lat))
        store.save("workers", [full])
        record(store, actor=actor, action="worker.update", subject=worker_id,
               before={k: o for k, (o, _) in diff.items()}, after={k: n for k, (_, n) in diff.items()})
    return diff
