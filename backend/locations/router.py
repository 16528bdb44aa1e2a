"""``GET /v1/locations``: UN/LOCODE search for location fields (public reference data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from backend.locations import unlocode

router = APIRouter(prefix="/v1/locations", tags=["locations"])


class LocationPublic(BaseModel):
    code: str
    name: str
    country: str
    country_name: str


class LocationsPublic(BaseModel):
    items: list[LocationPublic]
    source: str


@router.get("", response_model=LocationsPublic)
def search_locations(
    q: Annotated[
        str, Query(max_length=40, description="start of a code (VNSGN, SGN) or of a place name")
    ] = "",
    country: Annotated[
        str, Query(pattern=r"^([A-Za-z]{2})?$", description="ISO 3166 alpha-2 country filter")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=unlocode.MAX_RESULTS)] = 10,
) -> LocationsPublic:
    """UN/LOCODEs whose code or place name starts with ``q``, exact code first."""
    found = unlocode.search(q, country=country, limit=limit)
    return LocationsPublic(
        items=[
            LocationPublic(
                code=loc.code, name=loc.name, country=loc.country, country_name=loc.country_name
            )
            for loc in found
        ],
        source=unlocode.source(),
    )
