"""A sparse-matrix MIP front end over OR-Tools' model builder (HiGHS or SCIP back-end)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder_helper as mbh


@dataclass(frozen=True)
class MipModel:
    """min/max ``obj @ x + offset`` s.t. ``row_lb <= A x <= row_ub``, ``lb <= x <= ub``."""

    a: sp.csr_matrix
    row_lb: np.ndarray
    row_ub: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    obj: np.ndarray
    integer: np.ndarray  # indices of the integer (binary) columns
    offset: float = 0.0
    maximize: bool = False


@dataclass(frozen=True)
class MipOutcome:
    """What the solver found: ``x`` is None when it has no solution."""

    x: np.ndarray | None
    objective: float | None
    bound: float | None
    proven: bool
    infeasible: bool


def _params(backend: str, workers: int) -> str:
    # Quiet, and deterministic in the number of threads we were given (cores are shared).
    if backend == "highs":
        return f"log_to_console=false\noutput_flag=false\nthreads={max(1, workers)}"
    return f"parallel/maxnthreads = {max(1, workers)}"


def solve_mip(
    model: MipModel,
    *,
    time_limit: float,
    cutoff: float | None = None,
    workers: int = 1,
    backend: str = "highs",
) -> MipOutcome:
    """Solve ``model``; ``cutoff`` (minimisation) prunes every node that cannot beat it.

    A cutoff rather than a solution hint: OR-Tools 9.15 crashes passing hints to HiGHS.
    With a cutoff, "infeasible" can also mean "nothing better than the cutoff".
    """
    helper = mbh.ModelBuilderHelper()
    helper.fill_model_from_sparse_data(
        model.lb.astype(float),
        model.ub.astype(float),
        model.obj.astype(float),
        model.row_lb.astype(float),
        model.row_ub.astype(float),
        sp.csr_matrix(model.a, dtype=float),
    )
    for j in model.integer:
        helper.set_var_integrality(int(j), True)
    helper.set_objective_offset(float(model.offset))
    helper.set_maximize(model.maximize)
    solver = mbh.ModelSolverHelper(backend)
    params = _params(backend, workers)
    if cutoff is not None and backend == "highs" and not model.maximize:
        params += f"\nobjective_bound={cutoff!r}"
    solver.set_solver_specific_parameters(params)
    solver.set_time_limit_in_seconds(max(0.05, float(time_limit)))
    solver.solve(helper)
    status = solver.status()
    if status == mbh.SolveStatus.INFEASIBLE:
        return MipOutcome(None, None, None, proven=True, infeasible=True)
    if not solver.has_solution():
        return MipOutcome(None, None, _bound(solver, model), proven=False, infeasible=False)
    x = np.asarray(solver.variable_values(), dtype=float)
    proven = status == mbh.SolveStatus.OPTIMAL
    return MipOutcome(x, float(solver.objective_value()), _bound(solver, model), proven, False)


def _bound(solver: mbh.ModelSolverHelper, model: MipModel) -> float | None:
    try:
        value = float(solver.best_objective_bound())
    except Exception:  # some back-ends have no bound to give
        return None
    return value if np.isfinite(value) else None


def stack(blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]], shape: tuple[int, int]) -> sp.csr_matrix:
    """A CSR matrix from (rows, cols, values) triples; duplicates are summed."""
    rows = np.concatenate([b[0] for b in blocks]).astype(np.int64)
    cols = np.concatenate([b[1] for b in blocks]).astype(np.int64)
    vals = np.concatenate([np.broadcast_to(b[2], b[0].shape) for b in blocks]).astype(float)
    return sp.csr_matrix((vals, (rows, cols)), shape=shape)
