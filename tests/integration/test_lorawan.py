"""LoRaWAN through a network server's MQTT broker (a real mosquitto standing in for it):
devices provisioned by devEUI become Smart Data Model entities with history; duplicates,
replays and counter resets; malformed events as dead letters; a downlink round trip."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from acquisition import (
    LORAWAN_FILTERS,
    Backoff,
    CommandDispatcher,
    CommandQueue,
    DeviceEntry,
    DeviceRegistry,
    EntityValidator,
    Gateway,
    LorawanPipeline,
    MqttOptions,
    MqttSource,
    ProvisioningFile,
    TimePolicy,
)
from ciudad.runners import run_gateway
from knowledge import PostgresStore, TimeRange
from support import ConfigurationError, Settings
from support.mosquitto import MosquittoBroker
from tests.helpers.databases import opened_database, registry_at
from tests.helpers.gateway import publish
from tests.helpers.lorawan import (
    APIKEY,
    CAYENNE_EUI,
    NOISE_EUI,
    PARKING_EUI,
    TENANT,
    TTN_LAMP,
    TTN_LAMP_EUI,
    cs_ack,
    cs_join,
    cs_status,
    cs_topic,
    cs_txack,
    cs_up,
    lorawan_document,
    recent,
    tts_down,
    tts_up,
)
from tests.helpers.mqtt_listening import listening
from tests.helpers.nodes import latest
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.integration
NOISE = f"urn:ngsi-ld:NoiseLevelObserved:{TENANT}:noise-lora-001"
PARKING = f"urn:ngsi-ld:ParkingSpot:{TENANT}:parking-lora-001"
LAMP = f"urn:ngsi-ld:Streetlight:{TENANT}:lamp-lora-001"


@dataclass
class Rig:
    gateway: Gateway
    pipeline: LorawanPipeline
    queue: CommandQueue


@asynccontextmanager
async def lorawan_gateway(
    broker: MosquittoBroker, store: PostgresStore, database_url: str, validator: EntityValidator
) -> AsyncIterator[Rig]:
    """A gateway on the 'network server's broker', provisioned through the registry."""
    async with opened_database(database_url, max_size=2) as db:
        registry = DeviceRegistry(db)
        await registry.import_document(ProvisioningFile.model_validate(lorawan_document()))
        policy = TimePolicy(max_future=timedelta(minutes=5), max_past=timedelta(days=1))
        pipeline = LorawanPipeline(await registry.provisioning(), validator, policy)
        options = MqttOptions(
            "127.0.0.1", broker.port, f"lns-{uuid.uuid4().hex[:6]}", filters=LORAWAN_FILTERS
        )
        source = MqttSource(options)
        await source.start()
        queue = CommandQueue(db)
        dispatcher = CommandDispatcher(queue, source, store, pipeline, lorawan=source)
        gateway = Gateway(
            source,
            pipeline,
            store,
            max_wait_s=0.05,
            backoff=Backoff(0.01, 0.05),
            commands=dispatcher,
        )
        tasks = [
            asyncio.create_task(gateway.run(), name="lorawan-gateway"),
            asyncio.create_task(dispatcher.run(db, every_s=0.2), name="lorawan-commands"),
        ]
        try:
            yield Rig(gateway, pipeline, queue)
        finally:
            for task in tasks:
                task.cancel()
            ended = await asyncio.gather(*tasks, return_exceptions=True)
            source.stop()
    assert all(isinstance(e, asyncio.CancelledError) for e in ended), ended


async def series(store: PostgresStore, entity_id: str, attr: str) -> list[float | str]:
    try:
        history = await store.history(TENANT, entity_id, [attr], TimeRange())
    except Exception:
        return []
    return [v for h in history for v in h.values]


