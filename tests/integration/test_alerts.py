"""Alerts end to end: rules evaluated over stored data, Alert entities delivered through
subscriptions (HTTP and MQTT), acknowledgement notified, and the periodic evaluator."""

from __future__ import annotations

import asyncio
import json
import queue
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from acquisition import Batch, EntityRecord, Reading, ValueType
from knowledge import PostgresStore
from services import ServiceTables, service_jobs, service_routers
from support import Settings
from support.mosquitto import MosquittoBroker
from tests.helpers.notify_receiver import receiving
from tests.helpers.subscribing import LEON, platform, subscribe
from tests.helpers.waiting import until

pytestmark = pytest.mark.integration
AIR = "AirQualityObserved"
HOUR = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
WHERE = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-5.57, 42.6]}}


def station(name: str) -> str:
    return f"urn:ngsi-ld:{AIR}:leon:{name}"


def no2(name: str, values: list[tuple[int, float]]) -> Batch:
    """NO2 readings of one station at minutes after HOUR."""
    readings = tuple(
        Reading("leon", station(name), AIR, "no2", HOUR + timedelta(minutes=m), v,
                ValueType.NUMBER, "GQ")
        for m, v in values
    )  # fmt: skip
    return Batch(readings, (EntityRecord("leon", station(name), AIR, {"location": WHERE}),))


def with_services(config: Settings) -> dict[str, Any]:
    """What `ciudad api` adds to the API: the services' routers and jobs (the alerts')."""
    tables = ServiceTables.load(config)
    return {"routers": service_routers(tables), "jobs": service_jobs(config, tables)}


def services_platform(
    database_url: str, **settings: Any
) -> AbstractAsyncContextManager[tuple[httpx.AsyncClient, PostgresStore]]:
    """The API as `ciudad api` builds it (services, alert job, notifier), open on loopback."""
    return platform(database_url, with_services, **settings)


def mqtt_listener(port: int, topic: str) -> tuple[mqtt.Client, queue.Queue[bytes]]:
    received: queue.Queue[bytes] = queue.Queue()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="alert-listener")
    listener.on_message = lambda client, userdata, message: received.put(message.payload)
    listener.connect("127.0.0.1", port)
    listener.subscribe(topic, qos=1)
    listener.loop_start()
    return listener, received


async def test_no2_exceedance_is_delivered_over_http_and_mqtt_and_acknowledged(
    database_url: str, mosquitto: MosquittoBroker
) -> None:
    listener, over_mqtt = mqtt_listener(mosquitto.port, "city/alerts")
    try:
        with receiving() as receiver:
            async with services_platform(database_url, alert_interval_s=0) as (http, store):
                await subscribe(http, receiver.uri, entities=[{"type": "Alert"}])
                await subscribe(
                    http,
                    f"mqtt://127.0.0.1:{mosquitto.port}/city/alerts",
                    entities=[{"type": "Alert"}],
                )
                await store.write_batch(
                    no2("s1", [(5, 190.0), (25, 230.0), (45, 250.0), (70, 150.0)])
                )
                await store.write_batch(no2("s2", [(5, 199.0), (50, 201.0)]))  # mean 200: not above
                window = {
                    "timeAt": HOUR.isoformat(),
                    "endTimeAt": (HOUR + timedelta(hours=2)).isoformat(),
                }
                first = await http.post(
                    "/ciudad/v1/services/alerts/evaluate", params=window, headers=LEON
                )
                again = await http.post(
                    "/ciudad/v1/services/alerts/evaluate", params=window, headers=LEON
                )
                await until(lambda: len(receiver.entities()) == 1)
                mqtt_alert = json.loads(await asyncio.to_thread(over_mqtt.get, timeout=15))
                (alert,) = receiver.entities()
                acked = await http.post(
                    f"/ciudad/v1/services/alerts/{alert['id']}/ack", headers=LEON
                )
                await until(lambda: len(receiver.entities()) == 2)
                still_open = await http.get("/ciudad/v1/services/alerts?status=open", headers=LEON)
                listed = await http.get("/ciudad/v1/services/alerts", headers=LEON)
                not_alert = await http.post(
                    f"/ciudad/v1/services/alerts/{station('s1')}/ack", headers=LEON
                )
                unknown = await http.post("/ciudad/v1/services/alerts/urn:x/ack", headers=LEON)
    finally:
        listener.loop_stop()
        listener.disconnect()
    assert first.json() == {"raised": 1}
    assert again.json() == {"raised": 0}
    assert alert["type"] == "Alert"
    assert alert["alertSource"]["value"] == station("s1")
    assert alert["alertRule"]["value"] == "no2-hourly-limit"
    assert alert["severity"]["value"] == "high"
    assert alert["measuredValue"]["value"] == pytest.approx(223.33, abs=0.01)
    assert alert["validFrom"]["value"]["@value"] == HOUR.isoformat().replace("+00:00", "Z")
    assert alert["location"]["value"]["coordinates"] == [-5.57, 42.6]
    assert alert["alertStatus"]["value"] == "open"
    assert mqtt_alert["body"]["data"][0]["id"] == alert["id"]
    assert acked.status_code == 200
    assert acked.json()["status"] == "acknowledged"
    assert receiver.entities()[1]["alertStatus"]["value"] == "acknowledged"
    assert still_open.json() == []
    (shown,) = listed.json()
    assert shown["status"] == "acknowledged"
    assert shown["acknowledgedAt"] is not None
    assert not_alert.status_code == 404
    assert unknown.status_code == 404


