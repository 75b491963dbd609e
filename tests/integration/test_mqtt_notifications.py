"""MQTT notification endpoints (NGSI-LD's MQTT binding) over the running API, real
PostgreSQL and real mosquitto: the message, QoS and version, the delivery status, the
outbound allow-list, and brokers with users."""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from acquisition import Batch, EntityRecord, Reading, ValueType
from acquisition.provisioning.credentials import mosquitto_password_hash
from interoperability.ngsild import CORE_CONTEXT
from interoperability.subscriptions.model import Endpoint
from interoperability.subscriptions.transport import DeliveryError, NotificationSender
from support.mosquitto import BrokerSecurity, MosquittoBroker
from support.net import LOOPBACK, free_port
from support.outbound import OutboundPolicy
from tests.helpers.mqtt_listening import listening
from tests.helpers.subscribing import LEON, NOISE, platform, subscribe
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.integration
SECRET = "s3cr@t"  # written %40 in the URI: the user info is decoded
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def reading(value: float, second: int = 0) -> Batch:
    entity_id = f"urn:ngsi-ld:{NOISE}:leon:mqtt"
    observed = T0 + timedelta(seconds=second)
    return Batch(
        (Reading("leon", entity_id, NOISE, "LAeq", observed, value, ValueType.NUMBER, "2N"),),
        (EntityRecord("leon", entity_id, NOISE, {}),),
    )


async def notification_status(http: httpx.AsyncClient, sub_id: str) -> dict[str, Any]:
    answer = await http.get(f"/ngsi-ld/v1/subscriptions/{sub_id}", headers=LEON)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()["notification"]
    return found


async def test_a_notification_is_published_as_metadata_and_body(
    database_url: str, mosquitto: MosquittoBroker
) -> None:
    base = f"mqtt://{LOOPBACK}:{mosquitto.port}/city/mqtt"
    with listening(mosquitto.port, "city/mqtt/#") as listener:
        async with platform(database_url) as (http, store):
            qos1 = await subscribe(
                http,
                f"{base}/qos1",
                notification={
                    "endpoint": {
                        "uri": f"{base}/qos1",
                        "receiverInfo": [{"key": "X-Receiver", "value": "abc"}],
                        "notifierInfo": [
                            {"key": "MQTT-QoS", "value": "1"},
                            {"key": "MQTT-Version", "value": "mqtt3.1.1"},
                        ],
                    }
                },
            )
            await subscribe(http, f"{base}/default")  # QoS 0, MQTT 5.0
            await store.write_batch(reading(70.0))
            messages = dict([await asyncio.to_thread(listener.next) for _ in range(2)])

            async def recorded() -> bool:
                status = await notification_status(http, qos1)
                return status.get("status") == "ok" and status.get("timesSent") == 1

            await wait_until(recorded)
            assert "lastSuccess" in await notification_status(http, qos1)
    message = messages["city/mqtt/qos1"]
    assert message["metadata"]["Content-Type"] == "application/json"
    assert CORE_CONTEXT in message["metadata"]["Link"]
    assert message["metadata"]["X-Receiver"] == "abc"
    assert message["body"]["type"] == "Notification"
    assert message["body"]["subscriptionId"] == qos1
    assert [e["LAeq"]["value"] for e in message["body"]["data"]] == [70.0]
    assert messages["city/mqtt/default"]["body"]["data"] == message["body"]["data"]


async def test_mqtt_options_outside_the_binding_are_refused(database_url: str) -> None:
    async with platform(database_url) as (http, _):
        for endpoint in (
            {"uri": "mqtt://127.0.0.1/t", "notifierInfo": [{"key": "MQTT-QoS", "value": "3"}]},
            {"uri": "mqtt://127.0.0.1/t", "notifierInfo": [{"key": "MQTT-Version", "value": "3"}]},
            {"uri": "mqtt://127.0.0.1/city/#"},
            {"uri": "mqtt://127.0.0.1/city/+/noise"},
            {"uri": "mqtts://127.0.0.1"},
            {"uri": "mqtt://10.1.2.3/city"},  # not in CIUDAD_OUTBOUND_ALLOW
        ):
            body = {"entities": [{"type": NOISE}], "notification": {"endpoint": endpoint}}
            answer = await http.post("/ngsi-ld/v1/subscriptions", json=body, headers=LEON)
            assert answer.status_code == 400, endpoint


async def test_a_broker_not_allowed_is_never_contacted() -> None:
    with socket.socket() as server:
        server.bind((LOOPBACK, 0))
        server.listen()
        server.setblocking(False)
        port = server.getsockname()[1]
        sender = NotificationSender(2.0, OutboundPolicy())  # loopback not allowed
        try:
            endpoint = Endpoint(uri=f"mqtt://{LOOPBACK}:{port}/city")
            with pytest.raises(DeliveryError, match="not allowed"):
                await sender.send(endpoint, "leon", {"type": "Notification", "data": []})
        finally:
            await sender.close()
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody knocked


def secured_broker(directory: Path) -> MosquittoBroker:
    passwords, acl = directory / "passwords", directory / "acl"
    passwords.write_text(
        f"notifier:{mosquitto_password_hash(SECRET)}\nlistener:{mosquitto_password_hash('l')}\n"
    )
    acl.write_text("user notifier\ntopic write city/#\nuser listener\ntopic read city/#\n")
    return MosquittoBroker(free_port(), directory, BrokerSecurity(passwords, acl))


async def test_a_broker_with_users_and_its_restart(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    broker = secured_broker(tmp_path)
    broker.start()
    try:
        at = f"{LOOPBACK}:{broker.port}/city/secure"
        async with platform(database_url) as (http, store):
            wrong = await subscribe(http, f"mqtt://notifier:nope@{at}")
            good = await subscribe(http, f"mqtt://notifier:s3cr%40t@{at}")
            for second, value in enumerate((71.0, 72.0)):
                with listening(broker.port, "city/#", "listener", "l") as listener:
                    await store.write_batch(reading(value, second))
                    _, message = await asyncio.to_thread(listener.next)
                assert [e["LAeq"]["value"] for e in message["body"]["data"]] == [value]
                broker.stop()  # the kept connection drops: the next delivery makes another
                broker.start()

            async def refused() -> bool:  # not "connection failed" of a restart's moment
                status = await notification_status(http, wrong)
                reason = status.get("lastFailureReason")
                return reason == "MQTT: the broker refused the connection"

            await wait_until(refused)
            assert (await notification_status(http, wrong))["status"] == "failed"
            assert (await notification_status(http, good))["endpoint"]["uri"].endswith(at)
    finally:
        broker.stop()
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "s3cr" not in logged
    assert "nope" not in logged
    with psycopg.connect(database_url) as conn:
        audited = conn.execute(
            "SELECT detail->>'endpoint' FROM ciudad_audit WHERE action = 'subscription.create'"
        ).fetchall()
    assert sorted(row[0] for row in audited) == [
        f"mqtt://notifier:********@{at}",
        f"mqtt://notifier:********@{at}",
    ]
