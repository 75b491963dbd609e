"""Wiring of each long-running process: objects are built here and passed in."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from acquisition import (
    ENTITY_TYPES,
    LORAWAN_FILTERS,
    OTA_FILTERS,
    CommandDispatcher,
    CommandQueue,
    DeviceRateLimiter,
    DeviceRegistry,
    EntityValidator,
    FrameTracker,
    Gateway,
    LorawanPipeline,
    MeasurePipeline,
    MqttOptions,
    MqttSource,
    NatsOptions,
    NatsSource,
    OtaOptions,
    OtaService,
    OtaStore,
    Provisioning,
    Spool,
    TimePolicy,
    follow_registry,
    parse_devices_csv,
    provisioning_document,
    read_provisioning_document,
)
from capture import (
    DeviceSpec,
    SerialBridge,
    SimulationPlan,
    Simulator,
    build_fleet,
    connect_publisher,
    drain_and_close,
)
from ciudad.database import (
    check_schema,
    platform_database,
    platform_read_database,
    platform_store,
)
from interoperability import create_app
from knowledge import PostgresStore, RetentionReport, open_store, retention_policy
from services import ServiceTables, service_jobs, service_routers
from support import CiudadError, ConfigurationError, Settings, StoreUnavailableError
from support.heap import settle_heap
from support.metrics import PlatformMetrics
from support.ops_server import OpsServer
from support.store import Database
from support.tasks import run_together

log = logging.getLogger(__name__)


def build_pipeline(
    settings: Settings, provisioning: Provisioning, metrics: PlatformMetrics | None = None
) -> LorawanPipeline:
    """The IoT Agent pipeline with LoRaWAN events added (other topics pass through)."""
    validator = EntityValidator({name: t.schema_file for name, t in ENTITY_TYPES.items()})
    policy = TimePolicy(
        max_future=timedelta(seconds=settings.max_future_skew_s),
        max_past=timedelta(seconds=settings.max_past_age_s),
    )
    frames = FrameTracker(
        on_count=None if metrics is None else lambda v: metrics.lorawan_frames.labels(v).inc()
    )
    return LorawanPipeline(provisioning, validator, policy, frames)


async def import_provisioning_file(registry: DeviceRegistry, path: Path) -> int:
    """Loads a provisioning file (JSON or CSV) into the registry; returns the device count."""
    try:
        text = await asyncio.to_thread(path.read_text, "utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"provisioning file {path} does not exist") from None
    if path.suffix.lower() == ".csv":
        return await registry.put_devices(parse_devices_csv(text))
    document = read_provisioning_document(text, f"provisioning file {path}")
    return await registry.import_document(document)


def device_rate_limiter(settings: Settings) -> DeviceRateLimiter | None:
    """The per-device message limit of CIUDAD_DEVICE_MAX_MSGS_PER_S (0: none)."""
    if not settings.device_max_msgs_per_s:
        return None
    return DeviceRateLimiter(settings.device_max_msgs_per_s, settings.device_burst_msgs)


def mqtt_options(settings: Settings) -> MqttOptions:
    options = MqttOptions(
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        client_id=settings.gateway_client_id,
        username=settings.mqtt_username,
        password=settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
        keepalive_s=settings.mqtt_keepalive_s,
        share_group=settings.gateway_share_group,
        receive_maximum=settings.mqtt_receive_maximum,
        protocol_version=4 if settings.mqtt_v311 else 5,
        tls=settings.mqtt_tls,
        ca_file=settings.mqtt_ca_file,
    )
    if settings.gateway_input == "nats":
        # Devices come in over NATS: this link only publishes commands (OTA has its own).
        return dataclasses.replace(options, filters=())
    return options


def nats_options(settings: Settings) -> NatsOptions:
    """The NATS input (CIUDAD_GATEWAY_INPUT=nats): every worker shares one durable consumer."""
    return NatsOptions(
        servers=tuple(url.strip() for url in settings.nats_urls.split(",") if url.strip()),
        stream=settings.nats_stream,
        consumer=settings.nats_consumer,
        max_ack_pending=settings.nats_max_ack_pending,
        ack_wait_s=settings.nats_ack_wait_s,
    )


def lorawan_options(settings: Settings) -> MqttOptions | None:
    """The network server's broker (CIUDAD_LORAWAN_MQTT_*), None when none is configured."""
    if settings.lorawan_mqtt_host is None:
        return None
    password = settings.lorawan_mqtt_password
    return MqttOptions(
        host=settings.lorawan_mqtt_host,
        port=settings.lorawan_mqtt_port,
        client_id=f"{settings.gateway_client_id}-lorawan",
        username=settings.lorawan_mqtt_username,
        password=password.get_secret_value() if password else None,
        keepalive_s=settings.mqtt_keepalive_s,
        share_group=settings.gateway_share_group,
        receive_maximum=settings.mqtt_receive_maximum,
        filters=LORAWAN_FILTERS,
        protocol_version=4 if settings.lorawan_mqtt_v311 else 5,
        tls=settings.lorawan_mqtt_tls,
        ca_file=settings.lorawan_mqtt_ca_file,
    )


