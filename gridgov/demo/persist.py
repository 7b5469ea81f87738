"""Write the demo into a store: all six layers replaced in one transaction."""

from __future__ import annotations

from gridgov.demo.build import DemoData
from gridgov.store import Store


def save_demo(store: Store, data: DemoData) -> dict[str, int]:
    """Replace the demo layers in ``store`` atomically; returns rows written per layer."""
    layers = data.layers()
    counts: dict[str, int] = {}
    with store.transaction():
        for name in reversed(layers):  # dependants first, should a backend ever enforce keys
            store.delete(name)
        for name, frame in layers.items():
            counts[name] = store.save(name, frame)
    return counts
