"""Shared machinery for entity types: attribute mapping, unit scaling and range checks.

Each entity-type module declares an :class:`EntityType` (its Smart Data Model
name, schema file, default attribute mapping and derived properties); the
pipeline runs decode -> normalise -> validate through it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from acquisition.records import ValueType
from support import PayloadError
from support.times import iso_utc, iso_utc_many


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """How one short wire attribute (``object_id``) maps onto an NGSI-LD property."""

    object_id: str
    name: str
    value_type: ValueType = ValueType.NUMBER
    unit_code: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    scale: float = 1.0
    allowed: frozenset[str] = frozenset()
    on_device: bool = False  # belongs to the Device entity, not the observed one

    def convert(self, raw: object) -> float | str:
        """Checks and converts a wire value; raises PayloadError on anything implausible."""
        if self.value_type is ValueType.NUMBER:
            return self._number(raw)
        if not isinstance(raw, str) or not raw:
            raise PayloadError("bad_value", f"{self.object_id} must be a non-empty string")
        if self.allowed and raw not in self.allowed:
            allowed = ", ".join(sorted(self.allowed))
            raise PayloadError("bad_value", f"{self.object_id}={raw!r:.40} not one of {allowed}")
        return raw

    def convert_text(self, raw: object) -> float | str:
        """Like convert(), for formats whose values are all text (UltraLight)."""
        if self.value_type is ValueType.NUMBER and isinstance(raw, str):
            try:
                raw = float(raw)
            except ValueError:
                raise PayloadError(
                    "bad_value", f"{self.object_id}={raw!r:.40} is not a number"
                ) from None
        return self.convert(raw)

    def _number(self, raw: object) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise PayloadError("bad_value", f"{self.object_id} must be a number, got {raw!r:.40}")
        if not math.isfinite(raw):
            raise PayloadError("bad_value", f"{self.object_id} is not finite")
        if (self.minimum is not None and raw < self.minimum) or (
            self.maximum is not None and raw > self.maximum
        ):
            raise PayloadError(
                "out_of_range",
                f"{self.object_id}={raw} outside [{self.minimum}, {self.maximum}]",
            )
        return float(raw) * self.scale


# Device attributes every node sends now and then, whatever its entity type.
DEVICE_ATTRIBUTES = (
    AttributeSpec("fw", "firmwareVersion", value_type=ValueType.TEXT, on_device=True),
    AttributeSpec(
        "bat",
        "batteryLevel",
        unit_code="C62",
        minimum=0,
        maximum=100,
        scale=0.01,
        on_device=True,
    ),
    AttributeSpec("rssi", "rssi", unit_code="DBM", minimum=-130, maximum=0, on_device=True),
)

DerivedValues = list[tuple[str, float | str, ValueType]]


@dataclass(frozen=True, slots=True)
class DerivedTime:
    """A DateTime attribute the gateway adds to each observation: its time, ``periods``
    sampling periods earlier (1: the start of the period the measure covers)."""

    name: str
    periods: float = 0.0


@dataclass(frozen=True, slots=True)
class EntityType:
    """One Smart Data Models entity type as the gateway produces it."""

    type_name: str
    schema_file: str
    attributes: tuple[AttributeSpec, ...]
    derived_times: tuple[DerivedTime, ...] = ()
    default_period_s: float = 60.0
    by_object_id: Mapping[str, AttributeSpec] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", self.attributes + DEVICE_ATTRIBUTES)
        object.__setattr__(self, "by_object_id", {a.object_id: a for a in self.attributes})

    def derive(self, observed_at: datetime, period_s: float) -> DerivedValues:
        """The derived attributes of one observation."""
        return [
            (d.name, iso_utc(observed_at - timedelta(seconds=d.periods * period_s)),
             ValueType.DATETIME)
            for d in self.derived_times
        ]  # fmt: skip

    def derive_columns(
        self, observed_us: npt.NDArray[np.int64], period_s: npt.NDArray[np.float64]
    ) -> list[tuple[str, list[str]]]:
        """The derived attributes of many observations (microseconds since 1970, each
        with its device's period), as ``derive`` gives them, formatted at once."""
        return [
            (
                d.name,
                iso_utc_many(observed_us - np.round(d.periods * period_s * 1e6).astype(np.int64)),
            )
            for d in self.derived_times
        ]


def iso(stamp: datetime) -> str:
    return iso_utc(stamp)
