"""GeoJSON from store frames (a tiny helper shared by the wards and grids routes)."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
from fastapi.responses import JSONResponse


def feature_collection(frame: gpd.GeoDataFrame, columns: list[str]) -> dict[str, Any]:
    """A FeatureCollection in lon/lat (EPSG:4490 ≈ WGS 84 at map scale) with the given properties."""
    if frame.empty:
        return {"type": "FeatureCollection", "features": []}
    return json.loads(frame[[*columns, "geometry"]].to_json(drop_id=True, na="null"))


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"
