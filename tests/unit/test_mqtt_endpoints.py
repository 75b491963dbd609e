"""MQTT notification endpoints: what an mqtt(s):// URI and notifierInfo mean, what is
refused, and the URI's password kept out of what read-only keys and logs see."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from interoperability.store.subscriptions import DeliveryStatus, StoredSubscription
from interoperability.subscriptions.model import SubscriptionBody, new_subscription, redacted_uri
from interoperability.subscriptions.mqtt import Broker, MqttTarget, mqtt_target
from interoperability.subscriptions.routes import render_subscription

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_an_mqtt_uri_names_broker_user_and_topic_with_the_bindings_defaults() -> None:
    assert mqtt_target("mqtt://broker/city/noise", None) == MqttTarget(
        Broker(tls=False, host="broker", port=1883, version="mqtt5.0"), "city/noise", 0
    )
    secure = mqtt_target(
        "mqtts://ana:p%40ss@broker:9000/a%20b",
        [{"key": "MQTT-QoS", "value": "2"}, {"key": "MQTT-Version", "value": "mqtt3.1.1"}],
    )
    assert secure == MqttTarget(
        Broker(True, "broker", 9000, "mqtt3.1.1", username="ana", password="p@ss"), "a b", 2
    )
    assert mqtt_target("mqtts://ana@broker/t", None).broker.port == 8883
    assert mqtt_target("mqtts://ana@broker/t", None).broker.password is None
    assert "p@ss" not in repr(secure)


@pytest.mark.parametrize(
    "endpoint",
    [
        {"uri": "mqtt://broker"},
        {"uri": "mqtt://broker/"},
        {"uri": "mqtt://broker/city/+"},
        {"uri": "mqtt://broker/city/#"},
        {"uri": "mqtt://broker/city?x=1"},
        {"uri": "mqtt://broker/t", "notifierInfo": [{"key": "MQTT-QoS", "value": "1.0"}]},
        {"uri": "mqtt://broker/t", "notifierInfo": [{"key": "MQTT-Version", "value": "5"}]},
    ],
)
def test_endpoints_outside_the_mqtt_binding_are_refused(endpoint: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        SubscriptionBody.model_validate(
            {"entities": [{"type": "T"}], "notification": {"endpoint": endpoint}}
        )


def test_the_password_of_a_uri_is_redacted_and_nothing_else() -> None:
    assert redacted_uri("mqtt://ana:p%40ss@b:1884/t") == "mqtt://ana:********@b:1884/t"
    assert redacted_uri("https://ana:x@b/n?q=1") == "https://ana:********@b/n?q=1"
    assert redacted_uri("mqtt://ana@b/t") == "mqtt://ana@b/t"
    assert redacted_uri("mqtt://b/t") == "mqtt://b/t"


def test_read_only_keys_see_the_uri_without_its_password() -> None:
    uri = "mqtt://ana:secret@broker/city"
    body = {"entities": [{"type": "T"}], "notification": {"endpoint": {"uri": uri}}}
    status = DeliveryStatus(0, 0, None, None, None, None, None, NOW, NOW)
    stored = StoredSubscription(
        new_subscription("leon", SubscriptionBody.model_validate(body)), status
    )

    def shown(secrets: bool) -> object:
        return render_subscription(stored, NOW, secrets)["notification"]["endpoint"]["uri"]

    assert shown(secrets=True) == uri  # as written, for who may change it
    assert shown(secrets=False) == "mqtt://ana:********@broker/city"
