"""The one settings object (environment variables GRIDGOV_*, or a .env file)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable; the embedded store needs none of it."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", env_file=".env", extra="ignore")

    db: str = "gridgov.gpkg"
    lang: str = "zh"
    timezone: str = "Asia/Shanghai"  # times in the terminal and in spreadsheets (stored as UTC)
    # 人熟、地熟: a worker living in the grid's own ward counts as this many metres closer.
    home_ward_bonus_m: float = 1500.0
    # Tolerances for import validation.
    overlap_tolerance_m2: float = 1.0
    max_assign_km: float = 15.0
    # The web service (gridgov serve). An empty secret means a random one per process: tokens
    # then end with a restart, so set GRIDGOV_API_SECRET wherever the service really runs.
    api_secret: str = ""
    api_token_minutes: int = 480  # one working day
    api_store_pool: int = 16  # opened stores kept for requests (one request uses one at a time); 4 made most requests open a new connection under load
    api_threads: int = 40  # threads per web process for sync routes and dependencies
    api_cache_entries: int = 512  # read results kept per web process, each valid until its layers are written
    api_run_jobs: bool = True  # run queued background jobs in this process
    api_job_poll_s: float = 1.0
    api_job_stale_s: float = 60.0  # a running job whose heartbeat is older was left by a dead process
    api_max_upload_mb: float = 50.0
    api_solve_threads: int = 1  # wards a background solve job works on at once, each in a child process at niceness 19


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
