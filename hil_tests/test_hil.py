"""Hardware-in-the-loop suite: the node on the serial line, the platform over MQTT."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from acquisition import MeasurePipeline
from hil_tests.rig import Rig
from interoperability import create_app
from knowledge import PostgresStore, TimeRange
from support import NotFoundError, Settings
from support.mosquitto import MosquittoBroker
from tests.helpers.databases import database_at
from tests.helpers.fleet import APIKEY, TENANT
from tests.helpers.gateway import running_gateway
from tests.helpers.waiting import wait_until

pytestmark = [pytest.mark.hil, pytest.mark.integration, pytest.mark.slow]
ENTITY = {
    "noise": "NoiseLevelObserved",
    "air": "AirQualityObserved",
    "parking": "ParkingSpot",
    "streetlight": "Streetlight",
}
TRANSCRIPTS = Path(__file__).parent / "transcripts"


def entity_id(kind: str) -> str:
    return f"urn:ngsi-ld:{ENTITY[kind]}:{TENANT}:{kind}-001"


async def latest(store: PostgresStore, kind: str) -> dict[str, Any]:
    try:
        state = await store.get_entity(TENANT, entity_id(kind))
    except NotFoundError:
        return {}
    return {a.name: a.value for a in state.attributes}


def gateway(broker: MosquittoBroker, pipeline: MeasurePipeline, store: PostgresStore) -> Any:
    return running_gateway(broker, pipeline, store, f"hil-gw-{uuid.uuid4().hex[:6]}")


async def test_node_reports_within_its_interval(
    rig: Rig,
    kind: str,
    hil_broker: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
) -> None:
    async with gateway(hil_broker, pipeline, store):
        state = await asyncio.to_thread(
            rig.wait_for, lambda s: s["sent"] >= 2, 15.0, "two readings sent"
        )
        assert state["kind"] == kind
        assert state["dropped"] == 0

        async def stored() -> bool:
            return bool(await latest(store, kind))

        await wait_until(stored)


INJECTED: dict[str, tuple[dict[str, Any], str, Any]] = {
    "noise": ({"noise_db": 72.0}, "LAeq", 72.0),
    "air": ({"pm25": 33, "pm10": 44}, "pm25", 33.0),
    "parking": ({"field": [900, 900, 900]}, "status", "occupied"),
    "streetlight": ({"lamp_fault": "stuck_on"}, "lampFault", "current_when_off"),
}


async def test_injected_inputs_arrive_normalised_in_the_api(
    rig: Rig,
    kind: str,
    hil_broker: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    database_url: str,
) -> None:
    values, attribute, expected = INJECTED[kind]
    app = create_app(
        Settings(database_url=database_url, default_tenant=TENANT, api_auth="off"),
        database=database_at(database_url),
    )
    async with (
        gateway(hil_broker, pipeline, store),
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as api,
    ):
        await asyncio.to_thread(
            rig.wait_for, lambda s: s["sent"] >= 1, 15.0, "reporting (parking: calibrated)"
        )
        await asyncio.to_thread(rig.ok, {"cmd": "set", "values": values})

        async def arrived() -> bool:
            response = await api.get(f"/ngsi-ld/v1/entities/{entity_id(kind)}")
            got = response.json().get(attribute, {}).get("value")
            if isinstance(expected, float):
                return got is not None and abs(float(got) - expected) < 0.5
            return bool(got == expected)

        await wait_until(arrived)


@pytest.mark.kinds("noise")
async def test_broker_loss_then_backlog_in_order_and_complete(
    rig: Rig,
    kind: str,
    hil_broker: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
) -> None:
    async with gateway(hil_broker, pipeline, store):
        await asyncio.to_thread(rig.wait_for, lambda s: s["sent"] >= 1, 15.0, "first reading")
        await asyncio.to_thread(rig.ok, {"cmd": "link", "up": False})
        down = await asyncio.to_thread(
            rig.wait_for, lambda s: s["buffered"] >= 4, 15.0, "four readings buffered"
        )
        assert not down["connected"]
        await asyncio.to_thread(rig.ok, {"cmd": "link", "up": True})
        state = await asyncio.to_thread(
            rig.wait_for, lambda s: s["buffered"] == 0 and s["connected"], 20.0, "drained"
        )
        assert state["dropped"] == 0

        async def complete() -> bool:
            history = await store.history(TENANT, entity_id(kind), ["LAeq"], TimeRange())
            return bool(history) and len(history[0].times) >= state["sent"]

        await wait_until(complete)
    (history,) = await store.history(TENANT, entity_id(kind), ["LAeq"], TimeRange())
    gaps = [(b - a).total_seconds() for a, b in zip(history.times, history.times[1:], strict=False)]
    assert max(gaps) < 1.6, gaps  # one a second, nothing missing across the outage


@pytest.mark.kinds("streetlight")
async def test_dim_command_round_trips_and_the_power_drops(
    rig: Rig,
    kind: str,
    hil_broker: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
) -> None:
    results: list[bytes] = []
    got = threading.Event()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hil-{uuid.uuid4().hex[:6]}")

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        results.append(bytes(message.payload))
        got.set()

    listener.on_message = on_message
    listener.connect("127.0.0.1", hil_broker.port)
    listener.subscribe(f"/json/{APIKEY}/{kind}-001/cmdexe", qos=1)
    listener.loop_start()
    try:
        async with gateway(hil_broker, pipeline, store):
            await asyncio.to_thread(rig.wait_for, lambda s: s["connected"], 15.0, "connected")
            for body in ({"on": 1}, {"dim": 40}):
                got.clear()
                for _ in range(5):  # the node may still be subscribing: say it again
                    listener.publish(f"/{APIKEY}/{kind}-001/cmd", json.dumps(body), qos=1)
                    if await asyncio.to_thread(got.wait, 2):
                        break
                assert got.is_set(), f"no result for {body}"
            state = await asyncio.to_thread(
                rig.wait_for, lambda s: s["level"] == 40, 10.0, "dimmed to 40 %"
            )
            assert state["commands"] >= 2

            async def power_dropped() -> bool:
                watts = (await latest(store, kind)).get("powerConsumption")
                return watts is not None and abs(float(watts) - 28.0) < 1.5

            await wait_until(power_dropped)
    finally:
        listener.loop_stop()
        listener.disconnect()
    assert results[0] == b'{"on":"OK 100"}'
    assert results[-1] == b'{"dim":"OK 40"}'


@pytest.mark.kinds("parking")
async def test_watchdog_reset_recovers_and_reconnects(
    rig: Rig,
    kind: str,
    hil_broker: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
) -> None:
    async with gateway(hil_broker, pipeline, store):
        await asyncio.to_thread(rig.wait_for, lambda s: s["connected"], 15.0, "connected")
        await asyncio.to_thread(rig.ok, {"cmd": "hang", "ms": 1500})  # watchdog is 1000 ms
        await asyncio.to_thread(
            rig.wait_for,
            lambda s: s["reset_cause"] == "watchdog" and s["connected"],
            20.0,
            "reset by the watchdog and back online",
        )
        # Counters restart with the node: readings sent now were sent after the reset.
        await asyncio.to_thread(rig.wait_for, lambda s: s["sent"] >= 1, 15.0, "sending again")


def _masked(transcript: list[str]) -> list[str]:
    """Transcript lines with the volatile numbers replaced."""
    return [
        re.sub(r'("(?:recorded|sent|buffered|energy_wh|commands)": )[\d.]+', r"\1#", line)
        for line in transcript
    ]


@pytest.mark.kinds("air")
async def test_corrupt_sensor_frames_are_rejected_and_counted(
    rig: Rig,
    kind: str,
    hil_broker: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
) -> None:
    async with gateway(hil_broker, pipeline, store):
        await asyncio.to_thread(rig.wait_for, lambda s: s["connected"], 15.0, "connected")
        rig.transcript.clear()
        before = (await asyncio.to_thread(rig.state))["rejected_frames"]
        await asyncio.to_thread(rig.ok, {"cmd": "set", "values": {"pm25": 21}})
        await asyncio.to_thread(rig.ok, {"cmd": "pms_corrupt", "count": 2})
        after = await asyncio.to_thread(
            rig.wait_for, lambda s: s["rejected_frames"] >= before + 2, 10.0, "two frames rejected"
        )
        assert after["rejected_frames"] == before + 2
        assert (await asyncio.to_thread(rig.send, {"cmd": "explode"}))["ok"] is False

        async def good_values_still_arrive() -> bool:
            return (await latest(store, kind)).get("pm25") == 21.0

        await wait_until(good_values_still_arrive)
    expected = (TRANSCRIPTS / "corrupt_frame.txt").read_text().splitlines()
    assert [
        line
        for line in _masked(rig.transcript)
        if '"cmd": "state"' not in line and '"state":' not in line
    ] == expected
