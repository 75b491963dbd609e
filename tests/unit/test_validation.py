"""Offline Smart Data Models validation: official examples, our entities, no network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acquisition import EntityValidator, flatten_normalized, parse_provisioning
from support import ConfigurationError, PayloadError

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "sdm-examples"


@pytest.mark.parametrize("entity_type", ["NoiseLevelObserved", "ParkingSpot", "Streetlight"])
def test_official_normalized_examples_validate(
    validator: EntityValidator, entity_type: str
) -> None:
    example = json.loads((EXAMPLES / f"{entity_type}.jsonld").read_text())
    validator.validate_normalized(example)


def test_an_invalid_official_example_is_refused(validator: EntityValidator) -> None:
    example = json.loads((EXAMPLES / "ParkingSpot.jsonld").read_text())
    example["status"]["value"] = "half-full"
    with pytest.raises(PayloadError, match="status"):
        validator.validate_normalized(example)


def test_flatten_turns_normalized_into_key_values() -> None:
    flat = flatten_normalized(
        {
            "id": "urn:x",
            "type": "ParkingSpot",
            "status": {"type": "Property", "value": "free"},
            "refParkingSite": {"type": "Relationship", "object": "urn:site"},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}},
            "when": {"type": "Property", "value": {"@type": "DateTime", "@value": "2026-01-01"}},
            "@context": ["x"],
        }
    )
    assert flat == {
        "id": "urn:x",
        "type": "ParkingSpot",
        "status": "free",
        "refParkingSite": "urn:site",
        "location": {"type": "Point", "coordinates": [1, 2]},
        "when": "2026-01-01",
    }


def test_missing_required_attribute_is_a_schema_violation(validator: EntityValidator) -> None:
    spot = {
        "id": "urn:ngsi-ld:ParkingSpot:a",
        "type": "ParkingSpot",
        "status": "free",
        "category": ["onStreet"],
        "location": {"type": "Point", "coordinates": [-5.5, 42.6]},
    }
    with pytest.raises(PayloadError) as caught:
        validator.validate_key_values(spot)
    assert caught.value.reason == "schema_violation"
    assert "refParkingSite" in caught.value.detail


def test_update_validation_checks_values_after_the_first_full_check(
    validator: EntityValidator,
) -> None:
    static = {"location": {"type": "Point", "coordinates": [-5.5, 42.6]}, "status": "ok"}
    validator.validate_update("urn:l1", "Streetlight", static, {"illuminanceLevel": 0.5})
    with pytest.raises(PayloadError) as caught:
        validator.validate_update("urn:l1", "Streetlight", static, {"illuminanceLevel": 1.5})
    assert caught.value.reason == "schema_violation"


def test_first_update_of_an_entity_with_a_broken_static_part_is_refused(
    validator: EntityValidator,
) -> None:
    static = {"location": {"type": "Point"}, "status": "ok"}  # no coordinates
    with pytest.raises(PayloadError):
        validator.validate_update("urn:l2", "Streetlight", static, {"illuminanceLevel": 0.5})


def test_unknown_entity_type_is_a_configuration_error(validator: EntityValidator) -> None:
    with pytest.raises(ConfigurationError):
        validator.validate_key_values({"id": "x", "type": "Spaceship"})


def test_provisioning_with_an_unknown_type_fails_loudly() -> None:
    document = {
        "service_groups": [{"apikey": "k", "tenant": "t"}],
        "devices": [{"device_id": "d", "apikey": "k", "entity_type": "Spaceship"}],
    }
    with pytest.raises(ConfigurationError, match="Spaceship"):
        parse_provisioning(document)


@pytest.mark.parametrize(
    "document",
    [
        {
            "service_groups": [],
            "devices": [{"device_id": "d", "apikey": "k", "entity_type": "ParkingSpot"}],
        },
        {"service_groups": [{"apikey": "k", "tenant": "Bad Tenant"}], "devices": []},
        {"service_groups": [{"apikey": "k", "tenant": "t"}], "devices": [], "extra": 1},
    ],
)
def test_invalid_provisioning_documents_are_configuration_errors(document: dict) -> None:
    with pytest.raises(ConfigurationError):
        parse_provisioning(document)


@pytest.mark.parametrize(
    "entity_type", ["NoiseLevelObserved", "AirQualityObserved", "ParkingSpot", "Streetlight"]
)
def test_compiled_property_checks_agree_with_jsonschema(
    validator: EntityValidator, entity_type: str
) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    compiled = validator._compiled[entity_type]
    slow = validator._values_only[entity_type]
    names = sorted(n for n, check in compiled.items() if check is not None)
    assert names  # the dynamic attributes of every type compile
    values = st.one_of(
        st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
        st.integers(min_value=-10, max_value=10),
        st.booleans(),
        st.sampled_from(["ok", "free", "on", "2026-01-01T00:00:00Z", "2026-01-01", "x"]),
    )

    @settings(max_examples=300, deadline=None)
    @given(name=st.sampled_from(names), value=values)
    def agree(name: str, value: object) -> None:
        fast_ok = compiled[name](value) is None  # type: ignore[misc]
        slow_ok = not list(slow.iter_errors({name: value}))
        assert fast_ok == slow_ok, (name, value)

    agree()
