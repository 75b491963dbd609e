"""Subscriptions over the running API and real PostgreSQL: matching, HTTP and MQTT delivery,
retries, throttling, periodic notifications, and no loss under load or across restarts."""

from __future__ import annotations

import asyncio
import itertools
import json
import queue
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from acquisition import Batch, EntityRecord, Reading, ValueType
from interoperability.subscriptions.notifier import LEADER_LOCK
from support.mosquitto import MosquittoBroker
from support.net import free_port
from tests.helpers.notify_receiver import Receiver, receiving
from tests.helpers.subscribing import LEON, NOISE, platform, subscribe
from tests.helpers.waiting import until, wait_until

pytestmark = pytest.mark.integration
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def noise_id(sensor: str, tenant: str = "leon") -> str:
    return f"urn:ngsi-ld:{NOISE}:{tenant}:{sensor}"


def reading(sensor: str, attr: str, second: int, value: float, tenant: str = "leon") -> Batch:
    """One reading in its own batch (one transaction, one change)."""
    entity_id = noise_id(sensor, tenant)
    return Batch(
        (
            Reading(
                tenant,
                entity_id,
                NOISE,
                attr,
                T0 + timedelta(seconds=second),
                value,
                ValueType.NUMBER,
                "2N",
            ),
        ),
        (EntityRecord(tenant, entity_id, NOISE, {}),),
    )


