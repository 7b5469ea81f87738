"""Colour territories so that neighbours never share a colour (DSatur on the territory graph)."""

from __future__ import annotations

import colorsys
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np

# ColorBrewer Set3 without its red (red marks uncovered grids) and its grey (grey means
# "unchanged" on the diff map): light enough that outlines and heat stay readable on top.
PALETTE: tuple[str, ...] = (
    "#8dd3c7", "#ffffb3", "#bebada", "#80b1d3", "#fdb462",
    "#b3de69", "#fccde5", "#bc80bd", "#ccebc5", "#ffed6f",
)


def territory_graph(
    owners: Sequence[Hashable | None], edges: np.ndarray
) -> dict[Hashable, set[Hashable]]:
    """Owner -> neighbouring owners, from grid owners and grid adjacency pairs (i, j).

    Two territories are neighbours when any grid of one shares an edge with a grid of the
    other; uncovered grids (owner None) belong to no territory.
    """
    graph: dict[Hashable, set[Hashable]] = {o: set() for o in owners if o is not None}
    for i, j in edges:
        a, b = owners[int(i)], owners[int(j)]
        if a is not None and b is not None and a != b:
            graph[a].add(b)
            graph[b].add(a)
    return graph


def dsatur(graph: Mapping[Hashable, Iterable[Hashable]]) -> dict[Hashable, int]:
    """A proper colouring (vertex -> colour index 0, 1, …) by DSatur.

    Pick the vertex whose neighbours already use the most distinct colours (ties: most
    neighbours, then the smallest name, so the result is deterministic) and give it the
    lowest colour none of its neighbours has.
    """
    adj = {v: set(ns) - {v} for v, ns in graph.items()}
    colour: dict[Hashable, int] = {}
    seen: dict[Hashable, set[int]] = {v: set() for v in adj}
    while len(colour) < len(adj):
        v = max(
            (u for u in adj if u not in colour),
            key=lambda u: (len(seen[u]), len(adj[u]), _neg_key(u)),
        )
        c = next(k for k in range(len(adj) + 1) if k not in seen[v])
        colour[v] = c
        for n in adj[v]:
            seen.setdefault(n, set()).add(c)
    return colour


def _neg_key(value: Hashable) -> tuple[int, ...]:
    """Sort key that makes max() prefer the smallest string (deterministic tie-break)."""
    return tuple(-ord(ch) for ch in str(value))


def colour_hex(index: int) -> str:
    """The palette colour of ``index``; past the palette, extra hues by the golden angle."""
    if index < len(PALETTE):
        return PALETTE[index]
    hue = (index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hls_to_rgb(hue, 0.75, 0.6)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def territory_colours(owners: Sequence[Hashable | None], edges: np.ndarray) -> dict[Hashable, str]:
    """Owner -> hex colour such that neighbouring territories differ."""
    return {o: colour_hex(c) for o, c in dsatur(territory_graph(owners, edges)).items()}
