"""Administrative subcommands: `ciudad groups`, `devices`, `broker-config`, `apikey`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from acquisition import (
    DeviceRegistry,
    ServiceGroupEntry,
    broker_username,
    devices_to_csv,
    generate_password,
    mosquitto_password_hash,
)
from ciudad.audit_cli import add_audit_commands
from ciudad.broker_files import add_broker_arguments, run_broker_config
from ciudad.database import platform_database
from ciudad.runners import import_provisioning_file
from interoperability import ApiKeyStore, Scope
from support import Settings
from support.store.audit import AuditLog, cli_actor


def add_admin_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    groups = sub.add_parser("groups", help="service groups (apikey -> tenant)")
    gsub = groups.add_subparsers(dest="action", required=True)
    gsub.add_parser("list")
    add = gsub.add_parser("add")
    add.add_argument("apikey")
    add.add_argument("tenant")
    delete = gsub.add_parser("delete")
    delete.add_argument("apikey")

    devices = sub.add_parser("devices", help="the device registry")
    dsub = devices.add_subparsers(dest="action", required=True)
    listing = dsub.add_parser("list")
    listing.add_argument("--tenant")
    imp = dsub.add_parser("import", help="import a provisioning file (.json or .csv)")
    imp.add_argument("file", type=Path)
    exp = dsub.add_parser("export")
    exp.add_argument("--format", choices=("csv", "json"), default="csv")
    exp.add_argument("--tenant")
    for name, text in (
        ("revoke", "refuse the device and drop its credentials"),
        ("delete", "remove the device"),
        ("credentials", "generate broker credentials (printed once)"),
    ):
        action = dsub.add_parser(name, help=text)
        action.add_argument("apikey")
        action.add_argument("device_id")

    broker_help = "the whole mosquitto configuration (passwords, ACL) from the registry"
    add_broker_arguments(sub.add_parser("broker-config", help=broker_help))

    add_audit_commands(sub)  # ciudad/audit_cli.py
    keys = sub.add_parser("apikey", help="API keys (one tenant and scope each)")
    ksub = keys.add_subparsers(dest="action", required=True)
    create = ksub.add_parser("create", help="create a key (printed once, stored hashed)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--scope", choices=("read", "write", "admin"), required=True)
    create.add_argument("--name", required=True, help="who or what uses it")
    klist = ksub.add_parser("list")
    klist.add_argument("--tenant")
    revoke = ksub.add_parser("revoke")
    revoke.add_argument("key_id")


async def _groups(registry: DeviceRegistry, args: argparse.Namespace, audit: AuditLog) -> None:
    if args.action == "add":
        await registry.put_group(ServiceGroupEntry(apikey=args.apikey, tenant=args.tenant))
        await audit.record(args.tenant, cli_actor(), "group.put", args.apikey)
    elif args.action == "delete":
        await registry.delete_group(args.apikey)
        await audit.record(None, cli_actor(), "group.delete", args.apikey)
    for group in await registry.groups():
        print(f"{group.apikey}\t{group.tenant}")


async def _devices(registry: DeviceRegistry, args: argparse.Namespace, audit: AuditLog) -> None:
    action = args.action
    if action == "import":
        count = await import_provisioning_file(registry, args.file)
        await audit.record(
            None, cli_actor(), "devices.put", f"{count} devices", file=f"{args.file}"
        )
        print(f"imported {count} devices")
    elif action in ("list", "export"):
        await _list_devices(registry, args)
    else:
        await _change_device(registry, args)
        target = f"{args.apikey}/{args.device_id}"
        await audit.record(None, cli_actor(), f"device.{action}", target)


async def _list_devices(registry: DeviceRegistry, args: argparse.Namespace) -> None:
    records = await registry.devices(args.tenant)
    if args.action == "list":
        for r in records:
            state = "revoked" if r.revoked else ("credentials" if r.has_credentials else "-")
            print(
                f"{r.entry.apikey}\t{r.entry.device_id}\t{r.entry.entity_type}\t{r.tenant}\t{state}"
            )
    elif args.format == "csv":
        sys.stdout.write(devices_to_csv(r.entry for r in records))
    else:
        print(json.dumps([r.entry.model_dump(mode="json") for r in records], indent=2))


async def _change_device(registry: DeviceRegistry, args: argparse.Namespace) -> None:
    if args.action == "revoke":
        await registry.revoke(args.apikey, args.device_id)
        print(f"revoked {args.apikey}/{args.device_id}; run `ciudad broker-config` to apply")
    elif args.action == "delete":
        await registry.delete_device(args.apikey, args.device_id)
    else:
        password = generate_password()
        await registry.set_password_hash(
            args.apikey, args.device_id, mosquitto_password_hash(password)
        )
        print(
            json.dumps(
                {"username": broker_username(args.apikey, args.device_id), "password": password}
            )
        )


async def _api_keys(keys: ApiKeyStore, args: argparse.Namespace, audit: AuditLog) -> None:
    if args.action == "create":
        clear, key = await keys.create(args.tenant, Scope.parse(args.scope), args.name)
        await audit.record(
            args.tenant, cli_actor(), "apikey.create", key.key_id, scope=args.scope, name=args.name
        )
        print(json.dumps(key.public() | {"key": clear}))
        print("keep the key now: only its digest is stored", file=sys.stderr)
    elif args.action == "revoke":
        await keys.revoke(None, args.key_id)
        await audit.record(None, cli_actor(), "apikey.revoke", args.key_id)
        print(f"revoked {args.key_id}")
    else:
        for key in await keys.list(args.tenant):
            state = "revoked" if key.revoked_at else "live"
            print(f"{key.key_id}\t{key.tenant}\t{key.scope.label}\t{state}\t{key.name}")


async def run_admin(settings: Settings, args: argparse.Namespace) -> int:
    async with platform_database(settings) as db:
        registry = DeviceRegistry(db)
        audit = AuditLog(db)
        await audit.check()
        if args.command == "apikey":
            await _api_keys(ApiKeyStore(db), args, audit)
        elif args.command == "groups":
            await _groups(registry, args, audit)
        elif args.command == "devices":
            await _devices(registry, args, audit)
        else:
            await run_broker_config(registry, settings, args)
    return 0
