"""What a notification says about an entity: the instances of the subscription's datasetIds,
pick/omit and keyValues applied to the entity as it is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from interoperability.subscriptions.changes import deleted_attribute
from interoperability.subscriptions.content import entity_document
from interoperability.subscriptions.model import SubscriptionBody, new_subscription
from knowledge import Change, EntityState

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
GPS = {"type": "Property", "value": 9, "datasetId": "urn:ngsi-ld:Dataset:gps"}
DEFAULT = {"type": "Property", "value": 20}
STATE = EntityState(
    "urn:ngsi-ld:Vehicle:1", "Vehicle",
    {"speed": [DEFAULT, GPS], "brand": {"type": "Property", "value": "Seat"}}, (), NOW,
)  # fmt: skip


def _document(**members: Any) -> dict[str, Any]:
    body = {"entities": [{"type": "Vehicle"}], "notification": {"endpoint": {"uri": "http://x/"}}}
    subscription = new_subscription("leon", SubscriptionBody.model_validate(body | members))
    change = Change(1, "leon", STATE.entity_id, "Vehicle", {}, NOW)
    return entity_document(change, STATE, subscription)[0]


def test_only_the_instances_of_the_subscriptions_dataset_ids_are_notified() -> None:
    assert _document()["speed"] == [DEFAULT, GPS]
    only_gps = _document(datasetId=["urn:ngsi-ld:Dataset:gps"])
    assert only_gps == {"id": STATE.entity_id, "type": "Vehicle", "speed": GPS}
    assert _document(datasetId=["@none"])["speed"] == DEFAULT
    assert _document(datasetId=["@none"])["brand"]["value"] == "Seat"


def test_a_subscriptions_q_is_read_url_decoded() -> None:
    body = {"entities": [{"type": "Vehicle"}], "q": 'brand=="Seat%20Ibiza"',
            "notification": {"endpoint": {"uri": "http://x/"}}}  # fmt: skip
    subscription = new_subscription("leon", SubscriptionBody.model_validate(body))
    updated = {"brand": "attributeUpdated"}
    assert subscription.is_due(updated, {"brand": "Seat Ibiza"})
    assert not subscription.is_due(updated, {"brand": "Seat%20Ibiza"})


def _subscription(**members: Any) -> Any:
    body = {
        "entities": [{"type": "(Vehicle|Bus)"}],
        "notification": {"endpoint": {"uri": "http://x/"}},
    }
    return new_subscription("leon", SubscriptionBody.model_validate(body | members))


def test_notification_triggers_choose_the_events_that_notify() -> None:
    default = _subscription()
    assert default.selects("urn:x:1", ("Bus",)), "a type expression selects each of its types"
    assert not default.selects("urn:x:1", ("Car",))
    assert default.selects("urn:x:1", ("Car", "Bus")), "an entity of several types, by any"
    assert default.is_due({"speed": "attributeCreated"}, {})
    assert default.is_due({"speed": "attributeUpdated"}, {})
    assert not default.is_due({"speed": "attributeDeleted"}, {})
    assert not default.is_due({}, {}, "entityDeleted")
    assert default.is_due({"speed": "attributeCreated"}, {}, "entityCreated"), (
        "an entity created with attributes creates them"
    )
    created = _subscription(notificationTrigger=["entityCreated"])
    assert created.is_due({}, {}, "entityCreated")
    assert not created.is_due({"speed": "attributeUpdated"}, {})
    gone = _subscription(notificationTrigger=["attributeDeleted", "entityDeleted"],
                         watchedAttributes=["speed"])  # fmt: skip
    assert gone.is_due({"speed": "attributeDeleted"}, {})
    assert not gone.is_due({"brand": "attributeDeleted"}, {}), "only the watched attributes"
    assert gone.is_due({}, {}, "entityDeleted")
    any_update = _subscription(notificationTrigger=["entityUpdated"])
    assert any_update.is_due({"brand": "attributeDeleted"}, {})


def test_sys_attrs_add_the_entitys_creation_and_modification_times() -> None:
    notification = {"endpoint": {"uri": "http://x/"}, "sysAttrs": True, "attributes": ["brand"]}
    document = _document(notification=notification)
    assert document["modifiedAt"] == "2026-12-05T12:00:00Z"
    assert document["createdAt"] == document["modifiedAt"], "no creation time: the modification"
    assert set(document) == {"id", "type", "brand", "createdAt", "modifiedAt"}
    assert "createdAt" not in _document()


def test_a_deleted_attribute_is_notified_as_null_of_its_type() -> None:
    assert deleted_attribute("Property") == {"type": "Property", "value": "urn:ngsi-ld:null"}
    assert deleted_attribute("Relationship")["object"] == "urn:ngsi-ld:null"
    assert deleted_attribute("LanguageProperty")["languageMap"] == {"@none": "urn:ngsi-ld:null"}
    assert deleted_attribute("ListRelationship")["objectList"] == ["urn:ngsi-ld:null"]


def test_a_type_group_selects_only_an_entity_of_all_its_types() -> None:
    both = _subscription(entities=[{"type": "(Vehicle;Bus)|Tram"}])
    assert both.selects("urn:x:1", ("Bus", "Vehicle"))
    assert both.selects("urn:x:1", ("Tram",))
    assert not both.selects("urn:x:1", ("Bus",)), "Vehicle;Bus needs both"
    named = _subscription(entities=[{"type": "Bus"}])
    assert not named.selects("urn:x:1", ("Bu",)), "a name is matched whole"
    assert named.selects("urn:x:1", ("Vehicle", "Bus"))
