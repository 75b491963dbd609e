"""ParkingSpot: one on-street bay, free or occupied."""

from __future__ import annotations

from acquisition.entities.base import AttributeSpec, EntityType
from acquisition.records import ValueType

ENTITY = EntityType(
    type_name="ParkingSpot",
    schema_file="ParkingSpot.schema.json",
    attributes=(
        AttributeSpec(
            "st",
            "status",
            value_type=ValueType.TEXT,
            allowed=frozenset({"free", "occupied", "closed", "unknown"}),
        ),
    ),
)