async def test_the_periodic_evaluator_raises_alerts_for_provisioned_tenants(
    database_url: str,
) -> None:
    async with platform(
        database_url, with_services, alert_interval_s=0.2, notifier_enabled=False
    ) as (
        http,
        store,
    ):
        group = {"apikey": "leon-sensors", "tenant": "leon"}
        assert (
            await http.post("/ciudad/v1/service-groups", json=group, headers=LEON)
        ).status_code == 201
        last_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
            hours=1
        )
        minutes = int((last_hour - HOUR).total_seconds() // 60)
        await store.write_batch(no2("s1", [(minutes + 10, 260.0), (minutes + 40, 240.0)]))

        async def raised() -> list[dict[str, Any]]:
            answer = await http.get("/ciudad/v1/services/alerts", headers=LEON)
            return list(answer.json())

        alerts: list[dict[str, Any]] = []
        for _ in range(100):
            if alerts := await raised():
                break
            await asyncio.sleep(0.1)
    assert [(a["rule"], a["source"], a["value"]) for a in alerts] == [
        ("no2-hourly-limit", station("s1"), 250.0)
    ]


async def test_the_rules_in_force_are_listed(database_url: str) -> None:
    async with services_platform(database_url, alert_interval_s=0) as (http, _):
        rules = (await http.get("/ciudad/v1/services/alerts/rules", headers=LEON)).json()
    no2_rule = next(r for r in rules if r["name"] == "no2-hourly-limit")
    assert (no2_rule["attribute"], no2_rule["period_s"], no2_rule["threshold"]) == (
        "no2",
        3600,
        200,
    )


async def test_alerts_are_listed_newest_first_and_by_status(database_url: str) -> None:
    async with platform(
        database_url, with_services, alert_interval_s=0, notifier_enabled=False
    ) as (http, store):
        await store.write_batch(no2("s1", [(5, 300.0), (65, 300.0), (125, 300.0)]))
        window = {"timeAt": HOUR.isoformat(), "endTimeAt": (HOUR + timedelta(hours=3)).isoformat()}
        await http.post("/ciudad/v1/services/alerts/evaluate", params=window, headers=LEON)

        async def listed(**params: Any) -> list[str]:
            answer = await http.get("/ciudad/v1/services/alerts", params=params, headers=LEON)
            return [a["validFrom"] for a in answer.json()]

        newest_two = await listed(limit=2)
        (middle,) = [
            a["id"]
            for a in (await http.get("/ciudad/v1/services/alerts", headers=LEON)).json()
            if a["validFrom"] == newest_two[1]
        ]
        await http.post(f"/ciudad/v1/services/alerts/{middle}/ack", headers=LEON)
        still_open = await listed(status="open")
        acknowledged = await listed(status="acknowledged")
    hours = [(HOUR + timedelta(hours=h)).isoformat().replace("+00:00", "Z") for h in range(3)]
    assert newest_two == [hours[2], hours[1]]
    assert still_open == [hours[2], hours[0]]
    assert acknowledged == [hours[1]]


async def test_an_alert_written_by_someone_else_is_listed_as_it_can_be(
    database_url: str,
) -> None:
    foreign = {
        "id": "urn:ngsi-ld:Alert:external:1",
        "type": "Alert",
        "severity": {"type": "Relationship", "object": "urn:x"},
        "description": {"type": "Property", "value": {"text": "not a string"}},
        "alertStatus": {"type": "Property", "value": "open"},
    }
    async with platform(
        database_url, with_services, alert_interval_s=0, notifier_enabled=False
    ) as (http, _):
        created = await http.post("/ngsi-ld/v1/entities", json=foreign, headers=LEON)
        listed = await http.get("/ciudad/v1/services/alerts", headers=LEON)
        acked = await http.post(f"/ciudad/v1/services/alerts/{foreign['id']}/ack", headers=LEON)
    assert created.status_code == 201
    assert listed.status_code == 200
    (alert,) = listed.json()
    assert (alert["id"], alert["severity"], alert["status"]) == (foreign["id"], None, "open")
    assert acked.status_code == 200
