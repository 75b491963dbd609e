"""The lighting schedule over the API, for the lamps the store knows."""

from __future__ import annotations

from datetime import date, time

import pytest

from acquisition import Batch, EntityRecord
from ciudad.database import open_store_at
from services.energy.lighting import DimmingProfile, DimmingStep, night_schedule
from support.times import iso_utc
from tests.helpers.api_client import open_api

pytestmark = pytest.mark.integration
LEON = {"NGSILD-Tenant": "leon"}


async def test_each_located_lamp_gets_its_night(database_url: str) -> None:
    store = await open_store_at(database_url, max_size=2)
    lamp = EntityRecord(
        "leon",
        "urn:ngsi-ld:Streetlight:leon:l1",
        "Streetlight",
        {
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [-5.5671, 42.5987]},
            }
        },
    )
    nowhere = EntityRecord("leon", "urn:ngsi-ld:Streetlight:leon:l2", "Streetlight", {})
    await store.write_batch(Batch((), (lamp, nowhere)))
    await store.close()
    async with open_api(database_url) as http:
        answer = await http.get(
            "/ciudad/v1/services/lighting/schedule",
            params={"day": "2026-11-22"},
            headers={"NGSILD-Tenant": "leon"},
        )
    assert answer.status_code == 200, answer.text
    expected = night_schedule(date(2026, 11, 22), 42.5987, -5.5671)
    assert expected is not None
    assert answer.json() == [
        {
            "id": "urn:ngsi-ld:Streetlight:leon:l1",
            "day": "2026-11-22",
            "steps": [{"at": iso_utc(s.at), "level": s.level} for s in expected],
        }
    ]


async def test_a_dimming_profile_can_be_asked_for(database_url: str) -> None:
    store = await open_store_at(database_url, max_size=2)
    where = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-5.5671, 42.5987]}}
    lamp = EntityRecord(
        "leon", "urn:ngsi-ld:Streetlight:leon:l1", "Streetlight", {"location": where}
    )
    await store.write_batch(Batch((), (lamp,)))
    await store.close()
    deep = {"day": "2026-11-22", "dimLevel": 30, "dimFrom": "22:00", "dimUntil": "05:00",
            "eveningLevel": 90}  # fmt: skip
    async with open_api(database_url) as http:
        answer = await http.get("/ciudad/v1/services/lighting/schedule", params=deep, headers=LEON)
        nowhere = await http.get(
            "/ciudad/v1/services/lighting/schedule",
            params={"day": "2026-11-22", "timezone": "Mars/Olympus"},
            headers=LEON,
        )
    profile = DimmingProfile(90, (DimmingStep(time(22), 30), DimmingStep(time(5), 90)))
    expected = night_schedule(date(2026, 11, 22), 42.5987, -5.5671, profile)
    assert expected is not None
    (row,) = answer.json()
    assert row["steps"] == [{"at": iso_utc(s.at), "level": s.level} for s in expected]
    assert [s["level"] for s in row["steps"]] == [90, 30, 90, 0]
    assert nowhere.status_code == 400