def ota_options(settings: Settings) -> MqttOptions:
    """The OTA service's own connection: its own client id and session, the ota topics only
    (docs/firmware.md, "Updates over the air")."""
    return dataclasses.replace(
        mqtt_options(settings), client_id=f"{settings.gateway_client_id}-ota", filters=OTA_FILTERS
    )


async def run_gateway(settings: Settings) -> None:
    """Runs the acquisition gateway until cancelled."""
    async with platform_database(settings) as db:
        registry = DeviceRegistry(db)
        if settings.provisioning_file is not None:
            count = await import_provisioning_file(registry, settings.provisioning_file)
            log.info("provisioning file imported", extra={"devices": count})
        metrics = PlatformMetrics()
        pipeline = build_pipeline(settings, await registry.provisioning(), metrics)
        await _run_gateway_loop(settings, pipeline, registry, db, metrics)


async def _run_gateway_loop(
    settings: Settings,
    pipeline: MeasurePipeline,
    registry: DeviceRegistry,
    db: Database,
    metrics: PlatformMetrics,
) -> None:
    store = await open_store(db, settings)
    queue = CommandQueue(db)
    source = MqttSource(mqtt_options(settings))
    devices = NatsSource(nats_options(settings)) if settings.gateway_input == "nats" else None
    lora_options = lorawan_options(settings)
    lora = MqttSource(lora_options) if lora_options is not None else None
    ota_link = MqttSource(ota_options(settings))
    ops: OpsServer | None = None
    try:
        await source.start()
        if devices is not None:
            await devices.start()
        if lora is not None:
            await lora.start()
        ota_on = await _start_ota_link(ota_link)
        spool = (
            Spool(settings.spool_path, settings.spool_max_bytes)
            if settings.spool_max_bytes
            else None
        )
        if spool is not None and len(spool):
            log.info(
                "spooled batches from a previous run will be replayed",
                extra={"batches": len(spool)},
            )
        dispatcher = CommandDispatcher(queue, source, store, pipeline, lorawan=lora)
        # every loop shares the pipeline, the store, the batching and the command results
        loop_on = functools.partial(
            Gateway,
            pipeline=pipeline,
            sink=store,
            max_messages=settings.batch_max_messages,
            max_wait_s=settings.batch_max_wait_ms / 1000,
            commands=dispatcher,
            metrics=metrics,
        )
        inbound = source if devices is None else devices
        gateway = loop_on(inbound, spool=spool, rate_limit=device_rate_limiter(settings))
        ops = await start_gateway_ops(settings, gateway, inbound, store)
        log.info("gateway running", extra={"broker": f"{settings.mqtt_host}:{settings.mqtt_port}"})
        work = {
            "gateway-loop": gateway.run(),
            "gateway-stats": gateway.report_forever(),
            "registry-sync": follow_registry(registry, pipeline, db),
            "command-dispatch": dispatcher.run(db),
        }
        if lora is not None:
            # The network server's events: the same pipeline, store and command results; no
            # spool of its own (one spool per process), so a store outage holds its acks.
            work["lorawan-loop"] = loop_on(lora).run()
        if settings.retention_interval_s:
            work["retention"] = apply_retention_forever(store, settings)
        if ota_on:
            ota = OtaService(
                OtaStore(db),
                ota_link,
                lambda: pipeline.provisioning,
                store,
                OtaOptions(start_resend_s=settings.ota_start_resend_s),
            )
            work["ota-reports"] = ota.serve()
            work["ota-starts"] = ota.follow(db)
        settle_heap()  # everything long-lived is built: out of the collector's sight
        await run_together(work)
    finally:
        if ops is not None:
            await ops.close()
        if devices is not None:
            await devices.close()  # its last acknowledgements go out first
        source.stop()
        if lora is not None:
            lora.stop()
        ota_link.stop()
        await store.close()


