"""Each node app on the MicroPython unix port -> real mosquitto -> gateway -> PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from acquisition import EntityValidator, MeasurePipeline
from interoperability import render_entity
from knowledge import PostgresStore, TimeRange
from support.mosquitto import MosquittoBroker
from support.net import free_port
from tests.helpers.firmware import start_node
from tests.helpers.fleet import APIKEY, TENANT
from tests.helpers.gateway import running_gateway
from tests.helpers.nodes import latest, site
from tests.helpers.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NODES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "noise": ({"sample_rate": 16000}, {"noise_db": 63.0, "tone_hz": 1000}),
    "air": (
        {"warmup_s": 1},
        {"pm25": 12, "pm10": 20, "no2": 40.0, "o3": 60.0, "temperature": 12.5, "humidity": 55.0},
    ),
    "parking": ({"park_calibration_samples": 5}, {"field": [300, -200, 400]}),
    "streetlight": ({}, {}),
}
ENTITY = {
    "noise": "NoiseLevelObserved",
    "air": "AirQualityObserved",
    "parking": "ParkingSpot",
    "streetlight": "Streetlight",
}


def final_counts(output: str) -> dict[str, int]:
    match = re.search(r"final recorded=(\d+) sent=(\d+) buffered=(\d+) dropped=(\d+)", output)
    assert match, output
    return dict(
        zip(("recorded", "sent", "buffered", "dropped"), map(int, match.groups()), strict=True)
    )


async def test_every_node_app_reaches_the_store_as_a_valid_entity(
    mosquitto: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    validator: EntityValidator,
    tmp_path: Path,
) -> None:
    async with running_gateway(mosquitto, pipeline, store, f"gw-{uuid.uuid4().hex[:8]}") as gw:
        nodes = {
            kind: start_node(tmp_path / kind, site(kind, mosquitto.port, **s), sc, 5)
            for kind, (s, sc) in NODES.items()
        }
        outputs = {
            k: (await asyncio.to_thread(p.communicate, timeout=60))[0] for k, p in nodes.items()
        }
        sent = sum(final_counts(out)["sent"] for out in outputs.values())

        async def all_stored() -> bool:
            return gw.stats.measure_messages >= sent

        await wait_until(all_stored)
    assert gw.stats.dead_letters == {}, outputs
    for kind, output in outputs.items():
        counts = final_counts(output)
        assert counts["sent"] >= 2, output
        assert counts["dropped"] == 0, output
        entity_id = f"urn:ngsi-ld:{ENTITY[kind]}:{TENANT}:{kind}-001"
        validator.validate_normalized(
            render_entity(await store.get_entity(TENANT, entity_id), with_context=False)
        )
    assert (
        abs(
            float(
                (await latest(store, f"urn:ngsi-ld:NoiseLevelObserved:{TENANT}:noise-001"))["LAeq"]
            )
            - 63.0
        )
        < 0.5
    )
    air = await latest(store, f"urn:ngsi-ld:AirQualityObserved:{TENANT}:air-001")
    assert (air["pm25"], air["pm10"]) == (12.0, 20.0)
    assert abs(float(air["no2"]) - 40.0) < 0.5
    assert abs(float(air["relativeHumidity"]) - 0.55) < 0.01
    assert (await latest(store, f"urn:ngsi-ld:ParkingSpot:{TENANT}:parking-001"))[
        "status"
    ] == "free"
    light = await latest(store, f"urn:ngsi-ld:Streetlight:{TENANT}:streetlight-001")
    assert (light["powerState"], light["lampFault"]) == ("off", "ok")


async def test_broker_outage_loses_nothing_that_fits_in_the_buffer(
    pipeline: MeasurePipeline,
    store: PostgresStore,
    tmp_path: Path,
) -> None:
    broker = MosquittoBroker(free_port(), tmp_path / "broker")
    broker.start()
    try:
        async with running_gateway(broker, pipeline, store, f"gw-{uuid.uuid4().hex[:8]}"):
            node = start_node(
                tmp_path / "node",
                site("noise", broker.port, sample_rate=16000),
                {"noise_db": 58.0},
                26,
            )
            await asyncio.sleep(3)
            # The node buffers; its jittered backoff may reach ~8 s after the 5-s outage,
            # so it runs 26 s in all to have time left to drain after reconnecting.
            broker.stop()
            await asyncio.sleep(5)
            broker.start()
            output = (await asyncio.to_thread(node.communicate, timeout=60))[0]
            counts = final_counts(output)
            entity_id = f"urn:ngsi-ld:NoiseLevelObserved:{TENANT}:noise-001"

            async def all_sent_stored() -> bool:
                try:
                    history = await store.history(TENANT, entity_id, ["LAeq"], TimeRange())
                except Exception:
                    return False
                return bool(history) and len(history[0].times) >= counts["sent"]

            await wait_until(all_sent_stored)
    finally:
        broker.stop()
    assert "mqtt down" in output, "the outage never reached the node"
    # Nothing dropped; the reading taken in the run's last instant may still be in the
    # (flash-backed) buffer when the run ends: it goes out on the next boot.
    assert counts["dropped"] == 0, output
    assert counts["buffered"] <= 1, output
    assert counts["recorded"] == counts["sent"] + counts["buffered"], output
    (history,) = await store.history(TENANT, entity_id, ["LAeq"], TimeRange())
    # The last one may have been published and stored before its PUBACK came back.
    assert counts["sent"] <= len(history.times) <= counts["recorded"], output
    gaps = [(b - a).total_seconds() for a, b in zip(history.times, history.times[1:], strict=False)]
    assert max(gaps) < 1.6, gaps  # one reading a second, none missing across the outage


async def test_dim_command_round_trips_and_the_power_drops(
    mosquitto: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    tmp_path: Path,
) -> None:
    results: list[bytes] = []
    got_result = threading.Event()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"cmd-{uuid.uuid4().hex[:8]}")

    def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        results.append(message.payload)
        got_result.set()

    listener.on_message = on_message
    listener.connect("127.0.0.1", mosquitto.port)
    listener.subscribe(f"/json/{APIKEY}/streetlight-001/cmdexe", qos=1)
    listener.loop_start()
    async with running_gateway(mosquitto, pipeline, store, f"gw-{uuid.uuid4().hex[:8]}"):
        node = start_node(
            tmp_path / "light", site("streetlight", mosquitto.port, interval_s=30), {}, 8
        )
        try:
            await asyncio.sleep(0.5)
            listener.publish(f"/{APIKEY}/streetlight-001/cmd", json.dumps({"on": 1}), qos=1)
            for _ in range(40):  # the node subscribes once it is connected: retry until then
                if got_result.is_set():
                    break
                listener.publish(f"/{APIKEY}/streetlight-001/cmd", json.dumps({"on": 1}), qos=1)
                await asyncio.sleep(0.25)
            await asyncio.sleep(1.5)
            full = await latest(store, f"urn:ngsi-ld:Streetlight:{TENANT}:streetlight-001")
            listener.publish(f"/{APIKEY}/streetlight-001/cmd", json.dumps({"dim": 40}), qos=1)

            async def dimmed() -> bool:
                state = await latest(store, f"urn:ngsi-ld:Streetlight:{TENANT}:streetlight-001")
                return abs(float(state.get("illuminanceLevel", -1)) - 0.4) < 1e-9

            await wait_until(dimmed)
            state = await latest(store, f"urn:ngsi-ld:Streetlight:{TENANT}:streetlight-001")
        finally:
            output = (await asyncio.to_thread(node.communicate, timeout=30))[0]
            listener.loop_stop()
            listener.disconnect()
    assert b'{"dim":"OK 40"}' in results, (results, output)
    assert full["powerState"] == "on"
    assert float(full["powerConsumption"]) > 60
    assert float(state["powerConsumption"]) == pytest.approx(28.0, abs=1.5)


async def test_battery_node_sends_then_deep_sleeps(
    mosquitto: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    tmp_path: Path,
) -> None:
    async with running_gateway(mosquitto, pipeline, store, f"gw-{uuid.uuid4().hex[:8]}"):
        node = start_node(
            tmp_path / "p",
            site("parking", mosquitto.port, deep_sleep_s=300, park_calibration_samples=3),
            {},
            20,
        )
        output = (await asyncio.to_thread(node.communicate, timeout=60))[0]
        assert node.returncode == 0, output
        assert "deepsleep 300000" in output, output

        async def stored() -> bool:
            try:
                return (await latest(store, f"urn:ngsi-ld:ParkingSpot:{TENANT}:parking-001")).get(
                    "status"
                ) == "free"
            except Exception:
                return False

        await wait_until(stored)
    assert (tmp_path / "p" / "buffer.dat").exists()


async def test_readings_buffered_offline_survive_a_restart(
    mosquitto: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    tmp_path: Path,
) -> None:
    offline = start_node(
        tmp_path / "n", site("noise", free_port(), sample_rate=16000), {"noise_db": 50.0}, 4
    )
    first = final_counts((await asyncio.to_thread(offline.communicate, timeout=60))[0])
    assert first["sent"] == 0
    assert first["buffered"] == first["recorded"] >= 3
    async with running_gateway(mosquitto, pipeline, store, f"gw-{uuid.uuid4().hex[:8]}"):
        online = start_node(
            tmp_path / "n", site("noise", mosquitto.port, sample_rate=16000), {"noise_db": 50.0}, 4
        )
        output = (await asyncio.to_thread(online.communicate, timeout=60))[0]
        second = final_counts(output)
        assert f"restored {first['buffered']} buffered readings" in output
        entity_id = f"urn:ngsi-ld:NoiseLevelObserved:{TENANT}:noise-001"

        async def everything() -> bool:
            try:
                (history,) = await store.history(TENANT, entity_id, ["LAeq"], TimeRange())
            except Exception:
                return False
            return len(history.times) == first["recorded"] + second["recorded"]

        await wait_until(everything)
    assert second["sent"] == first["recorded"] + second["recorded"]


async def test_node_liveness_reaches_its_device_entity(
    mosquitto: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    tmp_path: Path,
) -> None:
    device_id = f"urn:ngsi-ld:Device:{TENANT}:parking-002"

    async def state() -> str | None:
        try:
            return str((await latest(store, device_id)).get("deviceState"))
        except Exception:
            return None

    async with running_gateway(mosquitto, pipeline, store, f"gw-{uuid.uuid4().hex[:8]}"):
        node = start_node(
            tmp_path / "p2",
            {
                **site("parking", mosquitto.port),
                "device_id": "parking-002",
                "park_calibration_samples": 3,
            },
            {},
            60,
        )
        try:

            async def online_and_reporting() -> bool:
                if await state() != "online":
                    return False
                return "dateLastValueReported" in await latest(store, device_id)

            await wait_until(online_and_reporting)
            node.kill()  # no DISCONNECT: the broker publishes the node's last will

            async def offline() -> bool:
                return await state() == "offline"

            await wait_until(offline)
        finally:
            node.kill()
            node.communicate()
