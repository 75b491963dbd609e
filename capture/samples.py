"""Readers of the real open-data samples (``capture/sample_data/``), as platform records."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

AARHUS = ZoneInfo("Europe/Copenhagen")
SAMPLE_DIR = Path(__file__).resolve().parent / "sample_data"  # shipped in the wheel too


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


@dataclass(frozen=True, slots=True)
class SampleObservation:
    """One row of an open-data sample as an observation of a Smart Data Models entity:
    the entity's local name, when, the numbers (SDM attribute names) and where, if known."""

    entity_type: str
    name: str
    at: datetime  # aware
    values: dict[str, float]
    latitude: float | None = None
    longitude: float | None = None


BEIJING = ZoneInfo("Asia/Shanghai")
MADRID = ZoneInfo("Europe/Madrid")
# The UCI files carry no coordinates; these are the stations' published positions
# (Zhang et al. 2017, figure 1), good to about 100 m.
BEIJING_STATIONS = {"Dongsi": (39.929, 116.417), "Wanliu": (39.987, 116.287)}
BEIJING_COLUMNS = {"PM2.5": "pm25", "PM10": "pm10", "SO2": "so2", "NO2": "no2", "CO": "co",
                   "O3": "o3", "TEMP": "temperature", "WSPM": "windSpeed"}  # fmt: skip
MADRID_PERIODS = {"T": "LAeq", "D": "LAeq_d", "E": "LAeq_e", "N": "LAeq_n"}
VALENCIA_COLUMNS = ("LAeq", "LAeq_d", "LAeq_e", "LAeq_n", "LAeq_den")


def _number(text: str) -> float | None:
    """A reading's number; None where the file marks it missing (empty, NA, NaN)."""
    text = text.strip()
    if not text or text.upper() == "NA":
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def read_beijing_air(path: Path) -> list[SampleObservation]:
    """UCI Beijing multi-site hourly rows (local time, ``NA`` where missing)."""
    out = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            station = row["station"]
            at = datetime(int(row["year"]), int(row["month"]), int(row["day"]),
                          int(row["hour"]), tzinfo=BEIJING)  # fmt: skip
            values = {name: v for column, name in BEIJING_COLUMNS.items()
                      if (v := _number(row[column])) is not None}  # fmt: skip
            if values:
                lat, lon = BEIJING_STATIONS.get(station, (None, None))
                out.append(SampleObservation("AirQualityObserved", station, at, values, lat, lon))
    return out


def read_madrid_stations(path: Path) -> dict[str, tuple[float, float]]:
    """Station number -> (latitude, longitude), WGS84."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return {
            row["Nº"].strip(): (float(row["LATITUD_WGS84"]), float(row["LONGITUD_WGS84"]))
            for row in csv.DictReader(handle, delimiter=";")
        }


def read_madrid_noise(
    path: Path, stations: dict[str, tuple[float, float]]
) -> list[SampleObservation]:
    """Madrid's daily noise file: one row per station, day and period (T 24 h, D day,
    E evening, N night); the day's observation is stamped at local midnight. The 24-hour
    row's percentile levels LAS01..LAS99 come along as attributes of their own."""
    merged: dict[tuple[str, datetime], dict[str, float]] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for raw in csv.DictReader(handle, delimiter=";"):
            row = {k.strip(): v.strip() for k, v in raw.items()}
            at = datetime(int(row["anio"]), int(row["mes"]), int(row["dia"]), tzinfo=MADRID)
            values = merged.setdefault((row["NMT"], at), {})
            level = _number(row["LAEQ"])
            if level is not None and row["tipo"] in MADRID_PERIODS:
                values[MADRID_PERIODS[row["tipo"]]] = level
            if row["tipo"] == "T":
                for name in ("LAS01", "LAS10", "LAS50", "LAS90", "LAS99"):
                    if (value := _number(row[name])) is not None:
                        values[name] = value
    located = {station: stations.get(station, (None, None)) for station, _ in merged}
    return [
        SampleObservation("NoiseLevelObserved", station, at, values, *located[station])
        for (station, at), values in merged.items()
        if values
    ]


def read_valencia_noise(path: Path) -> list[SampleObservation]:
    """València's NoiseLevelObserved history export (daily levels, no coordinates)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            SampleObservation(
                "NoiseLevelObserved",
                row["entityId"],
                datetime.fromisoformat(row["dateObserved"]).replace(tzinfo=MADRID),
                {c: v for c in VALENCIA_COLUMNS if (v := _number(row[c])) is not None},
            )
            for row in csv.DictReader(handle)
        ]


def aarhus_observations(counts: list[GarageCount]) -> list[SampleObservation]:
    """Garage counts as OffStreetParking observations (counts above capacity kept as
    reported: the availability is then clipped at 0)."""
    return [
        SampleObservation(
            "OffStreetParking",
            c.garage,
            c.at,
            {
                "occupiedSpotNumber": float(c.occupied),
                "totalSpotNumber": float(c.total),
                "availableSpotNumber": float(max(0, c.total - c.occupied)),
            },
        )
        for c in counts
    ]
