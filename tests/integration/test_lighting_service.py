"""The lighting schedule over the API, for the lamps the store knows."""

from __future__ import annotations

from datetime import date

import pytest

from acquisition import Batch, EntityRecord
from knowledge import PostgresStore
from services.lighting import night_schedule
from support.times import iso_utc
from tests.integration.api_client import open_api

pytestmark = pytest.mark.integration


async def test_each_located_lamp_gets_its_night(database_url: str) -> None:
    store = await PostgresStore.open(database_url, max_size=2)
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