async def test_sensors_provisioned_by_dev_eui_become_entities_with_history(
    mosquitto: MosquittoBroker, store: PostgresStore, database_url: str, validator: EntityValidator
) -> None:
    async with lorawan_gateway(mosquitto, store, database_url, validator) as rig:
        heard_twice = cs_up(NOISE_EUI, 11, recent(50), obj={"laeq": 56.0}, dedup="dup-11")
        second_gateway = cs_up(
            NOISE_EUI, 11, recent(50), obj={"laeq": 56.0}, dedup="dup-11", signal=((-70, 11.0),)
        )
        publish(
            mosquitto,
            [
                cs_up(PARKING_EUI, 1, recent(60), data=bytes([0, 91])),  # free, battery 91 %
                cs_up(PARKING_EUI, 2, recent(40), data=bytes([1, 90])),  # occupied
                cs_up(NOISE_EUI, 10, recent(55), obj={"laeq": 55.0, "lamax": 61.0}),
                heard_twice,
                second_gateway,  # the same frame again (deduplicationId): changes nothing
                cs_up(NOISE_EUI, 11, recent(45), obj={"laeq": 99.0}),  # a replayed fCnt
                cs_join(NOISE_EUI, recent(35), "01ab23cd"),  # rejoin: a new session
                cs_up(NOISE_EUI, 0, recent(30), obj={"laeq": 57.0}, dev_addr="01ab23cd"),
                cs_status(NOISE_EUI, recent(25), battery=80.0, margin=9),
                cs_up(CAYENNE_EUI, 5, recent(20), data=bytes.fromhex("0102157C")),
                tts_up(3, recent(15), decoded={"laeq": 62.5}),
                cs_up(PARKING_EUI, 3, recent(10), data=bytes([1])),  # codec error: no byte 1
                (cs_topic(NOISE_EUI, "up"), b'{"deduplicationId": '),  # not JSON
            ],
        )

        async def all_in() -> bool:
            return (
                len(await store.dead_letters(TENANT, 10)) == 3
                and len(await series(store, NOISE, "LAeq")) == 3
            )

        await wait_until(all_in)
        assert await series(store, NOISE, "LAeq") == [55.0, 56.0, 57.0]
        assert await series(store, PARKING, "status") == ["free", "occupied"]
        noise_lpp = f"urn:ngsi-ld:NoiseLevelObserved:{TENANT}:noise-lora-002"
        assert await series(store, noise_lpp, "LAeq") == [55.0]
        noise_ttn = f"urn:ngsi-ld:NoiseLevelObserved:{TENANT}:noise-ttn-001"
        assert await series(store, noise_ttn, "LAeq") == [62.5]
        parking = await store.get_entity(TENANT, PARKING)
        assert parking.entity_type == "ParkingSpot"
        assert "refParkingSite" in parking.static
        device = await latest(store, f"urn:ngsi-ld:Device:{TENANT}:noise-lora-001")
        assert (device["batteryLevel"], device["margin"], device["rssi"]) == (0.8, 9, -97)
        letters = {d.reason: d for d in await store.dead_letters(TENANT, 10)}
        assert set(letters) == {"fcnt_replay", "codec_error", "bad_json"}
        assert letters["codec_error"].detail.startswith("byte 1:")
        assert letters["codec_error"].device_id == "parking-lora-001"
        counts = {str(k): v for k, v in rig.pipeline.frames.counts.items()}
        assert counts == {"new": 7, "duplicate": 1, "replay": 1, "counter_reset": 1}


async def test_a_dim_command_goes_down_and_completes_from_the_ack(
    mosquitto: MosquittoBroker, store: PostgresStore, database_url: str, validator: EntityValidator
) -> None:
    async with lorawan_gateway(mosquitto, store, database_url, validator) as rig:
        with listening(mosquitto.port, "application/+/device/+/command/down") as down:
            command = await rig.queue.submit(TENANT, APIKEY, "lamp-lora-001", "dim", 40, 60)
            topic, message = await asyncio.to_thread(down.next)  # the loop must keep running
        assert topic.endswith(f"/device/{message['devEui']}/command/down")
        assert (message["fPort"], message["confirmed"]) == (10, True)
        assert base64.b64decode(message["data"]) == bytes([40])
        dev_eui, queue_id = message["devEui"], message["id"]
        publish(mosquitto, [cs_txack(dev_eui, queue_id), cs_ack(dev_eui, queue_id, True)])

        async def completed() -> bool:
            return (await rig.queue.get(command.id)).status == "OK"

        await wait_until(completed)

        async def on_entity() -> bool:
            try:
                return (await latest(store, LAMP)).get("dim_status") == "OK"
            except Exception:
                return False

        await wait_until(on_entity)
        too_bright = await rig.queue.submit(TENANT, APIKEY, "lamp-lora-001", "dim", 300, 60)

        async def refused() -> bool:
            return (await rig.queue.get(too_bright.id)).status == "ERROR"

        await wait_until(refused)
        assert "does not fit u8" in str((await rig.queue.get(too_bright.id)).result)


