"""NoiseLevelObserved: sound levels in dB(A) over an observation period."""

from __future__ import annotations

from acquisition.entities.base import AttributeSpec, DerivedTime, EntityType

DECIBEL = "2N"  # UN/CEFACT common code for dB


# 0-140 dB(A): below is no real environment, above is instant hearing damage / mic clipping.
ENTITY = EntityType(
    type_name="NoiseLevelObserved",
    schema_file="NoiseLevelObserved.schema.json",
    attributes=(
        AttributeSpec("laeq", "LAeq", unit_code=DECIBEL, minimum=0, maximum=140),
        AttributeSpec("lamax", "LAmax", unit_code=DECIBEL, minimum=0, maximum=140),
        AttributeSpec("las", "LAS", unit_code=DECIBEL, minimum=0, maximum=140),
        # Percentile levels (exceeded 10 % / 90 % of the time); not in the Smart Data Model,
        # whose schema allows extra attributes.
        AttributeSpec("l10", "LA10", unit_code=DECIBEL, minimum=0, maximum=140),
        AttributeSpec("l90", "LA90", unit_code=DECIBEL, minimum=0, maximum=140),
    ),
    derived_times=(DerivedTime("dateObservedFrom", periods=1), DerivedTime("dateObservedTo")),
)
