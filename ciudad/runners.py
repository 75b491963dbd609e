"""Wiring of each long-running process: objects are built here and passed in."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from datetime import timedelta
from pathlib import Path

import uvicorn

from acquisition import (
    ENTITY_TYPES,
    EntityValidator,
    Gateway,
    MeasurePipeline,
    MqttOptions,
    MqttSource,
    TimePolicy,
    load_provisioning,
    provisioning_document,
)
from capture import (
    DeviceSpec,
    SimulationPlan,
    Simulator,
    build_fleet,
    connect_publisher,
    drain_and_close,
)
from interoperability import create_app
from knowledge import open_store
from services import service_routers
from support import Settings

log = logging.getLogger(__name__)


def build_pipeline(settings: Settings) -> MeasurePipeline:
    provisioning = load_provisioning(settings.provisioning_path)
    validator = EntityValidator({name: t.schema_file for name, t in ENTITY_TYPES.items()})
    policy = TimePolicy(
        max_future=timedelta(seconds=settings.max_future_skew_s),
        max_past=timedelta(seconds=settings.max_past_age_s),
    )
    log.info(
        "provisioning loaded",
        extra={"devices": len(provisioning), "file": str(settings.provisioning_path)},
    )
    return MeasurePipeline(provisioning, validator, policy)


def mqtt_options(settings: Settings) -> MqttOptions:
    return MqttOptions(
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        client_id=settings.gateway_client_id,
        username=settings.mqtt_username,
        password=settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
        keepalive_s=settings.mqtt_keepalive_s,
        share_group=settings.gateway_share_group,
        receive_maximum=settings.mqtt_receive_maximum,
    )


async def run_gateway(settings: Settings) -> None:
    """Runs the acquisition gateway until cancelled."""
    pipeline = build_pipeline(settings)
    store = await open_store(settings)
    source = MqttSource(mqtt_options(settings))
    try:
        await source.start()
        gateway = Gateway(
            source,
            pipeline,
            store,
            max_messages=settings.batch_max_messages,
            max_wait_s=settings.batch_max_wait_ms / 1000,
        )
        log.info("gateway running", extra={"broker": f"{settings.mqtt_host}:{settings.mqtt_port}"})
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(gateway.run(), name="gateway-loop")
            tasks.create_task(gateway.report_forever(), name="gateway-stats")
    finally:
        source.stop()
        await store.close()


def run_api(settings: Settings) -> None:
    """Serves the HTTP API (blocking) on settings.api_host:api_port."""
    app = create_app(settings, routers=service_routers())
    config = uvicorn.Config(
        app, host=settings.api_host, port=settings.api_port, log_config=None, access_log=False
    )
    uvicorn.Server(config).run()


def simulated_fleet(settings: Settings) -> tuple[DeviceSpec, ...]:
    return build_fleet(settings.sim_latitude, settings.sim_longitude, settings.sim_apikey)


def write_fleet_provisioning(settings: Settings, path: Path) -> int:
    """Writes the provisioning file for the simulated fleet; returns the device count."""
    fleet = simulated_fleet(settings)
    document = provisioning_document(fleet, settings.sim_tenant, settings.sim_interval_s)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return len(fleet)


def run_simulator(
    settings: Settings, duration_s: float | None, backfill_s: float, stop: threading.Event
) -> int:
    plan = SimulationPlan(
        interval_s=settings.sim_interval_s, duration_s=duration_s, backfill_s=backfill_s
    )
    client = connect_publisher(settings.mqtt_host, settings.mqtt_port, "ciudad-simulator")
    try:
        sent = Simulator(client, simulated_fleet(settings), plan).run(stop)
    finally:
        drain_and_close(client)
    log.info("simulator finished", extra={"readings": sent})
    return sent
