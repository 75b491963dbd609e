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
