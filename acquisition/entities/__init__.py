"""Entity types the gateway produces, chosen from an explicit registry (no folder scanning)."""

from acquisition.entities import (
    air_quality_observed,
    noise_level_observed,
    parking_spot,
    streetlight,
)
from acquisition.entities.base import AttributeSpec, EntityType

ENTITY_TYPES: dict[str, EntityType] = {
    module.ENTITY.type_name: module.ENTITY
    for module in (noise_level_observed, air_quality_observed, parking_spot, streetlight)
}

__all__ = ["ENTITY_TYPES", "AttributeSpec", "EntityType"]
