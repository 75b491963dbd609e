"""Readers of the real open-data samples (shared/data/samples/), as platform records."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

AARHUS = ZoneInfo("Europe/Copenhagen")


@dataclass(frozen=True, slots=True)
class GarageCount:
    """One reading of an off-street car park (OffStreetParking)."""

    garage: str
    at: datetime  # aware
    occupied: int
    total: int


def read_aarhus_parking(path: Path) -> list[GarageCount]:
    """The CityPulse Aarhus garages file: local times (Copenhagen) without a zone."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            GarageCount(
                row["garagecode"],
                datetime.fromisoformat(row["updatetime"]).replace(tzinfo=AARHUS),
                int(row["vehiclecount"]),
                int(row["totalspaces"]),
            )
            for row in csv.DictReader(handle)
        ]
