"""Stores: one contract (``Store``), two backends (GeoPackage file, PostGIS), opened by URL."""

from __future__ import annotations

from pathlib import Path

from gridgov.errors import UserError
from gridgov.store.base import SqlStore, Store, now_utc

__all__ = ["SqlStore", "Store", "now_utc", "open_store", "resolve_url"]


def resolve_url(url: str | None = None) -> str:
    """The store URL: the argument, else ``GRIDGOV_DB``, else ``./gridgov.gpkg``."""
    if url:
        return url
    from gridgov.settings import Settings

    return Settings().db


def open_store(url: str | None = None, *, create: bool = False, upgrade: bool = True) -> SqlStore:
    """Open a ``.gpkg`` path or a ``postgresql://`` URL; ``create`` initialises a new store;
    ``upgrade=False`` leaves an older store's schema as it is (for copying it)."""
    url = resolve_url(url)
    if url.startswith(("postgresql://", "postgres://")):
        from gridgov.store.postgis import PostGISStore

        return PostGISStore(url, create=create, upgrade=upgrade)
    path = Path(url)
    if path.suffix.lower() != ".gpkg":
        raise UserError(
            f"无法识别的数据库地址 {url}：请给出 .gpkg 文件路径或 postgresql:// 地址",
            f"unrecognised store {url}: give a .gpkg file path or a postgresql:// URL",
        )
    from gridgov.store.geopackage import GeoPackageStore

    return GeoPackageStore(path, create=create, upgrade=upgrade)
