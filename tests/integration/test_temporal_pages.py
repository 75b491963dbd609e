"""A temporal answer cut by CIUDAD_TEMPORAL_MAX_INSTANCES: every attribute cut at one time,
so the Content-Range holds all of each attribute's instances in it (NGSI-LD 6.3.10)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.subscribing import LEON, platform

pytestmark = pytest.mark.integration

LAMP = "urn:ngsi-ld:Streetlight:leon:pages-001"
URL = f"/ngsi-ld/v1/temporal/entities/{LAMP}"


def _at(hour: int, minute: int) -> str:
    return f"2026-11-21T{hour:02d}:{minute:02d}:00Z"


def _series(hour: int, count: int, dataset: str | None = None) -> list[dict[str, Any]]:
    extra = {"datasetId": dataset} if dataset else {}
    return [
        {"type": "Property", "value": float(m), "observedAt": _at(hour, m), **extra}
        for m in range(count)
    ]


def _times(doc: dict[str, Any], attr: str) -> list[str]:
    return [i["observedAt"] for i in doc[attr]]


async def test_every_attribute_is_cut_where_the_range_ends(database_url: str) -> None:
    body = {"id": LAMP, "type": "Streetlight", "power": _series(10, 5),
            "voltage": _series(11, 5), "dimming": _series(12, 2, "urn:ds:plan")}  # fmt: skip
    async with platform(database_url, temporal_max_instances=3) as (http, _):
        created = await http.post("/ngsi-ld/v1/temporal/entities", json=body, headers=LEON)
        assert created.status_code == 201, created.text
        oldest = await http.get(URL, headers=LEON)
        assert oldest.status_code == 206
        assert _times(oldest.json(), "power") == [_at(10, m) for m in range(3)]
        assert oldest.json()["voltage"] == []
        assert oldest.json()["dimming"] == [], "a kept attribute too is answered, empty"
        assert oldest.headers["Content-Range"] == f"date-time {_at(10, 0)}-{_at(10, 2)}/*"
        after = await http.get(URL, headers=LEON, params={"timerel": "after", "timeAt": _at(9, 0)})
        assert after.headers["Content-Range"] == f"date-time {_at(9, 0)}-{_at(10, 2)}/*"
        newest = await http.get(URL, headers=LEON, params={"lastN": "5"})
        assert newest.status_code == 206
        assert newest.json()["power"] == []
        assert _times(newest.json(), "voltage") == [_at(11, m) for m in range(2, 5)]
        assert _times(newest.json(), "dimming") == [_at(12, 0), _at(12, 1)]
        assert newest.headers["Content-Range"] == f"date-time {_at(12, 1)}-{_at(11, 2)}/5"
        before = await http.get(
            URL, headers=LEON, params={"lastN": "5", "timerel": "before", "timeAt": _at(13, 0)}
        )
        assert before.headers["Content-Range"] == f"date-time {_at(13, 0)}-{_at(11, 2)}/5"
