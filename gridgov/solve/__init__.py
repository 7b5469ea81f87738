"""The optimisation core: plain numpy arrays in, frozen result dataclasses out; no geometry, no I/O."""

from __future__ import annotations

from typing import Any

__all__ = ["AllocationResult", "SiteResult", "allocate", "place_sites"]


def __getattr__(name: str) -> Any:
    # Lazy, so importing one solver does not pay for the other (and OR-Tools loads on first use).
    if name in ("allocate", "AllocationResult"):
        from gridgov.solve import allocation as _mod

        return getattr(_mod, name)
    if name in ("place_sites", "SiteResult"):
        from gridgov.solve import sites as _mod

        return getattr(_mod, name)
    raise AttributeError(name)
