"""The audit log: administrative actions, append-only and hash-chained
(``support/store/audit_schema.py``).

Who did what to which tenant's what: device provisioning and revocation, API
keys, subscriptions, from the API (actor ``key:<id>``, or ``open-api`` when
keys are off) and from the command line (``cli:<user>``).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from support.store.audit_schema import check_audit_table
from support.store.database import Database

# One statement, so one snapshot: the rows and the head row are read as of one instant.
# Each row is checked against the stored hash of the row before it, so the first
# mismatch is the row that was changed, or the first row after one removed or inserted.
_VERIFY = """
WITH checked AS (
    SELECT id, coalesce(hash = ciudad_audit_hash(
        lag(hash) OVER (ORDER BY id), id, at, tenant, actor, action, target, detail
    ), false) AS ok
    FROM ciudad_audit
), last AS (SELECT id, hash FROM ciudad_audit ORDER BY id DESC LIMIT 1)
SELECT (SELECT count(*) FROM checked), (SELECT min(id) FROM checked WHERE NOT ok),
       coalesce((SELECT id FROM last), 0), (SELECT hash FROM last), head.last_id, head.hash
FROM (SELECT 1) AS one LEFT JOIN ciudad_audit_head AS head ON true
"""


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What `ciudad audit verify` found walking the hash chain."""

    entries: int
    first_broken: int | None
    last_id: int
    last_hash: bytes | None
    head_id: int | None
    head_hash: bytes | None

    @property
    def problem(self) -> str | None:
        if self.first_broken is not None:
            return (
                f"chain broken at entry {self.first_broken}: its hash does not match its "
                "content and the hash of the entry before it (changed, or entries removed "
                "or inserted before it)"
            )
        if self.head_id is None:
            return "the head row (ciudad_audit_head) is missing"
        if self.head_id != self.last_id:
            return (
                f"the chain head records entry {self.head_id} but the log ends at entry "
                f"{self.last_id}: entries at the end were removed or added around the trigger"
            )
        if self.entries and self.head_hash != self.last_hash:
            return f"entry {self.last_id}'s hash differs from the one the chain head records"
        return None

    def describe(self) -> str:
        if problem := self.problem:
            return problem
        last = self.last_hash.hex() if self.last_hash else "none"
        return f"{self.entries} entries, chain intact (last hash {last})"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    tenant: str | None
    actor: str
    action: str
    target: str
    detail: dict[str, Any]

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "tenant": self.tenant,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "detail": self.detail,
        }


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def check(self) -> None:
        """ConfigurationError if this role may not write the log (see check_audit_table)."""
        async with self._db.connection() as conn:
            await check_audit_table(conn)

    async def record(
        self, tenant: str | None, actor: str, action: str, target: str, **detail: Any
    ) -> None:
        async with self._db.connection() as conn:
            await conn.execute(
                "INSERT INTO ciudad_audit (tenant, actor, action, target, detail) "
                "VALUES (%s, %s, %s, %s, %s)",
                (tenant, actor, action, target, Jsonb(detail)),
            )

    async def entries(self, tenant: str | None, limit: int) -> list[AuditEntry]:
        """Newest first; every tenant's (and platform-wide ones) with None."""
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "SELECT id, at, tenant, actor, action, target, detail FROM ciudad_audit "
                "WHERE %(t)s::text IS NULL OR tenant = %(t)s ORDER BY id DESC LIMIT %(n)s",
                {"t": tenant, "n": limit},
            )
            return [AuditEntry(*row) for row in await cur.fetchall()]

    async def verify(self) -> ChainReport:
        """Walks the hash chain in id order (docs/operations.md: what it detects)."""
        async with self._db.connection() as conn:
            cur = await conn.execute(_VERIFY)
            row = await cur.fetchone()
        assert row is not None  # one row by construction (a left join on one row)
        return ChainReport(*row)
