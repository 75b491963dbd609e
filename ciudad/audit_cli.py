"""`ciudad audit`: read the audit log, set it up as a superuser, verify its hash chain.

Only the audit table is touched (not the registry's tables), so that `ciudad audit
setup`, run once as a superuser, leaves every other table to the application's role.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from ciudad.database import platform_database, platform_migrations
from knowledge import resolve_dsn
from support import Settings
from support.store import SchemaState
from support.store.audit import AuditLog
from support.store.audit_schema import OWNER_ROLE, WRITER_ROLE, set_up_audit_table


def add_audit_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="the audit log of administrative actions, newest first")
    audit.add_argument("--tenant")
    audit.add_argument("--limit", type=int, default=100)
    actions = audit.add_subparsers(dest="action")
    actions.add_parser("verify", help="walk the hash chain; exit 1 naming the first broken entry")
    actions.add_parser(
        "setup",
        help=f"as a superuser: hand the audit table to {OWNER_ROLE}, grant {WRITER_ROLE}",
    )


async def _setup(dsn: str) -> int:
    """Creates or upgrades the audit table and, as a superuser, hands it to its owner."""
    status = await asyncio.to_thread(platform_migrations().status, dsn)
    if status.state is not SchemaState.CURRENT:
        print(
            f"ciudad: the database schema is {status.state.value}: run `ciudad db upgrade` as "
            "the application's role first (docs/operations.md)",
            file=sys.stderr,
        )
        return 1
    state = await asyncio.to_thread(set_up_audit_table, dsn)
    owner = OWNER_ROLE if state.superuser else state.owner or state.user
    print(f"ciudad_audit (schema {state.schema}) owned by {owner}")
    if owner != OWNER_ROLE:
        print(
            f"ciudad: the audit table is not owned by {OWNER_ROLE}: run this as a superuser",
            file=sys.stderr,
        )
        return 1
    print(f"grant {WRITER_ROLE} to the application's role (docs/operations.md)")
    return 0


async def _verify(log: AuditLog) -> int:
    report = await log.verify()
    if report.problem:
        print(f"ciudad: audit log: {report.describe()}", file=sys.stderr)
        return 1
    print(report.describe())
    return 0


async def run_audit(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "setup":
        return await _setup(await resolve_dsn(settings))
    async with platform_database(settings) as db:
        log = AuditLog(db)
        await log.check()
        if args.action == "verify":
            return await _verify(log)
        for entry in await log.entries(args.tenant, args.limit):
            print(json.dumps(entry.public()))
        return 0
