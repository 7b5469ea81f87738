"""The bad-input corpus (tests/data/bad): its files and the layer each is meant for."""

from __future__ import annotations

from pathlib import Path


BAD_CORPUS = sorted(
    p for p in (Path(__file__).resolve().parent / "data" / "bad").iterdir() if p.name != "README.md"
)
_IMPORTABLE = ("wards", "grids", "workers", "incidents", "sites")


def corpus_layer(path: Path) -> str:
    """The layer a bad-corpus file is meant for; format-only junk is tried as what its format holds."""
    prefix = path.name.split("_")[0]
    if prefix in _IMPORTABLE:
        return prefix
    return "grids" if path.suffix in (".geojson", ".zip", ".gpkg") else "workers"