async def _start_ota_link(link: MqttSource) -> bool:
    """Connects the OTA service; without it (a broker ACL from before firmware updates:
    run `ciudad broker-config`) the gateway still runs, and says so."""
    try:
        await link.start()
    except CiudadError as exc:
        log.error("firmware updates off: the OTA connection failed", extra={"error": str(exc)})
        return False
    return True


async def start_gateway_ops(
    settings: Settings, gateway: Gateway[Any], source: MqttSource | NatsSource, store: PostgresStore
) -> OpsServer | None:
    """/metrics and /health/* of the gateway, or None when CIUDAD_GATEWAY_OPS_PORT is 0."""
    if not settings.gateway_ops_port:
        return None

    async def ready() -> dict[str, dict[str, object]]:
        reachable: dict[str, object] = {"ok": True}
        try:
            await store.ping()
        except StoreUnavailableError as exc:
            reachable = {"ok": False, "error": str(exc)}
        return {
            "broker": {"ok": source.connected},
            "store": reachable,
            "spool": {"ok": not gateway.spool_full(), "batches": gateway.stats.spooled},
        }

    assert gateway.metrics is not None
    ops = OpsServer(gateway.metrics, ready, lambda: gateway.refresh_gauges(source.connected))
    await ops.start(settings.api_host, settings.gateway_ops_port)
    return ops


async def apply_retention_forever(store: PostgresStore, settings: Settings) -> None:
    """Drops data past its retention now and then; a failure is logged and retried later."""
    policy = retention_policy(settings)
    while True:
        try:
            await store.apply_retention(policy, datetime.now(UTC))
        except StoreUnavailableError as exc:
            log.warning("retention postponed", extra={"error": str(exc)})
        await asyncio.sleep(settings.retention_interval_s)


async def run_retention(settings: Settings) -> RetentionReport:
    """Applies the configured retention once (``ciudad retention``)."""
    async with platform_store(settings) as store:
        return await store.apply_retention(retention_policy(settings), datetime.now(UTC))


def openapi_document(settings: Settings) -> str:
    """The API's OpenAPI document as committed in docs/openapi.json (stable key order)."""
    app = create_app(settings, platform_database, routers=service_routers())
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def run_api(settings: Settings) -> None:
    """Serves the HTTP API (blocking) on settings.api_host:api_port; refuses a database
    whose schema is not current before it listens (SchemaVersionError)."""
    asyncio.run(check_schema(settings))
    tables = ServiceTables.load(settings)
    app = create_app(
        settings,
        platform_database,
        routers=service_routers(tables),
        jobs=service_jobs(settings, tables),
        read_database=platform_read_database,
    )
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


def run_serial_bridge(settings: Settings, port: str, baud: int, stop: threading.Event) -> int:
    """Republishes a concentrator's serial feed to the broker until ``stop``."""
    import serial  # pyserial: imported here so other commands do not need a serial stack

    client = connect_publisher(settings.mqtt_host, settings.mqtt_port, "ciudad-serial-bridge")
    rejects = settings.data_dir / "serial-rejects.log"
    rejects.parent.mkdir(parents=True, exist_ok=True)
    try:
        with serial.Serial(port, baud, timeout=0.5) as line:
            bridge = SerialBridge(line, client, rejects)
            log.info("serial bridge running", extra={"port": port, "rejects": str(rejects)})
            bridge.run(stop)
    finally:
        drain_and_close(client)
    log.info(
        "serial bridge stopped", extra={"forwarded": bridge.forwarded, "rejected": bridge.rejected}
    )
    return 0
