"""Streetlight: one lamp's power state, dimming level and power draw."""

from __future__ import annotations

from acquisition.entities.base import AttributeSpec, EntityType
from acquisition.records import ValueType

WATT = "WTT"
FRACTION = "C62"

ENTITY = EntityType(
    type_name="Streetlight",
    schema_file="Streetlight.schema.json",
    attributes=(
        AttributeSpec(
            "on",
            "powerState",
            value_type=ValueType.TEXT,
            allowed=frozenset({"on", "off", "low", "bootingUp"}),
        ),
        # The node reports dimming in percent; the model wants illuminanceLevel in 0..1.
        AttributeSpec(
            "dim", "illuminanceLevel", unit_code=FRACTION, minimum=0, maximum=100, scale=0.01
        ),
        AttributeSpec("w", "powerConsumption", unit_code=WATT, minimum=0, maximum=2000),
        # Energy drawn since the node started counting, and the node's lamp fault flag.
        AttributeSpec("wh", "energyConsumed", unit_code="WHR", minimum=0, maximum=1e9),
        AttributeSpec(
            "flt",
            "lampFault",
            value_type=ValueType.TEXT,
            allowed=frozenset({"ok", "no_current", "current_when_off"}),
        ),
    ),
)
