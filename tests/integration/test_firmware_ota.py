"""Firmware updates over the air end to end: the MicroPython unix-port node (firmware/),
a real mosquitto, the real gateway process with its OTA service, and PostgreSQL; bundles
built, uploaded and rolled out with the ``ciudad firmware`` commands.

Power loss is SIGKILL and a restart of the node's process with the same files.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from acquisition import (
    ROLLOUT_ACTIONS,
    DeviceRegistry,
    OtaStore,
    Rollout,
    RolloutTarget,
    decode_bundle,
    encode_bundle,
    public_key,
    start_rollout,
)
from acquisition.ota.protocol import start_payload
from ciudad.firmware_build import build_bundle
from knowledge import PostgresStore
from support import ConfigurationError, NotFoundError
from support.mosquitto import MosquittoBroker
from support.store import Database
from tests.helpers.databases import opened_database
from tests.helpers.firmware import FIRMWARE, power_cycle, running_node, start_node, stop_node
from tests.helpers.fleet import APIKEY, TENANT
from tests.helpers.nodes import site
from tests.helpers.ota_nodes import running_ota_service
from tests.helpers.ota_platform import (
    OtaListener,
    ciudad,
    crashing_firmware,
    gateway_process,
    register,
)
from tests.helpers.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def mosquitto(private_mosquitto: MosquittoBroker) -> MosquittoBroker:
    """The nodes leave retained status messages behind: each test gets its own broker."""
    return private_mosquitto


DEVICE = "ota-park-1"
RUN_S = 120  # the node's own run time: an upper bound, tests stop it when done
SEED = bytes.fromhex("9d" * 32)


@pytest.fixture(scope="module")
def bundle_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A parking bundle 1.4.0 of today's firmware, built for the unix port."""
    out = tmp_path_factory.mktemp("bundles") / "parking-1.4.0.json"
    out.write_bytes(encode_bundle(build_bundle(FIRMWARE, "parking", "1.4.0", SEED, arch="host")))
    return out


def node_site(port: int, seed: bytes = SEED, **extra: Any) -> dict[str, Any]:
    defaults = {
        "device_id": DEVICE,
        "park_calibration_samples": 3,
        "ota_pubkey": public_key(seed).hex(),
        "ota_retry_s": 1,
        "device_info_s": 2,
    }
    return site("parking", port, **(defaults | extra))


def node(workdir: Path, port: int, **extra: Any) -> Iterator[list[subprocess.Popen[str]]]:
    return running_node(workdir, node_site(port, **extra), RUN_S)


@asynccontextmanager
async def platform_db(database_url: str) -> AsyncIterator[Database]:
    async with opened_database(database_url, max_size=3) as db:
        await register(db, TENANT, APIKEY, {DEVICE: "ParkingSpot"})
        yield db


async def settled(db: Database, rollout_id: int, *states: str) -> Rollout:
    ota = OtaStore(db)
    found: list[Rollout] = []

    async def done() -> bool:
        found[:] = [await ota.rollout(TENANT, rollout_id)]
        return found[0].state.value in states

    await wait_until(done, what=f"roll-out {rollout_id} {'/'.join(states)}")
    return found[0]


async def latest(store: PostgresStore, entity_id: str) -> dict[str, Any]:
    try:
        entity = await store.get_entity(TENANT, entity_id)
    except NotFoundError:
        return {}  # not yet
    return {a.name: a.value for a in entity.attributes}


async def test_an_update_built_uploaded_and_rolled_out_with_the_cli_is_confirmed(
    mosquitto: MosquittoBroker,
    database_url: str,
    store: PostgresStore,
    bundle_file: Path,
    tmp_path: Path,
) -> None:
    async with platform_db(database_url) as db:
        with (
            gateway_process(database_url, mosquitto.port, tmp_path / "gw.log") as gateway_env,
            node(tmp_path / "node", mosquitto.port) as procs,
        ):
            device = f"urn:ngsi-ld:Device:{TENANT}:{DEVICE}"

            async def reporting() -> bool:
                return (await latest(store, device)).get("firmwareVersion") == "0.1.0"

            await wait_until(reporting)  # the node is up and the gateway stores its fw
            env = gateway_env | {"CIUDAD_DEFAULT_TENANT": TENANT}
            assert "bundle 1: parking 1.4.0" in ciudad(env, "firmware", "upload", str(bundle_file))
            made = json.loads(
                ciudad(
                    env,
                    "firmware",
                    "rollout",
                    "--bundle",
                    "1",
                    "--group",
                    APIKEY,
                    "--device",
                    DEVICE,
                )
            )
            done = await settled(db, made["id"], "completed", "halted")
            output = stop_node(procs)
        (status,) = done.devices
        assert (done.state.value, status.state.value, status.version) == (
            "completed", "confirmed", "1.4.0",
        )  # fmt: skip
        assert status.progress == 1.0
        cli = json.loads(ciudad(env, "firmware", "status", str(made["id"])))
        assert cli["devices"][f"{APIKEY}/{DEVICE}"]["state"] == "confirmed"
    assert "fw 1.4.0 reset: ota" in output, "the new modules ran after the switch"

    async def new_version() -> bool:
        return (await latest(store, device)).get("firmwareVersion") == "1.4.0"

    await wait_until(new_version)
    assert (await latest(store, device))["firmwareUpdate"] == "confirmed"


