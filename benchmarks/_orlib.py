"""Readers for the OR-Library instances in shared/benchmarks (p-median and capacitated p-median)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

# shared/ sits beside the repository (main/ and shared/ are siblings).
SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"


@dataclass(frozen=True)
class PMedInstance:
    """One OR-Library pmed instance: all-pairs shortest-path distances and p."""

    name: str
    distance: np.ndarray
    p: int
    optimum: int


@dataclass(frozen=True)
class CPMPInstance:
    """One Osman & Christofides capacitated p-median instance (cost = floor of Euclidean distance)."""

    name: str
    distance: np.ndarray
    demand: np.ndarray
    capacity: float
    p: int
    optimum: int


def read_optima(folder: Path, *, key: str = "instance") -> dict[str, dict[str, str]]:
    """Rows of ``optimal.csv`` keyed by instance name."""
    with open(folder / "optimal.csv", newline="", encoding="utf-8") as fh:
        return {row[key]: row for row in csv.DictReader(fh)}


def read_pmed(k: int, *, folder: Path | None = None) -> PMedInstance:
    """pmed``k``: shortest paths over the undirected edges, the LAST duplicate edge winning."""
    folder = folder or SHARED / "pmed"
    tokens = (folder / f"pmed{k}.txt").read_text().split()
    n, m, p = (int(t) for t in tokens[:3])
    triples = np.array(tokens[3 : 3 + 3 * m], dtype=np.int64).reshape(m, 3)
    # A dict keeps the last cost written for each unordered pair: the README's rule.
    last: dict[tuple[int, int], int] = {}
    for i, j, c in triples:
        a, b = (int(i) - 1, int(j) - 1)
        last[(min(a, b), max(a, b))] = int(c)
    rows = np.array([a for a, _ in last], dtype=np.int64)
    cols = np.array([b for _, b in last], dtype=np.int64)
    cost = np.array(list(last.values()), dtype=float)
    graph = coo_matrix((cost, (rows, cols)), shape=(n, n)).tocsr()
    dist = shortest_path(graph, method="D", directed=False)
    optimum = int(read_optima(folder)[f"pmed{k}"]["optimal"])
    return PMedInstance(f"pmed{k}", dist, p, optimum)


def read_cpmp(k: int, *, folder: Path | None = None) -> CPMPInstance:
    """The k-th (1-based) capacitated instance; cost is the floor of the Euclidean distance."""
    folder = folder or SHARED / "cpmp"
    name = f"pmedcap1-{k}"
    row = read_optima(folder)[name]
    tokens = (folder / row["file"]).read_text().split()
    n, p, cap = int(tokens[2]), int(tokens[3]), float(tokens[4])
    body = np.array(tokens[5 : 5 + 4 * n], dtype=float).reshape(n, 4)
    xy, demand = body[:, 1:3], body[:, 3]
    dist = np.floor(np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)))
    return CPMPInstance(name, dist, demand, cap, p, int(row["optimal"]))


def parse_range(text: str, *, top: int) -> list[int]:
    """'1-5,8' -> [1, 2, 3, 4, 5, 8], each within 1..top."""
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    bad = [k for k in out if not 1 <= k <= top]
    if bad:
        raise SystemExit(f"instance numbers out of 1..{top}: {bad}")
    return out
