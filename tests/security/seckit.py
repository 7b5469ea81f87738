"""Shared pieces of the security tests (test files cannot import a conftest: several share the name)."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/api/api_city.py, the hand-made city (no __init__.py in tests/, so by path; one module either way).
if "api_city" not in sys.modules:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
import api_city as city  # noqa: E402

from gridgov.api.main import create_app  # noqa: E402
from gridgov.settings import Settings  # noqa: E402

# The spec does not depend on the store: built once, from an app that never starts.
SPEC = create_app(Settings(db="unused.gpkg", api_secret="x" * 32, api_run_jobs=False)).openapi()

__all__ = ["SPEC", "city"]