async def test_a_wrong_signature_and_another_nodes_bundle_are_refused_by_the_node(
    mosquitto: MosquittoBroker, database_url: str, tmp_path: Path
) -> None:
    other_key = bytes.fromhex("42" * 32)
    forged = build_bundle(FIRMWARE, "parking", "6.6.6", other_key, arch="host")
    air = build_bundle(FIRMWARE, "air", "1.4.0", SEED, arch="host")
    listener = OtaListener(mosquitto.port, APIKEY)
    async with platform_db(database_url) as db:
        ota = OtaStore(db)
        with (
            gateway_process(database_url, mosquitto.port, tmp_path / "gw.log"),
            node(tmp_path / "node", mosquitto.port) as procs,
        ):
            forged_id = (await ota.put_bundle(TENANT, forged, encode_bundle(forged))).id
            target = RolloutTarget(APIKEY, DEVICE)
            made = await start_rollout(ota, DeviceRegistry(db), TENANT, forged_id, target)
            halted = await settled(db, made.id, "halted", "completed")
            assert halted.devices[0].reason == "bad_signature"
            assert halted.reason == f"{APIKEY}/{DEVICE} failed (bad_signature)"
            # The platform refuses another kind's bundle for this node ...
            air_id = (await ota.put_bundle(TENANT, air, encode_bundle(air))).id
            with pytest.raises(ConfigurationError, match="for air nodes"):
                await start_rollout(ota, DeviceRegistry(db), TENANT, air_id, target)
            # ... and so does the node, when a start for it comes all the same.
            listener.publish(f"/{APIKEY}/{DEVICE}/cmd", start_payload("rogue1", air))
            refused = listener.wait_for("failed", "rogue1")
            output = stop_node(procs)
    listener.close()
    assert refused == {"id": "rogue1", "state": "failed", "reason": "wrong_node"}
    assert "fw 0.1.0" in output
    assert "fw 6.6.6" not in output
    assert "ota: installed" not in output


async def test_a_node_killed_mid_download_resumes_from_its_last_chunk(
    mosquitto: MosquittoBroker, database_url: str, bundle_file: Path, tmp_path: Path
) -> None:
    listener = OtaListener(mosquitto.port, APIKEY)
    async with platform_db(database_url) as db:
        ota = OtaStore(db)
        data = bundle_file.read_bytes()
        bundle_id = (await ota.put_bundle(TENANT, decode_bundle(data), data)).id
        with (
            gateway_process(database_url, mosquitto.port, tmp_path / "gw.log"),
            node(tmp_path / "node", mosquitto.port) as procs,
        ):
            made = await start_rollout(
                ota, DeviceRegistry(db), TENANT, bundle_id, RolloutTarget(APIKEY, DEVICE)
            )

            async def a_third_done() -> bool:
                rollout = await ota.rollout(TENANT, made.id)
                return rollout.devices[0].progress > 0.3

            await wait_until(a_third_done)
            # Paused, so the node is surely mid-download when the power goes.
            await ota.change_rollout(TENANT, made.id, *ROLLOUT_ACTIONS["pause"])
            before = len(listener.seen)
            output, procs[0] = power_cycle(procs[0], tmp_path / "node", RUN_S)
            await ota.change_rollout(TENANT, made.id, *ROLLOUT_ACTIONS["resume"])
            done = await settled(db, made.id, "completed", "halted")
    listener.close()
    assert "ota: accepted" in output
    assert "ota: installed" not in output
    after = [(b["f"], b["o"]) for b in listener.seen[before:] if b.get("state") == "downloading"]
    assert after[0] != (0, 0), "resumed, not restarted"
    assert done.devices[0].state.value == "confirmed"


