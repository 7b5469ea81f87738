"""Geography helpers: CRS handling, shipped reference data, distances and adjacency."""

from gridgov.geo.crs import METRIC_CRS, STORAGE_CRS, to_metric, to_storage
from gridgov.geo.shipped import city_extent, load_city, load_districts, load_townships, load_villages

__all__ = [
    "METRIC_CRS",
    "STORAGE_CRS",
    "city_extent",
    "load_city",
    "load_districts",
    "load_townships",
    "load_villages",
    "to_metric",
    "to_storage",
]
