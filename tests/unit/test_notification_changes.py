"""showChanges (NGSI-LD 1.8): the previous member of each attribute type, instance by
instance, and how a deleted attribute or entity is shown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from interoperability.subscriptions.changes import deleted_attribute, gone, with_previous
from interoperability.subscriptions.model import SubscriptionBody, new_subscription
from knowledge import ChangedValue

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_each_type_shows_its_previous_member() -> None:
    old = {"type": "Relationship", "object": "urn:ngsi-ld:City:Leon"}
    new = {"type": "Relationship", "object": "urn:ngsi-ld:City:Burgos"}
    assert with_previous(new, old)["previousObject"] == "urn:ngsi-ld:City:Leon"
    texts = {"type": "LanguageProperty", "languageMap": {"es": "Ancha"}}
    assert with_previous(texts, texts)["previousLanguageMap"] == {"es": "Ancha"}
    vocab = {"type": "VocabProperty", "vocab": "monument"}
    assert with_previous(vocab | {"vocab": "museum"}, vocab)["previousVocab"] == "monument"
    assert with_previous({"type": "Property", "value": 5}, 4.0)["previousValue"] == 4, (
        "a reading's number as written"
    )
    assert with_previous({"type": "Property", "value": 5}, None) == {"type": "Property", "value": 5}


def test_instances_get_the_previous_value_of_their_dataset_id() -> None:
    gps = {"type": "Property", "value": 9, "datasetId": "urn:ngsi-ld:Dataset:gps"}
    before = [{"type": "Property", "value": 1}, gps | {"value": 8}]
    shown = with_previous([{"type": "Property", "value": 2}, gps], before)
    assert [i["previousValue"] for i in shown] == [1, 8]
    new_dataset = {"type": "Property", "value": 3, "datasetId": "urn:ngsi-ld:Dataset:new"}
    assert "previousValue" not in with_previous([new_dataset], before)[0]


def test_deleted_attributes_hold_null_and_their_deletion_time() -> None:
    assert deleted_attribute("LanguageProperty", whole_entity=True)["languageMap"] == (
        "urn:ngsi-ld:null"
    ), "an entity's deletion: plain NGSI-LD Null for every type"
    kept = {"type": "Relationship", "object": "urn:x:1", "createdAt": "2026-12-01T00:00:00Z"}
    changed = ChangedValue(None, None, None, None, "attributeDeleted", "Relationship", True, kept)
    shown = gone(changed, None, NOW, sys_attrs=True)
    assert shown == {"type": "Relationship", "object": "urn:ngsi-ld:null",
                     "createdAt": "2026-12-01T00:00:00Z",
                     "deletedAt": "2026-12-05T12:00:00Z"}  # fmt: skip


def test_an_entitys_deletion_deletes_its_watched_attributes() -> None:
    def subscription(**members: Any) -> Any:
        body = {"entities": [{"type": "Bus"}], "notification": {"endpoint": {"uri": "http://x/"}}}
        return new_subscription("leon", SubscriptionBody.model_validate(body | members))

    events = {"speed": "attributeDeleted", "brand": "attributeDeleted"}
    deletions = subscription(notificationTrigger=["attributeDeleted"], watchedAttributes=["speed"])
    assert deletions.is_due(events, {}, "entityDeleted")
    assert not deletions.is_due({"brand": "attributeDeleted"}, {}, "entityDeleted")
    assert not subscription().is_due(events, {}, "entityDeleted"), "no deletion asked for"
