"""The one settings object (environment variables GRIDGOV_*, or a .env file)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable; the embedded store needs none of it."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", env_file=".env", extra="ignore")

    db: str = "gridgov.gpkg"
    lang: str = Field("zh", pattern="^(zh|en|both)$")
    timezone: str = "Asia/Shanghai"  # times in the terminal and in spreadsheets (stored as UTC)
    # 人熟、地熟: a worker living in the grid's own ward counts as this many metres closer.
    home_ward_bonus_m: float = Field(1500.0, ge=0)
    # Tolerances for import validation.
    overlap_tolerance_m2: float = Field(1.0, ge=0)
    max_assign_km: float = Field(15.0, gt=0)
    # The web service (gridgov serve). An empty secret means a random one per process: tokens
    # then end with a restart, so set GRIDGOV_API_SECRET wherever the service really runs.
    api_secret: str = ""
    api_token_minutes: int = Field(480, ge=1)  # one working day
    api_store_pool: int = Field(16, ge=1)  # opened stores kept for requests (one request uses one at a time); 4 made most requests open a new connection under load
    api_threads: int = Field(40, ge=1)  # threads per web process for sync routes and dependencies
    api_cache_entries: int = Field(512, ge=0)  # read results kept per web process, each valid until its layers are written
    api_run_jobs: bool = True  # run queued background jobs in this process
    api_job_poll_s: float = Field(1.0, ge=0.05)  # 0 kept a core busy polling the store
    api_job_stale_s: float = Field(60.0, gt=0)  # a running job whose heartbeat is older was left by a dead process
    api_max_upload_mb: float = Field(50.0, gt=0)
    api_solve_threads: int = Field(1, ge=1)  # wards a background solve job works on at once, each in a child process at niceness 19


    @field_validator("api_secret")
    @classmethod
    def _long_enough(cls, secret: str) -> str:
        """Anyone who guesses the secret can sign a token as any user: a review forged an admin's
        token for the secret "gridgov" and read every account."""
        if secret and len(secret.encode()) < 32:
            raise ValueError("too short: at least 32 bytes, made once with openssl rand -hex 32 "
                             "(empty: a random one each start, which signs everyone out on a restart)")
        return secret

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        """A misspelt zone used to fall back to Beijing time without a word."""
        try:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
        except ImportError:  # no zone support at all: localtime falls back to Beijing time
            return name
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from None
        return name


def settings_problems(exc: Exception) -> tuple[str, str] | None:
    """(Chinese, English) naming each bad GRIDGOV_* setting, when ``exc`` is the settings' own
    validation error; None for any other exception."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError) or exc.title != Settings.__name__:
        return None
    bad = [(f"GRIDGOV_{'_'.join(map(str, e['loc'])).upper()}", e.get("input"), e["msg"]) for e in exc.errors()]
    # A secret is never echoed (the message reaches terminals and logs).
    bad = [(name, "***" if "SECRET" in name else value, msg) for name, value, msg in bad]
    zh = "；".join(f"{name}={value!r}：{msg}" for name, value, msg in bad)
    en = "; ".join(f"{name}={value!r}: {msg}" for name, value, msg in bad)
    return (f"设置有误（环境变量或 .env 文件）：{zh}", f"bad settings (environment or .env): {en}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
