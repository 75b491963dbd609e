"""Commands downlink end to end: API -> queue -> gateway -> /cmd -> lamp node -> /cmdexe."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from acquisition import (
    Backoff,
    CommandDispatcher,
    CommandQueue,
    DeviceRegistry,
    Gateway,
    MeasurePipeline,
    MqttOptions,
    MqttSource,
    ProvisioningFile,
    provisioning_document,
)
from capture import DeviceSpec
from interoperability import create_app
from knowledge import PostgresStore
from support import Settings
from support.mosquitto import MosquittoBroker
from tests.helpers.databases import database_at, opened_database
from tests.helpers.firmware import start_node
from tests.helpers.fleet import APIKEY, TENANT
from tests.helpers.nodes import latest, site
from tests.helpers.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
LAMP = f"urn:ngsi-ld:Streetlight:{TENANT}:streetlight-001"
HEADERS = {"NGSILD-Tenant": TENANT}


async def test_dim_command_from_the_api_round_trips_and_times_out_when_nobody_answers(
    mosquitto: MosquittoBroker,
    pipeline: MeasurePipeline,
    store: PostgresStore,
    database_url: str,
    fleet: tuple[DeviceSpec, ...],
    tmp_path: Path,
) -> None:
    async with opened_database(database_url, max_size=2) as db:
        await DeviceRegistry(db).import_document(
            ProvisioningFile.model_validate(provisioning_document(fleet, TENANT, 60))
        )
        queue = CommandQueue(db)
        source = MqttSource(MqttOptions("127.0.0.1", mosquitto.port, f"gw-{uuid.uuid4().hex[:6]}"))
        await source.start()
        dispatcher = CommandDispatcher(queue, source, store, pipeline)
        gateway = Gateway(
            source,
            pipeline,
            store,
            max_wait_s=0.05,
            backoff=Backoff(0.01, 0.05),
            commands=dispatcher,
        )
        tasks = [
            asyncio.create_task(gateway.run()),
            asyncio.create_task(dispatcher.run(db, every_s=0.2)),
        ]
        node = start_node(
            tmp_path / "lamp", site("streetlight", mosquitto.port, interval_s=30), {}, 40
        )
        app = create_app(
            Settings(database_url=database_url, api_auth="off"),  # type: ignore[arg-type]
            database=database_at(database_url),
        )
        try:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://localhost"
                ) as http,
            ):
                await _wait_online(store)
                done = await _command(http, "streetlight-001", {"name": "dim", "value": 40})
                assert (done["status"], done["result"]) == ("OK", "OK 40")

                # The queue row completes before the gateway's next batch stores the
                # entity's status attributes: the entity catches up moments later.
                async def result_on_entity() -> bool:
                    lamp = await latest(store, LAMP)
                    return (lamp.get("dim_status"), lamp.get("dim_info")) == ("OK", "OK 40")

                await wait_until(result_on_entity)

                async def dimmed() -> bool:
                    return (await latest(store, LAMP)).get("illuminanceLevel") == pytest.approx(0.4)

                await wait_until(dimmed)
                silent = await _command(
                    http, "streetlight-002", {"name": "dim", "value": 10, "timeout_s": 1}
                )
                assert silent["status"] == "EXPIRED"

                async def expired_on_entity() -> bool:
                    other = await latest(store, f"urn:ngsi-ld:Streetlight:{TENANT}:streetlight-002")
                    return other.get("dim_status") == "EXPIRED"

                await wait_until(expired_on_entity)
                refused = await http.post(
                    f"/ciudad/v1/devices/{APIKEY}/ghost/commands",
                    json={"name": "dim", "value": 1},
                    headers=HEADERS,
                )
                assert refused.status_code == 404
        finally:
            node.kill()
            node.communicate()
            for task in tasks:
                task.cancel()
            ended = await asyncio.gather(*tasks, return_exceptions=True)
            source.stop()
    assert all(isinstance(e, asyncio.CancelledError) for e in ended), ended


async def _wait_online(store: PostgresStore) -> None:
    async def online() -> bool:
        try:
            state = await latest(store, f"urn:ngsi-ld:Device:{TENANT}:streetlight-001")
        except Exception:
            return False
        return state.get("deviceState") == "online"

    await wait_until(online)


async def _command(http: httpx.AsyncClient, device_id: str, body: dict[str, Any]) -> Any:
    queued = await http.post(
        f"/ciudad/v1/devices/{APIKEY}/{device_id}/commands", json=body, headers=HEADERS
    )
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "PENDING"
    command_id = queued.json()["id"]
    final: dict[str, Any] = {}

    async def finished() -> bool:
        final.update((await http.get(f"/ciudad/v1/commands/{command_id}", headers=HEADERS)).json())
        return final["status"] in ("OK", "ERROR", "EXPIRED")

    await wait_until(finished)
    return final
