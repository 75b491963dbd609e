"""The concise representation (NGSI-LD 4.5.3): types dropped where the value member says
them, bare values only where nothing is lost."""

from __future__ import annotations

from interoperability.entities.concise import concise

POINT = {"type": "Point", "coordinates": [-5.57, 42.6]}


def test_attributes_lose_the_type_their_value_member_says() -> None:
    assert concise({"type": "Property", "value": 71.5}) == 71.5
    assert concise({"type": "Property", "value": 71.5, "unitCode": "2N"}) == {
        "value": 71.5,
        "unitCode": "2N",
    }
    assert concise({"type": "Relationship", "object": "urn:a"}) == {"object": "urn:a"}
    assert concise({"type": "GeoProperty", "value": POINT}) == POINT
    assert concise({"type": "LanguageProperty", "languageMap": {"es": "León"}}) == {
        "languageMap": {"es": "León"}
    }


def test_values_that_could_be_misread_keep_their_member() -> None:
    assert concise({"type": "Property", "value": {"a": 1}}) == {"value": {"a": 1}}
    assert concise({"type": "Property", "value": [1, 2]}) == {"value": [1, 2]}
    assert concise({"type": "JsonProperty", "json": {"type": "Property"}}) == {
        "json": {"type": "Property"}
    }


def test_sub_attributes_and_instances_are_concise_too() -> None:
    nested = {"type": "Property", "value": 3, "source": {"type": "Property", "value": "x"}}
    assert concise(nested) == {"value": 3, "source": "x"}
    two = [{"type": "Property", "value": 1, "datasetId": "urn:d:1"},
           {"type": "Property", "value": 2}]  # fmt: skip
    assert concise(two) == [{"value": 1, "datasetId": "urn:d:1"}, 2]
