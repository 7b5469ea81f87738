"""Imports and exports: readers, validation (every problem, collected) and atomic writers; no store writes here."""

from gridgov.io.readers import read_features, read_table
from gridgov.io.validate import ValidationContext, Validated, validate
from gridgov.io.writers import write_layer

__all__ = ["ValidationContext", "Validated", "read_features", "read_table", "validate", "write_layer"]
