"""gridgov: place model workers (劳模) on governance grids fairly and stably."""

from gridgov.errors import GridgovError, ValidationError

# Raised with every release (pip keeps an installed version it thinks current: an upgrade
# from a new wheelhouse at the same number installed nothing). pyproject reads it from here.
__version__ = "0.8.0"
__all__ = ["GridgovError", "ValidationError", "__version__"]
