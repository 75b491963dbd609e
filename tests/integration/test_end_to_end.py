"""Simulator -> mosquitto -> gateway -> PostgreSQL -> API, every entity type, with history."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import httpx
import pytest

from acquisition import EntityValidator, MeasurePipeline
from capture import DeviceSpec, SimulationPlan, Simulator, connect_publisher, drain_and_close
from interoperability import create_app
from knowledge import PostgresStore
from services import service_routers
from support import Settings
from support.mosquitto import MosquittoBroker
from tests.helpers.databases import database_at
from tests.helpers.gateway import running_gateway
from tests.helpers.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TYPES = {"NoiseLevelObserved", "AirQualityObserved", "ParkingSpot", "Streetlight"}
BACKFILL_STEPS = 12


def simulate(broker: MosquittoBroker, fleet: tuple[DeviceSpec, ...]) -> int:
    """A backlog of 12 readings per device (one array message each) plus one live tick."""
    client = connect_publisher("127.0.0.1", broker.port, f"sim-{uuid.uuid4().hex[:8]}")
    plan = SimulationPlan(interval_s=60, duration_s=0.5, backfill_s=60 * BACKFILL_STEPS)
    try:
        return Simulator(client, fleet, plan).run(threading.Event())
    finally:
        drain_and_close(client)


async def test_simulated_fleet_reaches_the_api_as_valid_entities_with_history(
    mosquitto: MosquittoBroker,
    pipeline: MeasurePipeline,
    validator: EntityValidator,
    store: PostgresStore,
    database_url: str,
    fleet: tuple[DeviceSpec, ...],
) -> None:
    async with running_gateway(mosquitto, pipeline, store, f"gw-{uuid.uuid4().hex[:8]}") as gw:
        sent = await asyncio.to_thread(simulate, mosquitto, fleet)
        assert sent == len(fleet) * (BACKFILL_STEPS + 1)

        async def everything_stored() -> bool:
            return gw.stats.measure_messages >= 2 * len(fleet)

        await wait_until(everything_stored)
    assert gw.stats.dead_letters == {}

    settings = Settings(default_tenant="leon", database_url=database_url, api_auth="off")  # type: ignore[arg-type]
    app = create_app(
        settings,
        routers=service_routers(),
        database=database_at(database_url),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as http,
    ):
        everything = (await http.get("/ngsi-ld/v1/entities", params={"limit": 1000})).json()
        assert {e["type"] for e in everything} == {*TYPES, "Device"}
        entities = [e for e in everything if e["type"] in TYPES]
        assert len(entities) == len(fleet)
        devices = [e for e in everything if e["type"] == "Device"]
        assert {d["controlledAsset"]["object"] for d in devices} == {e["id"] for e in entities}
        assert all("dateLastValueReported" in d for d in devices)
        for entity in entities:
            validator.validate_normalized(entity)
            await _check_history(http, entity)


async def _check_history(http: httpx.AsyncClient, entity: dict[str, Any]) -> None:
    temporal = (await http.get(f"/ngsi-ld/v1/temporal/entities/{entity['id']}")).json()
    dynamic = {k: v for k, v in temporal.items() if k not in ("id", "type")}
    assert dynamic, f"no history for {entity['id']}"
    for name, instances in dynamic.items():
        assert len(instances) == BACKFILL_STEPS + 1, (entity["id"], name)
        times = [i["observedAt"] for i in instances]
        assert times == sorted(times)
        # The latest history instance is the entity's current value.
        assert instances[-1]["value"] == entity[name]["value"]