async def test_a_version_that_crashes_at_start_up_is_rolled_back_by_the_node(
    mosquitto: MosquittoBroker, database_url: str, store: PostgresStore, tmp_path: Path
) -> None:
    bad = build_bundle(crashing_firmware(tmp_path), "parking", "1.5.0", SEED, arch="host")
    async with platform_db(database_url) as db:
        ota = OtaStore(db)
        bundle_id = (await ota.put_bundle(TENANT, bad, encode_bundle(bad))).id
        with (
            gateway_process(database_url, mosquitto.port, tmp_path / "gw.log"),
            node(tmp_path / "node", mosquitto.port, ota_max_boots=2) as procs,
        ):
            made = await start_rollout(
                ota, DeviceRegistry(db), TENANT, bundle_id, RolloutTarget(APIKEY, DEVICE)
            )
            halted = await settled(db, made.id, "halted", "completed")
            output = stop_node(procs)
    (status,) = halted.devices
    assert (status.state.value, status.reason, status.version) == ("rolled_back", "crash", "0.1.0")
    assert halted.reason == f"{APIKEY}/{DEVICE} rolled_back (crash)"
    assert "bad build" in output
    entity = await latest(store, f"urn:ngsi-ld:Device:{TENANT}:{DEVICE}")
    assert entity["firmwareVersion"] == "0.1.0"
    assert entity["firmwareUpdate"] == "rolled_back (crash)"


async def test_a_chunk_damaged_on_the_way_is_fetched_again_by_the_node(
    mosquitto: MosquittoBroker, database_url: str, bundle_file: Path, tmp_path: Path
) -> None:
    """The OTA service in this process, with a link that damages one chunk's data."""
    damaged = {(1, 0)}

    def corrupt(f: int, o: int) -> bool:
        hit = (f, o) in damaged
        damaged.discard((f, o))
        return hit

    listener = OtaListener(mosquitto.port, APIKEY)
    async with platform_db(database_url) as db:
        ota = OtaStore(db)
        data = bundle_file.read_bytes()
        bundle_id = (await ota.put_bundle(TENANT, decode_bundle(data), data)).id
        with node(tmp_path / "node", mosquitto.port):
            async with running_ota_service(db, mosquitto.port, corrupt=corrupt):
                made = await start_rollout(
                    ota, DeviceRegistry(db), TENANT, bundle_id, RolloutTarget(APIKEY, DEVICE)
                )
                installed = await settled(db, made.id, "completed", "halted")
    listener.close()
    asked = [(b["f"], b["o"]) for b in listener.seen if b.get("state") == "downloading"]
    assert asked.count((1, 0)) == 2, "the damaged chunk was dropped and asked for again"
    assert installed.devices[0].state.value == "confirmed"


STAGED_GROUP = "ota-staged"


async def test_a_staged_roll_out_to_ten_percent_of_a_group_halts_when_its_node_fails(
    mosquitto: MosquittoBroker, database_url: str, tmp_path: Path
) -> None:
    """Ten MicroPython nodes in a group of their own; 10 % of it gets a build that crashes:
    that one node rolls back, the roll-out halts, and no other node is ever offered it."""
    nodes = [f"staged-{n}" for n in range(10)]
    bad = build_bundle(crashing_firmware(tmp_path), "parking", "1.6.0", SEED, arch="host")
    async with opened_database(database_url, max_size=3) as db:
        await register(db, TENANT, STAGED_GROUP, dict.fromkeys(nodes, "ParkingSpot"))
        ota = OtaStore(db)
        bundle_id = (await ota.put_bundle(TENANT, bad, encode_bundle(bad))).id
        procs = [
            start_node(
                tmp_path / device,
                node_site(mosquitto.port, device_id=device, apikey=STAGED_GROUP, ota_max_boots=2),
                {"field": [300, -200, 400]},
                RUN_S,
            )
            for device in nodes
        ]
        try:
            with gateway_process(database_url, mosquitto.port, tmp_path / "gw.log"):
                made = await start_rollout(
                    ota,
                    DeviceRegistry(db),
                    TENANT,
                    bundle_id,
                    RolloutTarget(STAGED_GROUP, None, 10),
                )
                halted = await settled(db, made.id, "halted", "completed")
        finally:
            outputs = [stop_node([p]) for p in procs]
    (chosen,) = halted.devices
    assert halted.state.value == "halted"
    assert (chosen.state.value, chosen.reason) == ("rolled_back", "crash")
    for device, output in zip(nodes, outputs, strict=True):
        offered = "ota: accepted" in output
        assert offered == (chosen.device_id == device), device
