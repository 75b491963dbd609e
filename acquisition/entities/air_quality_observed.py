"""AirQualityObserved: pollutant concentrations (ug/m3) and weather at a station."""

from __future__ import annotations

from acquisition.entities.base import AttributeSpec, DerivedTime, EntityType

MICROGRAM_PER_M3 = "GQ"
CELSIUS = "CEL"
FRACTION = "C62"  # "one": the schema wants relativeHumidity in 0..1


# Upper bounds are far above any recorded urban value but below sensor-fault garbage.
ENTITY = EntityType(
    type_name="AirQualityObserved",
    schema_file="AirQualityObserved.schema.json",
    attributes=(
        AttributeSpec("pm25", "pm25", unit_code=MICROGRAM_PER_M3, minimum=0, maximum=1000),
        AttributeSpec("pm10", "pm10", unit_code=MICROGRAM_PER_M3, minimum=0, maximum=2000),
        AttributeSpec("no2", "no2", unit_code=MICROGRAM_PER_M3, minimum=0, maximum=2000),
        AttributeSpec("o3", "o3", unit_code=MICROGRAM_PER_M3, minimum=0, maximum=1000),
        AttributeSpec("tmp", "temperature", unit_code=CELSIUS, minimum=-50, maximum=60),
        AttributeSpec(
            "rh", "relativeHumidity", unit_code=FRACTION, minimum=0, maximum=100, scale=0.01
        ),
    ),
    derived_times=(DerivedTime("dateObserved"),),
)