async def status(http: httpx.AsyncClient, sub_id: str) -> dict[str, Any]:
    answer = await http.get(f"/ngsi-ld/v1/subscriptions/{sub_id}", headers=LEON)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_changes_matching_watched_attributes_and_q_are_notified(database_url: str) -> None:
    with receiving() as receiver:
        async with platform(database_url) as (http, store):
            sub_id = await subscribe(
                http,
                receiver.uri,
                watchedAttributes=["LAeq"],
                q="LAeq>65",
                notification={
                    "attributes": ["LAeq"],
                    "endpoint": {
                        "uri": receiver.uri,
                        "receiverInfo": [{"key": "X-Token", "value": "abc"}],
                    },
                },
            )
            await store.write_batch(reading("n1", "LAeq", 0, 60.0))  # q false
            await store.write_batch(reading("n1", "LAeq", 1, 70.0))  # notified
            await store.write_batch(reading("n1", "LAmax", 2, 99.0))  # not watched
            await store.write_batch(reading("n1", "LAeq", 1, 70.0))  # replay: no change
            await store.write_batch(reading("n1", "LAeq", -5, 95.0))  # late: state stays
            await store.write_batch(reading("n2", "LAeq", 3, 90.0))  # notified
            await store.write_batch(reading("p1", "LAeq", 4, 99.0, tenant="ponferrada"))
            # changes are notified in the order they were made: once a last one arrives,
            # anything the writes above would have sent has arrived before it
            await store.write_batch(reading("n3", "LAeq", 10, 99.0))
            await until(lambda: noise_id("n3") in [e["id"] for e in receiver.entities()])
            entities = receiver.entities()[:-1]
            assert [(e["id"], e["LAeq"]["value"]) for e in entities] == [
                (noise_id("n1"), 70.0),
                (noise_id("n2"), 90.0),
            ]
            assert set(entities[0]) == {"id", "type", "LAeq"}
            assert entities[0]["LAeq"]["observedAt"] == (T0 + timedelta(seconds=1)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            assert receiver.notifications[0]["subscriptionId"] == sub_id
            assert receiver.notifications[0]["type"] == "Notification"
            assert receiver.headers[0]["NGSILD-Tenant"] == "leon"
            assert receiver.headers[0]["X-Token"] == "abc"
            # JSON names the subscriber's context in a Link header (NGSI-LD 6.3.5)
            assert "json-ld#context" in receiver.headers[0]["Link"]
            asked_at_once = (await status(http, sub_id))["notification"]
            assert asked_at_once["timesSent"] >= 1, "counted before sending: asking at once sees it"

            async def recorded() -> bool:  # the success is recorded after the endpoint answers
                sent = (await status(http, sub_id))["notification"].get("timesSent")
                return bool(sent == len(receiver.notifications))

            await wait_until(recorded)
            delivered = await status(http, sub_id)
            assert delivered["notification"]["status"] == "ok"
            assert delivered["notification"]["timesSent"] == len(receiver.notifications)
            assert "lastSuccess" in delivered["notification"]
            assert delivered["status"] == "active"
            assert delivered.get("pendingNotifications", 0) == 0  # shown when there are some


async def test_a_failing_endpoint_is_retried_and_its_status_shows_it(database_url: str) -> None:
    with receiving(fail_next=2) as receiver:
        async with platform(database_url) as (http, store):
            sub_id = await subscribe(
                http,
                receiver.uri,
                notification={"format": "keyValues", "endpoint": {"uri": receiver.uri}},
            )
            await store.write_batch(reading("n1", "LAeq", 0, 61.0))

            async def failing() -> bool:
                return "lastFailure" in (await status(http, sub_id))["notification"]

            await wait_until(failing)
            failed = (await status(http, sub_id))["notification"]
            assert failed["status"] == "failed"
            assert failed["lastFailureReason"] == "HTTP 500"
            await until(lambda: len(receiver.entities()) == 1)
            assert receiver.entities() == [{"id": noise_id("n1"), "type": NOISE, "LAeq": 61.0}]
            assert receiver.requests == 3

            # The notifier records a delivery after the endpoint has answered: wait for it.
            async def recorded() -> bool:
                return (await status(http, sub_id))["notification"]["status"] == "ok"

            await wait_until(recorded)
            recovered = (await status(http, sub_id))["notification"]
            assert (recovered["status"], recovered["timesSent"]) == ("ok", 3)
            assert recovered["lastSuccess"] > recovered["lastFailure"]
            counted = [
                'ciudad_notifications_total{outcome="failed",tenant="leon"} 2.0',
                'ciudad_notifications_total{outcome="delivered",tenant="leon"} 1.0',
                "ciudad_notification_queue 0.0",
            ]

            async def exported() -> bool:
                scraped = (await http.get("/metrics")).text
                return all(line in scraped for line in counted)

            await wait_until(exported, what=f"the metrics {counted}")


async def test_a_receiver_reading_its_subscription_while_it_answers_sees_its_answer(
    database_url: str,
) -> None:
    """The conformance suite's receiver answers, then reads the subscription at once: the
    read waits for the answer's outcome to be recorded (here the answer leaves 0.3 s after
    the notification arrived, and the read is made as soon as it arrived)."""
    with receiving(answer_delay_s=0.3) as receiver:
        async with platform(database_url) as (http, store):
            sub_id = await subscribe(http, receiver.uri)
            await store.write_batch(reading("n1", "LAeq", 0, 61.0))
            await until(lambda: receiver.requests == 1)
            notification = (await status(http, sub_id))["notification"]
    assert notification["status"] == "ok"
    assert "lastSuccess" in notification, "the delivery under way was waited for"


async def test_no_change_is_lost_under_concurrent_load_and_flaky_endpoint(
    database_url: str,
) -> None:
    sensors, rounds = 20, 40
    with receiving(fail_every=4) as receiver:
        async with platform(database_url) as (http, store):
            await subscribe(http, receiver.uri)

            async def one_sensor(sensor: int) -> None:
                for second in range(rounds):
                    await store.write_batch(reading(f"s{sensor}", "LAeq", second, float(second)))

            await asyncio.gather(*(one_sensor(s) for s in range(sensors)))

            def seen() -> list[tuple[str, float]]:
                return [(e["id"], e["LAeq"]["value"]) for e in receiver.entities()]

            last = (noise_id("last"), 0.0)  # notified after all the others (in order)
            await store.write_batch(reading("last", "LAeq", rounds, 0.0))
            await until(lambda: last in seen(), timeout_s=60)
            assert seen()[-1] == last
            assert sorted(seen()[:-1]) == sorted(
                (noise_id(f"s{s}"), float(r)) for s in range(sensors) for r in range(rounds)
            )
            ids = [n["id"] for n in receiver.notifications]
            assert len(ids) == len(set(ids))
            for sensor in range(sensors):  # each entity's changes arrive in order
                values = [v for i, v in seen() if i == noise_id(f"s{sensor}")]
                assert values == sorted(values)


async def test_throttling_holds_notifications_back_and_sends_them_together(
    database_url: str,
) -> None:
    with receiving() as receiver:
        async with platform(database_url) as (http, store):
            await subscribe(http, receiver.uri, throttling=1.5)
            for second in range(5):
                await store.write_batch(reading("n1", "LAeq", second, 50.0 + second))
                await asyncio.sleep(0.1)
            await until(lambda: len(receiver.entities()) == 5)
            notified = [datetime.fromisoformat(n["notifiedAt"]) for n in receiver.notifications]
            assert 2 <= len(notified) < 5
            gaps = [b - a for a, b in itertools.pairwise(notified)]
            assert all(gap >= timedelta(seconds=1.4) for gap in gaps), gaps
            assert [e["LAeq"]["value"] for e in receiver.entities()] == [50.0, 51, 52, 53, 54]


async def test_time_interval_notifies_the_current_state_periodically(database_url: str) -> None:
    with receiving() as receiver:
        async with platform(database_url) as (http, store):
            await store.write_batch(reading("n1", "LAeq", 0, 55.0))
            await store.write_batch(reading("n2", "LAeq", 0, 75.0))
            sub_id = await subscribe(http, receiver.uri, timeInterval=1, q="LAeq>60")
            interval = (await status(http, sub_id))["timeInterval"]
            assert (interval, type(interval)) == (1, int), "as written: 1, not 1.0"
            await until(lambda: len(receiver.notifications) >= 2)
            for notification in receiver.notifications[:2]:
                assert [e["id"] for e in notification["data"]] == [noise_id("n2")]
            first, second = (
                datetime.fromisoformat(n["notifiedAt"]) for n in receiver.notifications[:2]
            )
            assert second - first >= timedelta(seconds=0.9)


async def test_mqtt_endpoints_receive_notifications(
    database_url: str, mosquitto: MosquittoBroker
) -> None:
    received: queue.Queue[bytes] = queue.Queue()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="notification-listener")
    listener.on_message = lambda client, userdata, message: received.put(message.payload)
    listener.connect("127.0.0.1", mosquitto.port)
    listener.subscribe("city/alerts/noise", qos=1)
    listener.loop_start()
    try:
        async with platform(database_url) as (http, store):
            uri = f"mqtt://127.0.0.1:{mosquitto.port}/city/alerts/noise"
            await subscribe(http, uri, q="LAeq>=80")
            await store.write_batch(reading("n1", "LAeq", 0, 85.0))
            message = json.loads(await asyncio.to_thread(received.get, timeout=15))
    finally:
        listener.loop_stop()
        listener.disconnect()
    assert message["metadata"]["NGSILD-Tenant"] == "leon"
    assert [e["LAeq"]["value"] for e in message["body"]["data"]] == [85.0]


