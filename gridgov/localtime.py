"""Stored times (UTC) as the people reading them keep time: the configured zone, Beijing time by default."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
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


def today(*, name: str | None = None) -> date:
    """Today's date where the users are (settings ``timezone``), not the server's: absences are
    booked in Beijing dates, and a UTC server is a day behind from 00:00 to 08:00 Beijing time."""
    return local(datetime.now(timezone.utc), name=name).date()
