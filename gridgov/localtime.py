"""Stored times (UTC) as the people reading them keep time: the configured zone, Beijing time by default."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache

_BEIJING = timezone(timedelta(hours=8), "CST")  # China has one zone and no daylight saving


@lru_cache(maxsize=4)
def zone(name: str) -> tzinfo:
    """The zone ``name`` (IANA, e.g. Asia/Shanghai); Beijing time where the system has no zone data."""
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except (ImportError, KeyError, ValueError):  # no tzdata (e.g. Windows without the tzdata package)
        return _BEIJING


def local(value: datetime, *, name: str | None = None) -> datetime:
    """``value`` in the display zone (settings ``timezone``); a naive value is taken as UTC."""
    if name is None:
        from gridgov.settings import get_settings

        name = get_settings().timezone
    aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(zone(name))
