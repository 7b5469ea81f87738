"""The one settings object (environment variables GRIDGOV_*, or a .env file)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable; the embedded store needs none of it."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", env_file=".env", extra="ignore")

    db: str = "gridgov.gpkg"
    lang: str = "zh"
    # 人熟、地熟: a worker living in the grid's own ward counts as this many metres closer.
    home_ward_bonus_m: float = 1500.0
    # Tolerances for import validation.
    overlap_tolerance_m2: float = 1.0
    max_assign_km: float = 15.0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
