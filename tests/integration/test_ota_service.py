"""Firmware updates over the air: the platform (API, OTA service, PostgreSQL, mosquitto)
against nodes speaking protocol v1 (docs/firmware.md, "Updates over the air").

The first tests play the nodes with small MQTT clients (tests/helpers/ota_nodes.py), so
a group of twenty is cheap; the MicroPython node itself is in test_firmware_ota.py.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from acquisition import (
    MAX_BUNDLE_FILE_BYTES,
    ROLLOUT_ACTIONS,
    DeviceEntry,
    DeviceRegistry,
    OtaStore,
    RolloutState,
    RolloutTarget,
    ServiceGroupEntry,
    encode_bundle,
    sign_bundle,
    start_rollout,
)
from acquisition.ota.protocol import parse_report
from ciudad.cli import main
from knowledge import PostgresStore
from support import ConfigurationError
from support.mosquitto import MosquittoBroker
from tests.helpers.databases import opened_database
from tests.helpers.keys import Keys, bearer
from tests.helpers.ota_nodes import FakeOtaNode, running_ota_service
from tests.helpers.waiting import until, wait_until

pytestmark = [pytest.mark.integration]
TENANT = "leon"
GROUP = "ota-group"
SEED = bytes(range(32))
FILES = [("node.mpy", bytes(range(256)) * 20), ("app_noise.mpy", b"app" * 700)]  # 8 chunks
FIRMWARE = "/ciudad/v1/firmware"


async def provision(database_url: str, count: int, entity_type: str = "NoiseLevelObserved") -> None:
    async with opened_database(database_url, max_size=2) as db:
        registry = DeviceRegistry(db)
        await registry.put_group(ServiceGroupEntry(apikey=GROUP, tenant=TENANT))
        await registry.put_devices(
            [
                DeviceEntry(device_id=f"noise-{i:03}", apikey=GROUP, entity_type=entity_type)
                for i in range(count)
            ]
        )


async def upload(http: httpx.AsyncClient, key: str, version: str = "1.1.0") -> dict[str, Any]:
    data = encode_bundle(sign_bundle(SEED, "noise", version, FILES))
    answer = await http.post(
        f"{FIRMWARE}/bundles",
        content=data,
        headers=bearer(key) | {"Content-Type": "application/json"},
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def rollout_of(http: httpx.AsyncClient, key: str, rollout_id: int) -> dict[str, Any]:
    answer = await http.get(f"{FIRMWARE}/rollouts/{rollout_id}", headers=bearer(key))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def until_state(http: httpx.AsyncClient, key: str, rollout_id: int, state: str) -> None:
    async def there() -> bool:
        return bool((await rollout_of(http, key, rollout_id))["state"] == state)

    await wait_until(there, what=f"roll-out {rollout_id} {state}")


async def ask_again(
    http: httpx.AsyncClient, key: str, rollout: dict[str, Any], node: FakeOtaNode
) -> None:
    """The node repeats its last request; returns once the platform has recorded it (so it
    has also decided whether to answer it)."""

    async def stamp() -> str:
        status = await rollout_of(http, key, rollout["id"])
        (mine,) = [d for d in status["devices"] if d["device"].endswith(f"/{node.device_id}")]
        return str(mine["updatedAt"])

    before = await stamp()
    await asyncio.sleep(0.01)  # a new updatedAt is then a later one
    node.ask_again()

    async def recorded() -> bool:
        return await stamp() != before

    await wait_until(recorded)


async def test_one_device_is_updated_and_its_status_shows_in_the_api_and_on_its_entity(
    keyed: tuple[httpx.AsyncClient, Keys],
    mosquitto: MosquittoBroker,
    database_url: str,
    store: PostgresStore,
) -> None:
    http, keys = keyed
    await provision(database_url, 1)
    refused = await http.post(
        f"{FIRMWARE}/bundles",
        content=b"{}",
        headers=bearer(keys.write) | {"Content-Type": "application/json"},
    )
    assert refused.status_code == 403, "uploading firmware takes an admin key"
    bundle = await upload(http, keys.admin)
    assert (bundle["node"], bundle["version"], bundle["size"]) == ("noise", "1.1.0", 7220)
    listed = await http.get(f"{FIRMWARE}/bundles", headers=bearer(keys.admin))
    assert [b["id"] for b in listed.json()] == [bundle["id"]]
    async with opened_database(database_url, max_size=3) as db:
        with FakeOtaNode(mosquitto.port, GROUP, "noise-000") as node:
            async with running_ota_service(db, mosquitto.port, sink=store) as service:
                made = await http.post(
                    f"{FIRMWARE}/rollouts",
                    json={"bundle": bundle["id"], "apikey": GROUP, "device_id": "noise-000"},
                    headers=bearer(keys.admin),
                )
                assert made.status_code == 201, made.text
                rollout_id = made.json()["id"]

                await until_state(http, keys.admin, rollout_id, "completed")
                assert service.stats.chunks == 8
    status = await rollout_of(http, keys.admin, rollout_id)
    (device,) = status["devices"]
    assert (device["device"], device["state"], device["version"], device["progress"]) == (
        f"{GROUP}/noise-000", "confirmed", "1.1.0", 1.0,
    )  # fmt: skip
    assert node.requests[0] == (0, 0)
    assert len(node.requests) == 8, "one request per chunk: nothing sent twice"
    entity = await store.get_entity(TENANT, f"urn:ngsi-ld:Device:{TENANT}:noise-000")
    values = {a.name: a.value for a in entity.attributes}
    assert (values["firmwareVersion"], values["firmwareUpdate"]) == ("1.1.0", "confirmed")


async def test_a_corrupted_chunk_is_asked_for_again_and_the_update_still_completes(
    keyed: tuple[httpx.AsyncClient, Keys], mosquitto: MosquittoBroker, database_url: str
) -> None:
    http, keys = keyed
    await provision(database_url, 1)
    bundle = await upload(http, keys.admin)
    async with opened_database(database_url, max_size=3) as db:
        first = {(1, 0)}  # the first chunk of the second file, once

        def corrupt(f: int, o: int) -> bool:
            if (f, o) in first:
                first.discard((f, o))
                return True
            return False

        with FakeOtaNode(mosquitto.port, GROUP, "noise-000") as node:
            async with running_ota_service(db, mosquitto.port, corrupt=corrupt):
                made = await http.post(
                    f"{FIRMWARE}/rollouts",
                    json={"bundle": bundle["id"], "apikey": GROUP},
                    headers=bearer(keys.admin),
                )
                await until_state(http, keys.admin, made.json()["id"], "completed")
    assert node.bad_chunks == 1
    assert node.requests.count((1, 0)) == 2, "the damaged chunk was asked for once more"
    status = await rollout_of(http, keys.admin, made.json()["id"])
    assert status["state"] == "completed"


async def test_a_staged_rollout_to_ten_percent_halts_when_one_fails_and_abort_tells_the_rest(
    keyed: tuple[httpx.AsyncClient, Keys], mosquitto: MosquittoBroker, database_url: str
) -> None:
    http, keys = keyed
    await provision(database_url, 20)
    bundle = await upload(http, keys.admin)
    failing: list[str] = []
    lock = threading.Lock()

    def first_to_start_fails(node: FakeOtaNode) -> None:
        # whichever target gets its start first fails; the other one downloads slowly
        with lock:
            if not failing:
                failing.append(node.device_id)
                node.fail = "no_space"

    nodes = [
        FakeOtaNode(mosquitto.port, GROUP, f"noise-{i:03}", pace_s=0.3, decide=first_to_start_fails)
        for i in range(20)
    ]
    for node in nodes:
        node.__enter__()
    try:
        async with (
            opened_database(database_url, max_size=3) as db,
            running_ota_service(db, mosquitto.port) as service,
        ):
            made = await http.post(
                f"{FIRMWARE}/rollouts",
                json={"bundle": bundle["id"], "apikey": GROUP, "percent": 10},
                headers=bearer(keys.admin),
            )
            assert made.status_code == 201, made.text
            rollout = made.json()
            targets = [d["device"].split("/")[1] for d in rollout["devices"]]
            assert len(targets) == 2, "10 % of 20, rounded up"
            by_id = {n.device_id: n for n in nodes}

            await until_state(http, keys.admin, rollout["id"], "halted")
            status = await rollout_of(http, keys.admin, rollout["id"])
            states = {d["device"].split("/")[1]: d for d in status["devices"]}
            assert failing[0] in status["reason"]
            assert states[failing[0]]["state"] == "failed"
            assert states[failing[0]]["reason"] == "no_space"
            others = [n for n in nodes if n.device_id not in targets]
            assert all(not n.starts for n in others), "nobody outside the 10 % got a start"
            (survivor,) = [by_id[t] for t in targets if t != failing[0]]
            await ask_again(http, keys.admin, rollout, survivor)  # all before, handled
            sent = service.stats.chunks
            await ask_again(http, keys.admin, rollout, survivor)
            assert service.stats.chunks == sent, "a halted roll-out answers no request"
            assert not survivor.done
            aborted = await http.post(
                f"{FIRMWARE}/rollouts/{rollout['id']}/abort", headers=bearer(keys.admin)
            )
            assert aborted.json()["state"] == "aborted"
            await until(lambda: survivor.aborts == [rollout["updateId"]])
            assert by_id[failing[0]].aborts == [], "it staged nothing: nothing to drop"
    finally:
        for node in nodes:
            node.__exit__()


async def test_pause_stops_the_chunks_and_resume_finishes_the_download(
    keyed: tuple[httpx.AsyncClient, Keys], mosquitto: MosquittoBroker, database_url: str
) -> None:
    http, keys = keyed
    await provision(database_url, 1)
    bundle = await upload(http, keys.admin)
    async with opened_database(database_url, max_size=3) as db:
        with FakeOtaNode(mosquitto.port, GROUP, "noise-000", pace_s=0.3) as node:
            async with running_ota_service(db, mosquitto.port) as service:
                made = await http.post(
                    f"{FIRMWARE}/rollouts",
                    json={"bundle": bundle["id"], "apikey": GROUP, "device_id": "noise-000"},
                    headers=bearer(keys.admin),
                )
                rollout_id = made.json()["id"]
                await until(lambda: len(node.requests) >= 2)
                paused = await http.post(
                    f"{FIRMWARE}/rollouts/{rollout_id}/pause", headers=bearer(keys.admin)
                )
                assert paused.json()["state"] == "paused"
                await ask_again(http, keys.admin, made.json(), node)  # all before, handled
                sent = service.stats.chunks
                await ask_again(http, keys.admin, made.json(), node)
                assert service.stats.chunks == sent, "a paused roll-out answers no request"
                assert not node.done
                again = await http.post(
                    f"{FIRMWARE}/rollouts/{rollout_id}/pause", headers=bearer(keys.admin)
                )
                assert again.status_code == 400
                await http.post(
                    f"{FIRMWARE}/rollouts/{rollout_id}/resume", headers=bearer(keys.admin)
                )
                node.ask_again()  # a node does so by itself every ota_retry_s
                await until_state(http, keys.admin, rollout_id, "completed")
    status = await rollout_of(http, keys.admin, rollout_id)
    assert status["state"] == "completed"


async def test_bad_bundles_and_bad_targets_are_refused_with_a_reason(
    keyed: tuple[httpx.AsyncClient, Keys], database_url: str, tmp_path: Path
) -> None:
    http, keys = keyed
    await provision(database_url, 2)
    data = bytearray(encode_bundle(sign_bundle(SEED, "noise", "1.1.0", FILES)))
    data[data.index(b'"sig":"') + 10] ^= 1  # one bit of the signature's base64
    bad = await http.post(
        f"{FIRMWARE}/bundles",
        content=bytes(data),
        headers=bearer(keys.admin) | {"Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    assert "signature" in bad.json()["detail"] or "base64" in bad.json()["detail"]
    huge = await http.post(
        f"{FIRMWARE}/bundles",
        content=b'{"format": "' + b"x" * (MAX_BUNDLE_FILE_BYTES + 1) + b'"}',
        headers=bearer(keys.admin) | {"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    air = encode_bundle(sign_bundle(SEED, "air", "1.1.0", FILES))
    uploaded = await http.post(
        f"{FIRMWARE}/bundles",
        content=air,
        headers=bearer(keys.admin) | {"Content-Type": "application/json"},
    )
    wrong = await http.post(
        f"{FIRMWARE}/rollouts",
        json={"bundle": uploaded.json()["id"], "apikey": GROUP, "device_id": "noise-001"},
        headers=bearer(keys.admin),
    )
    assert wrong.status_code == 400
    assert "for air nodes" in wrong.json()["detail"]
    foreign = await http.post(
        f"{FIRMWARE}/rollouts",
        json={"bundle": uploaded.json()["id"], "apikey": GROUP},
        headers=bearer(keys.ponferrada_admin),
    )
    assert foreign.status_code == 404, "another tenant's bundle does not exist for it"
    noise = await upload(http, keys.admin)
    first = await http.post(
        f"{FIRMWARE}/rollouts",
        json={"bundle": noise["id"], "apikey": GROUP},
        headers=bearer(keys.admin),
    )
    assert first.status_code == 201
    busy = await http.post(
        f"{FIRMWARE}/rollouts",
        json={"bundle": noise["id"], "apikey": GROUP, "device_id": "noise-001"},
        headers=bearer(keys.admin),
    )
    assert busy.status_code == 400
    assert "already being updated" in busy.json()["detail"]
    async with opened_database(database_url, max_size=2) as db:
        assert len(await OtaStore(db).rollouts(TENANT)) == 1


async def test_the_store_keeps_final_states_resends_starts_and_completes_a_resumed_rollout(
    database_url: str,
) -> None:
    await provision(database_url, 2)
    bundle = sign_bundle(SEED, "noise", "1.1.0", FILES)
    topic = f"/json/{GROUP}/noise-000/ota"
    async with opened_database(database_url, max_size=2) as db:
        ota = OtaStore(db)
        info = await ota.put_bundle(TENANT, bundle, encode_bundle(bundle))
        again = await ota.put_bundle(TENANT, bundle, encode_bundle(bundle))
        assert again.id == info.id, "the same release twice is one bundle"
        made = await start_rollout(ota, DeviceRegistry(db), TENANT, info.id, RolloutTarget(GROUP))
        starts = await ota.claim_starts(resend_after_s=3600)
        assert sorted(d.device_id for d in starts) == ["noise-000", "noise-001"]
        assert await ota.claim_starts(resend_after_s=3600) == [], "claimed once"
        assert len(await ota.claim_starts(resend_after_s=0)) == 2, "unanswered: sent again"

        failed = parse_report(topic, f'{{"id": "{made.update_id}", "state": "failed", '
                              '"reason": "no_space"}'.encode())  # fmt: skip
        await ota.record(made.id, failed, None)
        assert (await ota.rollout(TENANT, made.id)).state is RolloutState.HALTED
        late = parse_report(topic, f'{{"id": "{made.update_id}", "state": "downloading", '
                            '"f": 0, "o": 0}'.encode())  # fmt: skip
        await ota.record(made.id, late, 0.5)
        resumed = await ota.change_rollout(TENANT, made.id, *ROLLOUT_ACTIONS["resume"])
        assert resumed.devices[0].state.value == "failed", "a final state is never left"
        ok = parse_report(
            topic.replace("noise-000", "noise-001"),
            f'{{"id": "{made.update_id}", "state": "confirmed", "version": "1.1.0"}}'.encode(),
        )
        await ota.record(made.id, ok, 1.0)
        done = await ota.rollout(TENANT, made.id)
        assert done.state is RolloutState.COMPLETED, "resumed: the failed one stays failed"
        with pytest.raises(ConfigurationError, match="cannot make it paused"):
            await ota.change_rollout(TENANT, made.id, *ROLLOUT_ACTIONS["pause"])


async def test_the_cli_pauses_resumes_and_aborts_a_rollout(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await provision(database_url, 1)
    bundle = sign_bundle(SEED, "noise", "1.1.0", FILES)
    async with opened_database(database_url, max_size=2) as db:
        ota = OtaStore(db)
        info = await ota.put_bundle(TENANT, bundle, encode_bundle(bundle))
        made = await start_rollout(ota, DeviceRegistry(db), TENANT, info.id, RolloutTarget(GROUP))
    monkeypatch.setenv("CIUDAD_DATABASE_URL", database_url)
    monkeypatch.setenv("CIUDAD_DEFAULT_TENANT", TENANT)
    states = []
    for action in ("pause", "resume", "abort", "status"):
        assert await asyncio.to_thread(main, ["firmware", action, str(made.id)]) == 0
        states.append(json.loads(capsys.readouterr().out)["state"])
    assert states == ["paused", "active", "aborted", "aborted"]
    assert await asyncio.to_thread(main, ["firmware", "resume", str(made.id)]) == 1
    assert "is aborted; cannot make it active" in capsys.readouterr().err
