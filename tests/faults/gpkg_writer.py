"""Child process for the SIGKILL tests: a long GeoPackage write that says when it is half done, then dawdles."""

from __future__ import annotations

import sys
import time

from shapely.geometry import Point

import gridgov.plans.imports as imports
from gridgov.store import open_store


def main(path: str, mode: str, roster: str) -> None:
    store = open_store(path)
    # A tiny page cache: pages spill into the file before COMMIT, so the file itself is half
    # rewritten when the kill comes and only the rollback journal can restore it.
    store._conn.execute("PRAGMA cache_size = 2")
    if mode == "save":
        with store.transaction():
            for batch in range(10_000):
                store.save("workers", [
                    {"worker_id": f"K{batch:05d}{i:02d}", "name": "新劳模", "home_ward": "410802001",
                     "status": "active", "capacity": 2.0, "phone": "13800000000",
                     "geometry": Point(113.201 + i * 1e-4, 35.205)}
                    for i in range(50)
                ])
                if batch == 20:
                    print("half", flush=True)
                time.sleep(0.01)
    else:  # import a large roster: all rows upserted, then the ledger entries crawl
        record = imports.record
        said = []

        def slow_record(*args: object, **kwargs: object) -> None:
            if not said:
                said.append(1)
                print("half", flush=True)
            time.sleep(0.05)
            record(*args, **kwargs)

        imports.record = slow_record
        imports.import_file(store, "workers", roster, actor="child")
    print("finished", flush=True)  # the test kills us long before


if __name__ == "__main__":
    main(*sys.argv[1:4])
