"""A planner's first look at the demo: counts, households, density contrast, roster mix."""

from __future__ import annotations

from typing import Any

import numpy as np

from gridgov.demo.build import DemoData
from gridgov.geo.crs import to_metric

URBAN_COUNTIES = ("410802", "410803", "410804", "410811", "410871")


def summarize(data: DemoData) -> dict[str, Any]:
    """Counts per layer and the figures that show the demo is shaped like the city."""
    grids, workers = data.grids, data.workers
    km2 = to_metric(grids).area.to_numpy() / 1e6
    urban = grids["ward_code"].str[:6].isin(URBAN_COUNTIES).to_numpy()
    hh = grids["households"].to_numpy(dtype=float)
    active = workers[workers["status"] == "active"]
    per_ward = active.groupby("home_ward").size().reindex(data.wards["code"], fill_value=0)
    grids_per_ward = grids.groupby("ward_code").size().reindex(data.wards["code"], fill_value=0)
    return {
        "counties": len(data.counties),
        "wards": len(data.wards),
        "grids": len(grids),
        "special_grids": int((grids["kind"] == "专属").sum()),
        "households": int(hh.sum()),
        "population": int(grids["population"].sum()),
        "households_per_km2_urban": round(float(hh[urban].sum() / km2[urban].sum()), 1),
        "households_per_km2_rural": round(float(hh[~urban].sum() / km2[~urban].sum()), 1),
        "workers": len(workers),
        "workers_active": len(active),
        "workers_by_sector": {k: int(v) for k, v in workers["sector"].value_counts().items()},
        "wards_one_worker_per_grid_feasible": int(np.sum(per_ward.to_numpy() >= grids_per_ward.to_numpy())),
        "incidents": len(data.incidents),
        "incidents_by_type": {k: int(v) for k, v in data.incidents["type"].value_counts().items()},
        "sites": len(data.sites),
        "existing_studios": int(data.sites["existing"].sum()),
    }
