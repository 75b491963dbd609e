"""The records an attribute's deletion leaves in its temporal evolution (soft deletion)."""

from __future__ import annotations

from datetime import UTC, datetime

from interoperability.entities.soft_delete import deletion_records, null_instance

AT = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
NULL = "urn:ngsi-ld:null"


def test_each_type_has_its_null() -> None:
    assert null_instance("Relationship", AT) == {
        "type": "Relationship", "object": NULL, "deletedAt": "2026-12-05T18:00:00Z"
    }  # fmt: skip
    assert null_instance("LanguageProperty", AT)["languageMap"] == {"@none": NULL}
    assert null_instance("ListProperty", AT)["valueList"] == [NULL]


def test_records_of_the_instances_that_go() -> None:
    colour = [
        {"type": "Property", "value": "red"},
        {"type": "Property", "value": "rojo", "datasetId": "urn:ngsi-ld:Dataset:es"},
    ]
    [one] = deletion_records("colour", colour, ["urn:ngsi-ld:Dataset:es"], AT)
    assert (one.dataset_id, one.deleted, one.observed_at) == ("urn:ngsi-ld:Dataset:es", True, AT)
    assert one.instance["datasetId"] == "urn:ngsi-ld:Dataset:es"
    assert len(deletion_records("colour", colour, None, AT)) == 2, "deleteAll: every instance"
    assert deletion_records("colour", colour, ["urn:ngsi-ld:Dataset:fr"], AT) == ()


def test_scope_goes_whole_as_an_empty_list() -> None:
    [scope] = deletion_records("scope", ["/Leon/Centro"], [None], AT)
    assert dict(scope.instance) == {
        "type": "Property", "value": [], "deletedAt": "2026-12-05T18:00:00Z"
    }  # fmt: skip
