"""The ``ciudad`` command: one subcommand per process of the platform."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from acquisition import DeviceRegistry
from ciudad.admin import add_admin_commands, run_admin
from ciudad.audit_cli import run_audit
from ciudad.bench import run_bench
from ciudad.config_check import check_config, describe_errors, load_settings
from ciudad.database import platform_database
from ciudad.db_cli import add_db_commands, run_db
from ciudad.demo import DemoOptions, run_demo
from ciudad.firmware_cli import add_firmware_commands, run_firmware
from ciudad.runners import (
    openapi_document,
    run_api,
    run_gateway,
    run_retention,
    run_serial_bridge,
    run_simulator,
    write_fleet_provisioning,
)
from ciudad.samples_import import DEFAULT_DIR, SAMPLES, import_samples
from interoperability import api_counts
from knowledge import open_store, resolve_dsn
from services import Objectives, service_levels
from support import CiudadError, Settings, configure_logging
from support.store.backup import backup, restore


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ciudad",
        description="Smart-city IoT data platform. Settings come from CIUDAD_* environment "
        "variables (docs/configuration.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run broker, database, gateway, API and simulator")
    demo.add_argument("--duration", type=float, default=None, help="stop after SECONDS")
    demo.add_argument(
        "--backfill",
        type=float,
        default=3600.0,
        help="seconds of history each simulated device sends first (default 3600)",
    )
    sub.add_parser("gateway", help="run the acquisition gateway (MQTT -> store)")
    sub.add_parser("api", help="serve the NGSI-LD HTTP API")
    sub.add_parser(
        "retention", help="drop raw data, roll-ups and dead letters past their retention, once"
    )
    openapi = sub.add_parser("openapi", help="write the HTTP API's OpenAPI document")
    openapi.add_argument("--output", type=Path, default=Path("docs/openapi.json"))
    simulate = sub.add_parser("simulate", help="publish the simulated fleet's readings")
    simulate.add_argument("--duration", type=float, default=None, help="stop after SECONDS")
    simulate.add_argument(
        "--backfill",
        type=float,
        default=0.0,
        help="seconds of history to send first, as one array per device",
    )
    provision = sub.add_parser("provisioning", help="write the simulated fleet's provisioning")
    provision.add_argument("--output", type=Path, required=True)
    bridge = sub.add_parser("serial-bridge", help="republish a serial concentrator feed")
    bridge.add_argument("--port", required=True, help="serial device, e.g. /dev/ttyUSB0")
    bridge.add_argument("--baud", type=int, default=115200)
    bench = sub.add_parser("bench", help="run the benchmarks; JSON report and markdown summary")
    bench.add_argument("--only", help="comma-separated sections: ingest, knowledge, api, fleet")
    bench.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    bench.add_argument(
        "--output", type=Path, default=None, help="report directory (default bench-results/<time>)"
    )
    slo = sub.add_parser("slo", help="a tenant's service levels over the last hours (JSON)")
    slo.add_argument("--tenant", required=True)
    slo.add_argument("--hours", type=float, default=24.0)
    dump = sub.add_parser("backup", help="dump the platform's database (pg_dump, custom format)")
    dump.add_argument("--output", type=Path, required=True)
    load = sub.add_parser("restore", help="restore a dump into an empty database")
    load.add_argument("dump", type=Path)
    samples = sub.add_parser("samples", help="the real open-data samples")
    samples_sub = samples.add_subparsers(dest="samples_command", required=True)
    replay = samples_sub.add_parser("import", help="replay samples into tenants of their own")
    replay.add_argument("names", nargs="*", default=list(SAMPLES), help="default: all")
    replay.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the samples directory")
    config = sub.add_parser("config", help="settings")
    config_sub = config.add_subparsers(dest="action", required=True)
    check = config_sub.add_parser("check", help="validate the settings and show them")
    check.add_argument("--env-file", type=Path, help="a settings file (as /etc/ciudad/ciudad.env)")
    add_admin_commands(sub)
    add_db_commands(sub)
    add_firmware_commands(sub)
    return parser


def _gateway(settings: Settings) -> int:
    async def main() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            if task is not None:
                loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await run_gateway(settings)

    asyncio.run(main())
    return 0


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set())
    return stop


def _simulate(settings: Settings, duration: float | None, backfill: float) -> int:
    run_simulator(settings, duration, backfill, _stop_on_signals())
    return 0


def _api(settings: Settings) -> int:
    run_api(settings)
    return 0


def _provisioning(settings: Settings, output: Path) -> int:
    count = write_fleet_provisioning(settings, output)
    print(f"wrote {count} devices to {output}")
    return 0


def _openapi(settings: Settings, output: Path) -> int:
    output.write_text(openapi_document(settings), encoding="utf-8")
    print(f"wrote {output}")
    return 0


def _retention(settings: Settings) -> int:
    report = asyncio.run(run_retention(settings))
    print(f"dropped {len(report.dropped_partitions)} raw partitions/chunks")
    for seconds, rows in sorted(report.deleted_rollups.items()):
        print(f"deleted {rows} roll-up rows at {seconds} s resolution")
    print(f"deleted {report.deleted_dead_letters} dead letters")
    return 0


async def _slo(settings: Settings, tenant: str, hours: float) -> int:
    end = datetime.now(UTC)
    start = end - timedelta(hours=hours)
    async with platform_database(settings) as db:
        store = await open_store(db, settings)
        devices = (await DeviceRegistry(db).provisioning()).devices()
        counts = await api_counts(db, tenant, start, end)
        report = await service_levels(
            store, devices, counts, tenant, start, end, Objectives.of(settings)
        )
        await store.close()
    print(json.dumps(report, indent=2))
    return 0


def _bench(only: str | None, quick: bool, output: Path | None) -> int:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    chosen = [name.strip() for name in only.split(",")] if only else None
    written = run_bench(chosen, quick, output or Path("bench-results") / stamp)
    print(f"wrote {written / 'report.json'} and {written / 'report.md'}")
    return 0


def _backup(settings: Settings, output: Path) -> int:
    size = backup(asyncio.run(resolve_dsn(settings)), output)
    print(f"wrote {output} ({size:,} bytes)")
    return 0


def _restore(settings: Settings, dump: Path) -> int:
    restore(asyncio.run(resolve_dsn(settings)), dump)
    print(f"restored {dump}")
    return 0


async def _import_samples(settings: Settings, directory: Path, names: list[str]) -> int:
    for done in await import_samples(settings, directory, names):
        print(f"{done.sample}: {done.entities} entities, {done.readings} readings "
              f"(tenant {done.sample})")  # fmt: skip
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.env_file if args.command == "config" else None)
    except ValidationError as exc:
        print(f"ciudad: invalid settings:\n{describe_errors(exc)}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"ciudad: {exc}", file=sys.stderr)
        return 2
    if args.command == "config":
        return check_config(settings)
    configure_logging(settings.log_level, settings.log_format)
    commands: dict[str, Callable[[], int]] = {
        "demo": lambda: run_demo(settings, DemoOptions(args.duration, args.backfill)),
        "gateway": lambda: _gateway(settings),
        "api": lambda: _api(settings),
        "retention": lambda: _retention(settings),
        "openapi": lambda: _openapi(settings, args.output),
        "simulate": lambda: _simulate(settings, args.duration, args.backfill),
        "provisioning": lambda: _provisioning(settings, args.output),
        "serial-bridge": lambda: run_serial_bridge(
            settings, args.port, args.baud, _stop_on_signals()
        ),
        "groups": lambda: asyncio.run(run_admin(settings, args)),
        "devices": lambda: asyncio.run(run_admin(settings, args)),
        "broker-config": lambda: asyncio.run(run_admin(settings, args)),
        "apikey": lambda: asyncio.run(run_admin(settings, args)),
        "audit": lambda: asyncio.run(run_audit(settings, args)),
        "backup": lambda: _backup(settings, args.output),
        "bench": lambda: _bench(args.only, args.quick, args.output),
        "slo": lambda: asyncio.run(_slo(settings, args.tenant, args.hours)),
        "restore": lambda: _restore(settings, args.dump),
        "db": lambda: asyncio.run(run_db(settings, args)),
        "firmware": lambda: run_firmware(settings, args),
        "samples": lambda: asyncio.run(_import_samples(settings, args.dir, args.names)),
    }
    try:
        return commands[args.command]()
    except CiudadError as exc:
        print(f"ciudad: {exc}", file=sys.stderr)
        return 1
