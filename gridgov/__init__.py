"""gridgov: place model workers (劳模) on governance grids fairly and stably."""

from gridgov.errors import GridgovError, ValidationError

__version__ = "0.1.0"
__all__ = ["GridgovError", "ValidationError", "__version__"]
