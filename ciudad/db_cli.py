"""`ciudad db status` and `ciudad db upgrade`: the database schema's version."""

from __future__ import annotations

import argparse
import asyncio
import json

from ciudad.database import platform_migrations
from knowledge import resolve_dsn
from support import Settings
from support.store import SchemaState, SchemaStatus


def add_db_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="the database schema: its version, and upgrades")
    actions = db.add_subparsers(dest="action", required=True)
    status = actions.add_parser("status", help="where the schema stands; exit 1 unless current")
    status.add_argument("--json", action="store_true", help="machine-readable")
    actions.add_parser("upgrade", help="apply every pending migration, in one transaction")


def describe(status: SchemaStatus) -> list[str]:
    lines = [f"schema: {status.state.value}"]
    lines.append(f"database at: {', '.join(status.applied) or '(no revision recorded)'}")
    lines.append(f"this ciudad: {', '.join(status.heads)}")
    if status.pending:
        lines.append(f"pending: {', '.join(status.pending)}")
    if (why := status.refusal()) is not None:
        lines.append(why)
    return lines


async def run_db(settings: Settings, args: argparse.Namespace) -> int:
    dsn = await resolve_dsn(settings)
    migrations = platform_migrations()
    if args.action == "upgrade":
        applied = await asyncio.to_thread(migrations.upgrade, dsn)
        print(f"applied {len(applied)} migration(s){': ' if applied else ''}{', '.join(applied)}")
    status = await asyncio.to_thread(migrations.status, dsn)
    if args.action == "status" and args.json:
        print(json.dumps({"state": status.state.value, "applied": status.applied,
                          "heads": status.heads, "pending": status.pending,
                          "unknown": status.unknown}))  # fmt: skip
    else:
        print("\n".join(describe(status)))
    return 0 if status.state is SchemaState.CURRENT else 1
