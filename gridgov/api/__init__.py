"""The web service (FastAPI): thin routes over the same use cases the CLI calls; needs the "api" extra."""

from __future__ import annotations

from importlib.util import find_spec

from gridgov.errors import MissingExtraError

# Import name -> the package name pip knows; checked before anything imports FastAPI.
_REQUIRED = {
    "fastapi": "fastapi",
    "multipart": "python-multipart",
    "jwt": "pyjwt",
    "argon2": "argon2-cffi",
    "swagger_ui": "swagger-ui-py",
}


def require_extra() -> None:
    """Raise MissingExtraError naming the first missing package of the "api" extra."""
    for module, package in _REQUIRED.items():
        if find_spec(module) is None:
            raise MissingExtraError(package, "api")


require_extra()