async def test_ciudad_gateway_listens_to_the_network_servers_broker(
    mosquitto: MosquittoBroker, store: PostgresStore, database_url: str, tmp_path: Path
) -> None:
    """The process as deployed: CIUDAD_LORAWAN_MQTT_* set, devices from a provisioning file."""
    fleet = tmp_path / "lorawan.json"
    fleet.write_text(json.dumps(lorawan_document()))
    settings = Settings(  # type: ignore[call-arg]
        database_url=database_url,
        mqtt_port=mosquitto.port,
        gateway_client_id=f"gw-{uuid.uuid4().hex[:6]}",
        lorawan_mqtt_host="127.0.0.1",
        lorawan_mqtt_port=mosquitto.port,
        provisioning_file=fleet,
        spool_dir=tmp_path / "spool",
        gateway_ops_port=0,
    )
    gateway = asyncio.create_task(run_gateway(settings), name="ciudad-gateway")
    try:
        message = cs_up(PARKING_EUI, 1, recent(5), data=bytes([1, 50]))

        async def stored() -> bool:
            publish(mosquitto, [message])  # again until the gateway is subscribed: duplicates
            return await series(store, PARKING, "status") == ["occupied"]

        await wait_until(stored)
    finally:
        gateway.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gateway


async def test_the_things_stack_downlink_is_pushed_and_completes_when_sent(
    mosquitto: MosquittoBroker, store: PostgresStore, database_url: str, validator: EntityValidator
) -> None:
    async with lorawan_gateway(mosquitto, store, database_url, validator) as rig:
        with listening(mosquitto.port, "v3/+/devices/+/down/push") as down:
            command = await rig.queue.submit(TENANT, APIKEY, TTN_LAMP, "dim", 25, 60)
            topic, message = await asyncio.to_thread(down.next)
        assert topic == f"v3/leon-noise@ttn/devices/{TTN_LAMP}/down/push"
        (item,) = message["downlinks"]
        assert (item["f_port"], item["confirmed"]) == (10, False)
        assert base64.b64decode(item["frm_payload"]) == bytes([25])
        # Unconfirmed: done once the network server reports it sent.
        publish(mosquitto, [tts_down("down/sent", item["correlation_ids"], TTN_LAMP, TTN_LAMP_EUI)])

        async def completed() -> bool:
            return (await rig.queue.get(command.id)).status == "OK"

        await wait_until(completed)


async def test_the_registry_keeps_lorawan_entries_and_one_device_per_dev_eui(
    database_url: str,
) -> None:
    async with registry_at(database_url) as registry:
        await registry.import_document(ProvisioningFile.model_validate(lorawan_document()))
        stored = {r.entry.device_id: r.entry for r in await registry.devices(TENANT)}
        parking = stored["parking-lora-001"].lorawan
        assert parking is not None
        assert (parking.dev_eui, parking.codec) == (PARKING_EUI, "layout")
        thief = DeviceEntry.model_validate(
            {
                "device_id": "other-noise",
                "apikey": APIKEY,
                "entity_type": "NoiseLevelObserved",
                "lorawan": {"dev_eui": NOISE_EUI.upper()},
            }
        )
        with pytest.raises(ConfigurationError, match="devEUI already registered"):
            await registry.put_devices([thief])
        assert "other-noise" not in {r.entry.device_id for r in await registry.devices(TENANT)}
