"""``ciudad firmware``: keys, bundles and roll-outs of firmware updates over the air.

``keygen``, ``pubkey`` and ``build`` work on files only; the others use the platform's
database directly, as the other administrative commands do (docs/firmware.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

from acquisition import (
    NODE_KINDS,
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
from ciudad.database import platform_database
from ciudad.firmware_build import ARCHES, FIRMWARE_DIR, build_bundle, read_key, write_key
from support import Settings
from support.store.audit import AuditLog, cli_actor


def add_firmware_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    firmware = sub.add_parser("firmware", help="node firmware updates over the air")
    fsub = firmware.add_subparsers(dest="action", required=True)
    keygen = fsub.add_parser("keygen", help="a new Ed25519 signing key (file mode 0600)")
    keygen.add_argument("--out", type=Path, required=True)
    pubkey = fsub.add_parser("pubkey", help="the public key (ota_pubkey) of a signing key")
    pubkey.add_argument("--key", type=Path, required=True)
    build = fsub.add_parser("build", help="compile and sign a node kind's bundle")
    build.add_argument("--node", choices=NODE_KINDS, required=True)
    build.add_argument("--version", required=True)
    build.add_argument("--key", type=Path, required=True)
    build.add_argument("--min-boot", type=int, default=1, help="lowest BOOT_VERSION (default 1)")
    build.add_argument("--arch", choices=ARCHES, default="xtensawin", help="host: unix port")
    build.add_argument("--source", type=Path, default=FIRMWARE_DIR, help="firmware tree")
    build.add_argument("--out", type=Path, required=True)
    upload = fsub.add_parser("upload", help="verify and store a bundle")
    upload.add_argument("bundle", type=Path)
    fsub.add_parser("bundles", help="the tenant's bundles")
    rollout = fsub.add_parser("rollout", help="start updating a device, a group or a share")
    rollout.add_argument("--bundle", type=int, required=True)
    rollout.add_argument("--group", required=True, help="service group apikey")
    rollout.add_argument("--device", help="one device of the group")
    rollout.add_argument("--percent", type=float, default=100.0, help="staged: share of group")
    for name in ROLLOUT_ACTIONS:
        fsub.add_parser(name, help=f"{name} a roll-out").add_argument("rollout", type=int)
    status = fsub.add_parser("status", help="roll-outs, or one with its devices")
    status.add_argument("rollout", type=int, nargs="?")
    for parser in fsub.choices.values():
        if parser.prog.split()[-1] not in ("keygen", "pubkey", "build"):
            parser.add_argument("--tenant", help="default: CIUDAD_DEFAULT_TENANT")


def run_firmware(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "keygen":
        seed = write_key(args.out)
        print(f"wrote {args.out} (keep it secret); ota_pubkey: {public_key(seed).hex()}")
    elif args.action == "pubkey":
        print(public_key(read_key(args.key)).hex())
    elif args.action == "build":
        _build(args)
    else:
        return asyncio.run(_with_database(settings, args))
    return 0


def _build(args: argparse.Namespace) -> None:
    bundle = build_bundle(
        args.source, args.node, args.version, read_key(args.key), args.min_boot, args.arch
    )
    data = encode_bundle(bundle)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, args.out)
    names = ", ".join(f.name for f in bundle.manifest.files)
    print(f"wrote {args.out}: {args.node} {args.version}, {len(data)} bytes ({names})")


async def _with_database(settings: Settings, args: argparse.Namespace) -> int:
    tenant = args.tenant or settings.default_tenant
    async with platform_database(settings) as db:
        ota, audit = OtaStore(db), AuditLog(db)
        await audit.check()
        if args.action == "upload":
            data = await asyncio.to_thread(args.bundle.read_bytes)
            info = await ota.put_bundle(tenant, decode_bundle(data), data)
            await audit.record(tenant, cli_actor(), "firmware.upload", f"bundle {info.id}")
            print(f"bundle {info.id}: {info.node} {info.version} ({info.size} bytes)")
        elif args.action == "bundles":
            for b in await ota.bundles(tenant):
                print(f"{b.id}\t{b.node}\t{b.version}\t{b.size}\t{b.sha256[:16]}")
        elif args.action == "rollout":
            target = RolloutTarget(args.group, args.device, args.percent)
            made = await start_rollout(ota, DeviceRegistry(db), tenant, args.bundle, target)
            await audit.record(tenant, cli_actor(), "firmware.rollout", f"rollout {made.id}")
            _print_rollout(made)
        elif args.action in ROLLOUT_ACTIONS:
            to, allowed = ROLLOUT_ACTIONS[args.action]
            changed = await ota.change_rollout(tenant, args.rollout, to, allowed)
            await audit.record(
                tenant, cli_actor(), f"firmware.{args.action}", f"rollout {args.rollout}"
            )
            _print_rollout(changed)
        elif args.rollout is not None:
            _print_rollout(await ota.rollout(tenant, args.rollout))
        else:
            for r in await ota.rollouts(tenant):
                print(f"{r.id}\tbundle {r.bundle_id}\t{r.state.value}\t{json.dumps(r.target)}")
    return 0


def _print_rollout(rollout: Rollout) -> None:
    body: dict[str, Any] = {
        "id": rollout.id,
        "bundle": rollout.bundle_id,
        "state": rollout.state.value,
        "reason": rollout.reason,
        "target": rollout.target,
        "devices": {
            f"{d.apikey}/{d.device_id}": {
                "state": d.state.value,
                "reason": d.reason,
                "progress": round(d.progress, 3),
                "version": d.version,
            }
            for d in rollout.devices
        },
    }
    print(json.dumps(body, indent=2))
