"""What the solvers share: status names, integer cost scaling, gaps, progress callbacks, timing."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

# "unknown": no plan within the time limit, and none proven impossible (more time may find one).
Status = Literal["optimal", "feasible", "infeasible", "unknown"]

# Progress callbacks receive (event, payload): e.g. ("solution", {"objective": 12.0, "bound": 10.0}).
ProgressCallback = Callable[[str, dict], None]


# "optimal" claims a plan within this relative gap of a proven bound: costs are scaled to
# integers, so a proof for the rounded costs leaves a sliver (up to ~5e-6 seen on real instances).
PROOF_GAP = 1e-5


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """(objective - bound) / |objective|, 0 when proven; None when either is unknown."""
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    if objective == bound:
        return 0.0
    return max(0.0, (objective - bound) / max(abs(objective), 1e-9))


@dataclass(frozen=True)
class IntegerScale:
    """Costs scaled to integers for CP-SAT / network flows; ``unscale`` maps back.

    The scale is chosen so the largest finite cost fits ``max_int`` and so integer-valued
    input (OR-Library instances, metres rounded) stays exact.
    """

    factor: float

    @classmethod
    def for_costs(cls, cost: np.ndarray, *, max_int: int = 10**7) -> IntegerScale:
        finite = cost[np.isfinite(cost)]
        if finite.size == 0:
            return cls(1.0)
        top = float(np.abs(finite).max())
        if np.all(finite == np.round(finite)) and top <= max_int:
            return cls(1.0)
        return cls(max_int / top if top > 0 else 1.0)

    def to_int(self, cost: np.ndarray) -> np.ndarray:
        return np.round(np.where(np.isfinite(cost), cost, 0.0) * self.factor).astype(np.int64)

    def unscale(self, value: float) -> float:
        return value / self.factor


class Stopwatch:
    """Wall-clock seconds since creation."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._t0

    def remaining(self, limit: float) -> float:
        return max(0.0, limit - self.elapsed)
