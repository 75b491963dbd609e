"""What a write does to one attribute's instances (datasetId), as NGSI-LD 4.5.5 and the
update, append and merge operations say."""

from __future__ import annotations

from typing import Any

from interoperability.entities.attribute_merge import NULL, combine, is_null

DEFAULT = {"type": "Property", "value": 55, "source": {"type": "Property", "value": "Speedo"}}
GPS = {"type": "Property", "value": 54.5, "datasetId": "urn:ngsi-ld:Dataset:gps"}


def test_a_given_instance_replaces_the_one_of_its_dataset_id_only() -> None:
    given = {"type": "Property", "value": 99, "datasetId": "urn:ngsi-ld:Dataset:gps"}
    result = combine([DEFAULT, GPS], given, "replace")
    assert result.attribute == [DEFAULT, given]
    assert result.touched


def test_an_instance_of_a_new_dataset_id_is_added_beside_the_others() -> None:
    given = {"type": "Property", "value": 1, "datasetId": "urn:ngsi-ld:Dataset:new"}
    assert combine(DEFAULT, given, "replace").attribute == [DEFAULT, given]
    assert combine(None, given, "replace").attribute == given


def test_no_overwrite_adds_new_instances_and_names_the_ones_it_left() -> None:
    new = {"type": "Property", "value": 1, "datasetId": "urn:ngsi-ld:Dataset:new"}
    result = combine([DEFAULT, GPS], [{**GPS, "value": 0}, new], "keep")
    assert result.attribute == [DEFAULT, GPS, new]
    assert result.skipped == ("urn:ngsi-ld:Dataset:gps",)


def test_a_merge_keeps_the_members_it_does_not_give() -> None:
    current = {
        "type": "Property",
        "value": 4,
        "unitCode": "C62",
        "observedAt": "2020-09-09T16:40:00Z",
    }
    merged = combine(current, {"value": 1}, "merge").attribute
    assert merged == {"type": "Property", "value": 1, "unitCode": "C62"}, (
        "a new value without observedAt is a new observation: the old time goes"
    )
    stated = combine(current, {"value": 2, "observedAt": "2024-01-01T00:00:00Z"}, "merge")
    assert stated.attribute["observedAt"] == "2024-01-01T00:00:00Z"


def test_a_merge_goes_into_sub_attributes_and_a_new_type_replaces_whole() -> None:
    merged = combine(DEFAULT, {"source": {"type": "Property", "value": "GPS"}}, "merge")
    assert merged.attribute["source"]["value"] == "GPS"
    assert merged.attribute["value"] == 55
    gone = combine(DEFAULT, {"source": {"type": "Property", "value": NULL}}, "merge")
    assert "source" not in gone.attribute
    relationship = {"type": "Relationship", "object": "urn:ngsi-ld:Brand:01"}
    assert combine(DEFAULT, relationship, "merge").attribute == relationship


def test_the_null_uri_removes_the_instance_of_its_dataset_id() -> None:
    null_gps = {"type": "Property", "value": NULL, "datasetId": "urn:ngsi-ld:Dataset:gps"}
    result = combine([DEFAULT, GPS], null_gps, "replace")
    assert result.attribute == DEFAULT
    assert combine(DEFAULT, {"type": "Property", "value": NULL}, "merge").attribute is None
    untouched = combine(DEFAULT, null_gps, "merge")
    assert untouched.attribute == DEFAULT
    assert not untouched.touched


def test_null_is_recognised_in_every_attribute_type() -> None:
    nulls: list[Any] = [
        NULL,
        {"type": "Relationship", "object": NULL},
        {"type": "LanguageProperty", "languageMap": {"@none": NULL}},
        {"type": "ListProperty", "valueList": [NULL]},
        {"object": NULL},
    ]
    assert all(is_null(n) for n in nulls)
    assert not is_null({"type": "Property", "value": "urn:ngsi-ld:Other"})
    assert not is_null({"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}})
