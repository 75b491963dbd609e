"""Reading an entity's state the way every vertical needs it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Query

from interoperability import check_time
from knowledge import AttributeState, EntityState


def coordinates(static: Any) -> tuple[float, float] | None:
    """(latitude, longitude) of a Point ``location``, or None."""
    location = static.get("location") if isinstance(static, dict) else None
    geometry = location.get("value") if isinstance(location, dict) else None
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return None
    try:
        longitude, latitude = geometry["coordinates"][:2]
        return float(latitude), float(longitude)
    except (KeyError, TypeError, ValueError):  # a malformed point locates nothing
        return None


def as_of_query(
    end_time_at: Annotated[
        datetime | None,
        Query(alias="endTimeAt", description="As of this time (default: now), e.g. for history"),
    ] = None,
) -> datetime:
    return check_time("endTimeAt", end_time_at) if end_time_at else datetime.now(UTC)


AsOfDep = Annotated[datetime, Depends(as_of_query)]


def attribute_state(entity: EntityState, name: str) -> AttributeState | None:
    """The latest value of one dynamic attribute, if the entity has it."""
    return next((a for a in entity.attributes if a.name == name), None)


def latest_values(entity: EntityState) -> dict[str, Any]:
    return {a.name: a.value for a in entity.attributes}


def last_seen(entity: EntityState) -> datetime:
    """When the sensor last observed something (its device's clock); without any
    observation, when the entity was last written."""
    return max((a.observed_at for a in entity.attributes), default=entity.modified_at)
