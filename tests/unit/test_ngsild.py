"""NGSI-LD rendering of knowledge records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from interoperability import CORE_CONTEXT, render_entity, render_temporal
from interoperability.ngsild import simplified_temporal
from knowledge import AttributeHistory, AttributeState, EntityState
from support.times import iso_utc

T = datetime(2026, 1, 1, tzinfo=UTC)


def test_api_times_are_utc_with_z_and_milliseconds_only_when_needed() -> None:
    assert iso_utc(T) == "2026-01-01T00:00:00Z"
    assert iso_utc(T.replace(second=1, microsecond=79_000)) == "2026-01-01T00:00:01.079Z"
    plus_one = timezone(timedelta(hours=1))
    assert iso_utc(datetime(2026, 1, 1, 1, tzinfo=plus_one)) == "2026-01-01T00:00:00Z"


def _state() -> EntityState:
    return EntityState(
        "urn:x",
        "ParkingSpot",
        {"category": {"type": "Property", "value": ["onStreet"]}},
        (AttributeState("status", "free", "Text", T, None),),
        T,
    )


def test_entity_has_static_and_latest_attributes() -> None:
    doc = render_entity(_state(), with_context=True)
    assert doc == {
        "id": "urn:x",
        "type": "ParkingSpot",
        "category": {"type": "Property", "value": ["onStreet"]},
        "status": {"type": "Property", "value": "free", "observedAt": "2026-01-01T00:00:00Z"},
        "@context": CORE_CONTEXT,
    }


def test_temporal_lists_instances_per_attribute() -> None:
    history = AttributeHistory("status", None, (T, T + timedelta(minutes=1)), ("free", "occupied"))
    doc = render_temporal(_state(), [history], [], with_context=False)
    assert [i["value"] for i in doc["status"]] == ["free", "occupied"]
    assert doc["status"][1]["observedAt"] == "2026-01-01T00:01:00Z"
    assert "@context" not in doc


def test_the_simplified_temporal_representation_names_each_types_values() -> None:
    doc = {
        "id": "urn:x:1", "type": "Vehicle",
        "speed": [{"type": "Property", "value": 1, "observedAt": "t1"}],
        "parkedIn": [{"type": "Relationship", "object": "urn:x:p", "observedAt": "t2"}],
        "street": [{"type": "LanguageProperty", "languageMap": {"es": "Ancha"},
                    "observedAt": "t3"}],
    }  # fmt: skip
    simple = simplified_temporal(doc)
    assert simple["speed"] == {"type": "Property", "values": [[1, "t1"]]}
    assert simple["parkedIn"] == {"type": "Relationship", "objects": [["urn:x:p", "t2"]]}
    assert simple["street"] == {
        "type": "LanguageProperty", "languageMaps": [[{"languageMap": {"es": "Ancha"}}, "t3"]]
    }  # fmt: skip
