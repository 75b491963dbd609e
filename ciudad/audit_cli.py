"""`ciudad audit`: read the audit log, set it up as a superuser, verify its hash chain.

Only the audit table is touched (not the registry's tables), so that `ciudad audit
setup`, run once as a superuser, leaves every other table to the application's role.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from knowledge import resolve_dsn
from support import Settings
from support.store.audit import AuditLog
from support.store.audit_schema import OWNER_ROLE, WRITER_ROLE, audit_table_state


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


async def _setup(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> int:
    async with pool.connection() as conn:
        state = await audit_table_state(conn)
    print(f"ciudad_audit (schema {state.schema}) owned by {state.owner}")
    if state.owner != OWNER_ROLE:
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
    pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
        await resolve_dsn(settings), min_size=1, max_size=1, open=False,
        kwargs={"autocommit": True},
    )  # fmt: skip
    await pool.open(wait=True, timeout=30)
    try:
        log = AuditLog(pool)
        await log.create_schema()
        if args.action == "verify":
            return await _verify(log)
        if args.action == "setup":
            return await _setup(pool)
        for entry in await log.entries(args.tenant, args.limit):
            print(json.dumps(entry.public()))
        return 0
    finally:
        await pool.close()
