"""Reading an entity's state the way every vertical needs it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from knowledge import EntityState


def coordinates(static: Any) -> tuple[float, float] | None:
    """(latitude, longitude) of a Point ``location``, or None."""
    location = static.get("location") if isinstance(static, dict) else None
    geometry = location.get("value") if isinstance(location, dict) else None
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return None
    longitude, latitude = geometry["coordinates"][:2]
    return float(latitude), float(longitude)


def latest_values(entity: EntityState) -> dict[str, Any]:
    return {a.name: a.value for a in entity.attributes}


def last_seen(entity: EntityState) -> datetime:
    """When the sensor last observed something (its device's clock); without any
    observation, when the entity was last written."""
    return max((a.observed_at for a in entity.attributes), default=entity.modified_at)
