"""``ciudad samples import``: the real open-data samples replayed into the platform.

Each sample goes to a tenant of its own (beijing, madrid, valencia, aarhus),
as Smart Data Models entities written through the knowledge store's batch
path (roll-ups, change feed, subscriptions: as for the gateway's batches),
with the original timestamps. Replaying a sample again changes nothing.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from acquisition import Batch, EntityRecord, Reading, ValueType
from capture import (
    SAMPLE_DIR,
    SampleObservation,
    aarhus_observations,
    read_aarhus_parking,
    read_beijing_air,
    read_madrid_noise,
    read_madrid_stations,
    read_valencia_noise,
)
from ciudad.database import platform_store
from support import ConfigurationError, Settings

DEFAULT_DIR = SAMPLE_DIR
UNITS = {"pm25": "GQ", "pm10": "GQ", "so2": "GQ", "no2": "GQ", "co": "GQ", "o3": "GQ",
         "temperature": "CEL", "windSpeed": "MTS"}  # fmt: skip
BATCH_READINGS = 5000


def _beijing(directory: Path) -> list[SampleObservation]:
    files = sorted((directory / "air_quality").glob("beijing_PRSA_*.csv"))
    return [o for path in files for o in read_beijing_air(path)]


def _madrid(directory: Path) -> list[SampleObservation]:
    stations = read_madrid_stations(directory / "noise" / "madrid_estaciones_ruido.csv")
    return read_madrid_noise(directory / "noise" / "madrid_ruido_diario_2021.csv", stations)


def _valencia(directory: Path) -> list[SampleObservation]:
    return read_valencia_noise(directory / "noise" / "valencia_NoiseLevelObserved_daily.csv")


def _aarhus(directory: Path) -> list[SampleObservation]:
    path = directory / "parking" / "aarhus_parking_2014-05-22_to_28.csv"
    return aarhus_observations(read_aarhus_parking(path))


SAMPLES: dict[str, Callable[[Path], list[SampleObservation]]] = {
    "beijing": _beijing,
    "madrid": _madrid,
    "valencia": _valencia,
    "aarhus": _aarhus,
}


def entity_id(tenant: str, observation: SampleObservation) -> str:
    return f"urn:ngsi-ld:{observation.entity_type}:{tenant}:{observation.name}"


def _entity(tenant: str, observation: SampleObservation) -> EntityRecord:
    static: dict[str, object] = {"dataProvider": {"type": "Property", "value": f"sample:{tenant}"}}
    if observation.latitude is not None and observation.longitude is not None:
        point = {"type": "Point", "coordinates": [observation.longitude, observation.latitude]}
        static["location"] = {"type": "GeoProperty", "value": point}
    return EntityRecord(tenant, entity_id(tenant, observation), observation.entity_type, static)


def _unit(entity_type: str, attr: str) -> str | None:
    return "2N" if entity_type == "NoiseLevelObserved" else UNITS.get(attr)


def batches(tenant: str, observations: list[SampleObservation]) -> Iterator[Batch]:
    """The observations as store batches of about BATCH_READINGS readings each."""
    readings: list[Reading] = []
    entities: dict[str, EntityRecord] = {}
    for o in observations:
        entity = _entity(tenant, o)
        entities[entity.entity_id] = entity
        readings += [
            Reading(tenant, entity.entity_id, o.entity_type, attr, o.at, value,
                    ValueType.NUMBER, _unit(o.entity_type, attr))
            for attr, value in o.values.items()
        ]  # fmt: skip
        if len(readings) >= BATCH_READINGS:
            yield Batch(tuple(readings), tuple(entities.values()))
            readings, entities = [], {}
    if readings:
        yield Batch(tuple(readings), tuple(entities.values()))


@dataclass(frozen=True, slots=True)
class Imported:
    sample: str
    entities: int
    readings: int


async def import_samples(settings: Settings, directory: Path, names: list[str]) -> list[Imported]:
    """Reads and writes each named sample; progress on stderr."""
    if not await asyncio.to_thread(directory.is_dir):
        raise ConfigurationError(f"sample directory {directory} not found (pass --dir)")
    unknown = sorted(set(names) - set(SAMPLES))
    if unknown:
        raise ConfigurationError(f"unknown samples {unknown}; choose from {sorted(SAMPLES)}")
    results = []
    async with platform_store(settings) as store:
        for name in names:
            try:
                observations = await asyncio.to_thread(SAMPLES[name], directory)
            except (OSError, ValueError, KeyError) as exc:
                raise ConfigurationError(f"sample {name}: cannot read it: {exc!r}") from exc
            written = 0
            for batch in batches(name, observations):
                await store.write_batch(batch)
                written += len(batch.readings)
                print(f"[{name}] {written} readings", file=sys.stderr, flush=True)
            count = len({(o.entity_type, o.name) for o in observations})
            results.append(Imported(name, count, written))
    return results
