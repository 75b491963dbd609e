"""The air-quality vertical over the API: hourly EAQI per station from stored readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from acquisition import Batch, EntityRecord, Reading, ValueType
from ciudad.database import open_store_at
from tests.helpers.api_client import open_api

pytestmark = pytest.mark.integration
HOUR = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
STATION = "urn:ngsi-ld:AirQualityObserved:leon:a1"


def readings(values: dict[str, list[float]], hour: datetime) -> list[Reading]:
    return [
        Reading(
            "leon",
            STATION,
            "AirQualityObserved",
            pollutant,
            hour + timedelta(minutes=10 * i),
            value,
            ValueType.NUMBER,
            "GQ",
        )
        for pollutant, series in values.items()
        for i, value in enumerate(series)
    ]


async def test_hourly_index_per_station(database_url: str) -> None:
    store = await open_store_at(database_url, max_size=2)
    first = readings({"pm25": [8.0, 12.0], "no2": [150.0, 170.0], "o3": [40.0]}, HOUR)
    second = readings({"pm25": [60.0, 60.0], "no2": [20.0]}, HOUR + timedelta(hours=1))
    entity = EntityRecord("leon", STATION, "AirQualityObserved", {})
    await store.write_batch(Batch(tuple(first + second), (entity,)))
    await store.close()
    async with open_api(database_url) as http:
        answer = await http.get(
            "/ciudad/v1/services/air/aqi",
            headers={"NGSILD-Tenant": "leon"},
            params={"timeAt": "2026-11-21T08:00:00Z", "endTimeAt": "2026-11-21T10:00:00Z"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == [
            {
                "id": STATION,
                "hour": "2026-11-21T08:00:00Z",
                "band": 4,
                "label": "poor",
                "dominant": "no2",
                "means": {"no2": 160.0, "o3": 40.0, "pm25": 10.0},
            },
            {
                "id": STATION,
                "hour": "2026-11-21T09:00:00Z",
                "band": 5,
                "label": "very poor",
                "dominant": "pm25",
                "means": {"no2": 20.0, "pm25": 60.0},
            },
        ]
        backwards = await http.get(
            "/ciudad/v1/services/air/aqi",
            headers={"NGSILD-Tenant": "leon"},
            params={"timeAt": "2026-11-21T10:00:00Z", "endTimeAt": "2026-11-21T08:00:00Z"},
        )
        assert backwards.status_code == 400