async def test_queued_notifications_survive_a_restart_of_the_api(database_url: str) -> None:
    port = free_port()
    async with platform(database_url) as (http, store):
        await subscribe(http, f"http://127.0.0.1:{port}/notify")
        for second, level in enumerate((64.0, 65.0)):
            await store.write_batch(reading("n1", "LAeq", second, level))

            async def queued(count: int = second + 1) -> bool:
                listed = (await http.get("/ngsi-ld/v1/subscriptions", headers=LEON)).json()
                return bool(listed[0].get("pendingNotifications", 0) == count)

            await wait_until(queued)  # the endpoint is down: nothing can be sent
    receiver: Receiver
    with receiving(port) as receiver:
        async with platform(database_url):
            await until(lambda: len(receiver.entities()) == 2)
    assert [e["LAeq"]["value"] for e in receiver.entities()] == [64.0, 65.0]


async def test_subscription_crud_validation_and_tenants(database_url: str) -> None:
    async with platform(database_url) as (http, _):
        uri = "http://127.0.0.1:9/notify"
        sub_id = await subscribe(http, uri, id="urn:ngsi-ld:Subscription:noise", q="LAeq>1")
        assert sub_id == "urn:ngsi-ld:Subscription:noise"
        again = await http.post(
            "/ngsi-ld/v1/subscriptions",
            headers=LEON,
            json={
                "id": sub_id,
                "entities": [{"type": NOISE}],
                "notification": {"endpoint": {"uri": uri}},
            },
        )
        assert again.status_code == 409
        for bad in (
            {"notification": {"endpoint": {"uri": uri}}},  # neither entities nor watched
            {"entities": [{"type": NOISE}], "notification": {"endpoint": {"uri": "ftp://x/y"}}},
            {
                "entities": [{"type": NOISE}],
                "q": "(LAeq>1",
                "notification": {"endpoint": {"uri": uri}},
            },
            {
                "entities": [{"type": NOISE}],
                "timeInterval": 5,
                "watchedAttributes": ["a"],
                "notification": {"endpoint": {"uri": uri}},
            },
            {
                "entities": [{"type": NOISE}],
                "notification": {"endpoint": {"uri": "mqtt://127.0.0.1:1883"}},
            },
        ):
            answer = await http.post("/ngsi-ld/v1/subscriptions", json=bad, headers=LEON)
            assert answer.status_code == 400, bad
            assert answer.json()["type"].endswith("BadRequestData")
        patched = await http.patch(
            f"/ngsi-ld/v1/subscriptions/{sub_id}",
            json={"q": "LAeq>2", "isActive": False},
            headers=LEON,
        )
        assert patched.status_code == 204
        got = await status(http, sub_id)
        assert (got["q"], got["status"]) == ("LAeq>2", "paused")
        other = await http.get("/ngsi-ld/v1/subscriptions", headers={"NGSILD-Tenant": "ponferrada"})
        assert other.json() == []
        assert (
            await http.get(
                f"/ngsi-ld/v1/subscriptions/{sub_id}", headers={"NGSILD-Tenant": "ponferrada"}
            )
        ).status_code == 404
        assert (
            await http.delete(f"/ngsi-ld/v1/subscriptions/{sub_id}", headers=LEON)
        ).status_code == 204
        assert (
            await http.get(f"/ngsi-ld/v1/subscriptions/{sub_id}", headers=LEON)
        ).status_code == 404


async def leadership(http: httpx.AsyncClient) -> str:
    return str((await http.get("/health/ready")).json()["notifier"])


async def test_a_leader_that_loses_its_lock_session_stands_down_then_leads_again(
    database_url: str,
) -> None:
    """The lock lives in one session: once it dies (a network cut, a restarted pooler)
    another API process may take the lock, so the old leader must stop notifying."""
    with receiving() as receiver:
        async with platform(database_url) as (http, store):

            async def state_is(expected: str) -> bool:
                return await leadership(http) == expected

            await wait_until(lambda: state_is("leading"))
            with psycopg.connect(database_url, autocommit=True) as admin:
                killed = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND objid = %s",
                    (LEADER_LOCK,),
                ).fetchall()
            await wait_until(lambda: state_is("standby"))
            await wait_until(lambda: state_is("leading"))
            await subscribe(http, receiver.uri)
            await store.write_batch(reading("n1", "LAeq", 0, 61.0))
            await until(lambda: len(receiver.entities()) == 1)
    assert killed == [(True,)]
