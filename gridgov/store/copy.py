"""Copy a whole store into a new, empty one: GeoPackage to PostgreSQL when a city outgrows the file."""

from __future__ import annotations

from gridgov.errors import StoreError, UserError
from gridgov.schema import LAYERS
from gridgov.store.base import SqlStore

# Locks belong to the processes running on the source; everything else is the city's record.
COPIED: tuple[str, ...] = tuple(name for name in LAYERS if name != "locks")


def copy_store(source: SqlStore, target: SqlStore) -> dict[str, int]:
    """Every layer of ``source`` into ``target``, ids kept (plans, ledger entries, jobs), in one
    transaction; rows per layer. The target must hold no rows: a copy merged into another
    city's data could not be told apart from it. Its id counters continue after the copied ids
    (on PostgreSQL they stayed at 1 and the first new ledger entry collided with entry 1)."""
    held = {name: n for name in COPIED if (n := target.count(name))}
    if held:
        listed = "、".join(f"{name} {n}" for name, n in held.items())
        raise UserError(
            f"目标数据库 {target.url} 已有数据（{listed}）：请复制到新建的空数据库",
            f"the target store {target.url} is not empty ({', '.join(f'{k} {v}' for k, v in held.items())}): "
            "copy into a new, empty store",
        )
    counts: dict[str, int] = {}
    with source.snapshot(), target.transaction():
        for name in COPIED:
            rows = source.load(name)
            target.save(name, rows)
            counts[name] = len(rows)
        for name in COPIED:
            if LAYERS[name].autoincrement:
                target.continue_ids(name)
        written = {name: target.count(name) for name in COPIED}
        if written != counts:
            raise StoreError(f"复制后的行数与原数据库不一致：{written} ≠ {counts}（未写入）",
                             f"row counts after the copy differ from the source: {written} != {counts} (nothing written)")
    return counts
