"""Noise per day against RD 1367/2007 objectives, over the API, with the noise map."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from acquisition import Batch, EntityRecord, Reading, ValueType
from ciudad.database import open_store_at
from knowledge.aggregate.indicators import lden_from_levels
from services.environment.noise_day import load_objectives
from support import ConfigurationError
from tests.helpers.api_client import open_api

pytestmark = pytest.mark.integration
LEON = {"NGSILD-Tenant": "leon"}


def point(lon: float) -> dict[str, object]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, 42.6]}}


def one_day(sensor: str) -> list[Reading]:
    """Madrid in November is UTC+1: local 07-19 at 68 dB, 19-23 at 60, 23-07 at 58."""
    start = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    out = []
    for minute in range(24 * 60):
        at = start + timedelta(minutes=minute)
        local_hour = (at.hour + 1) % 24
        level = 68.0 if 7 <= local_hour < 19 else 60.0 if 19 <= local_hour < 23 else 58.0
        out.append(
            Reading(
                "leon",
                f"urn:ngsi-ld:NoiseLevelObserved:leon:{sensor}",
                "NoiseLevelObserved",
                "LAeq",
                at,
                level,
                ValueType.NUMBER,
                "2N",
            )
        )
    return out


async def store_homes_and_works(database_url: str) -> None:
    store = await open_store_at(database_url, max_size=2)
    homes = EntityRecord(
        "leon",
        "urn:ngsi-ld:NoiseLevelObserved:leon:homes",
        "NoiseLevelObserved",
        {"location": point(-5.57)},
    )
    works = EntityRecord(
        "leon",
        "urn:ngsi-ld:NoiseLevelObserved:leon:works",
        "NoiseLevelObserved",
        {"location": point(-5.50), "acousticAreaType": {"type": "Property", "value": "b"}},
    )
    await store.write_batch(Batch(tuple(one_day("homes") + one_day("works")), (homes, works)))
    await store.close()


async def test_days_and_map_compare_each_period_with_its_area_objective(
    database_url: str,
) -> None:
    await store_homes_and_works(database_url)
    async with open_api(database_url) as http:
        days = (
            await http.get(
                "/ciudad/v1/services/noise/days", params={"day": "2026-11-20"}, headers=LEON
            )
        ).json()
        lden = round(lden_from_levels(68.0, 60.0, 58.0), 1)
        assert [
            (
                d["id"].rsplit(":", 1)[1],
                d["Ld"],
                d["Le"],
                d["Ln"],
                d["Lden"],
                d["areaType"],
                d["exceeded"],
            )
            for d in days
        ] == [
            ("homes", 68.0, 60.0, 58.0, lden, "a", ["day", "night"]),
            ("works", 68.0, 60.0, 58.0, lden, "b", []),
        ]
        assert days[0]["objectives"] == {"Ld": 65, "Le": 65, "Ln": 55}
        noise_map = (
            await http.get(
                "/ciudad/v1/services/noise/map.geojson", params={"day": "2026-11-20"}, headers=LEON
            )
        ).json()
        assert noise_map["type"] == "FeatureCollection"
        assert [f["geometry"]["coordinates"][0] for f in noise_map["features"]] == [-5.57, -5.50]
        assert noise_map["features"][0]["properties"]["exceeded"] == ["day", "night"]
        empty = await http.get(
            "/ciudad/v1/services/noise/days", params={"day": "2026-11-25"}, headers=LEON
        )
        assert empty.json() == []


async def test_a_city_sets_its_own_objectives(database_url: str, tmp_path: Path) -> None:
    await store_homes_and_works(database_url)
    table = tmp_path / "objectives.json"
    # a stricter night for homes; no industrial area: its sensor falls back to "a"
    table.write_text(json.dumps({"a": {"name": "homes", "ld": 70, "le": 70, "ln": 57}}))
    async with open_api(database_url, noise_objectives_file=str(table)) as http:
        days = (
            await http.get(
                "/ciudad/v1/services/noise/days", params={"day": "2026-11-20"}, headers=LEON
            )
        ).json()
        objectives = (await http.get("/ciudad/v1/services/noise/objectives")).json()
    assert [(d["areaType"], d["exceeded"]) for d in days] == [("a", ["night"]), ("a", ["night"])]
    assert objectives == {"a": {"name": "homes", "ld": 70.0, "le": 70.0, "ln": 57.0}}


def test_an_objectives_table_without_the_default_area_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "objectives.json"
    table.write_text(json.dumps({"b": {"name": "industry", "ld": 75, "le": 75, "ln": 65}}))
    with pytest.raises(ConfigurationError, match="define area 'a'"):
        load_objectives(table)
    table.write_text(json.dumps({"a": {"name": "homes", "ld": "loud"}}))
    with pytest.raises(ConfigurationError, match=r"objectives\.json"):
        load_objectives(table)
