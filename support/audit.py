"""The audit log: administrative actions, append-only (a trigger refuses changes).

Who did what to which tenant's what: device provisioning and revocation, API
keys, subscriptions, from the API (actor ``key:<id>``, or ``open-api`` when
keys are off) and from the command line (``cli:<user>``).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from support.pg import ensure_schema

AUDIT_DDL = """
CREATE TABLE IF NOT EXISTS ciudad_audit (
    id     bigserial   PRIMARY KEY,
    at     timestamptz NOT NULL DEFAULT now(),
    tenant text,
    actor  text        NOT NULL,
    action text        NOT NULL,
    target text        NOT NULL,
    detail jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS ciudad_audit_tenant ON ciudad_audit (tenant, id);
CREATE OR REPLACE FUNCTION ciudad_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ciudad_audit is append-only';
END $$;
DROP TRIGGER IF EXISTS ciudad_audit_no_change ON ciudad_audit;
CREATE TRIGGER ciudad_audit_no_change BEFORE UPDATE OR DELETE ON ciudad_audit
    FOR EACH ROW EXECUTE FUNCTION ciudad_audit_append_only();
DROP TRIGGER IF EXISTS ciudad_audit_no_truncate ON ciudad_audit;
CREATE TRIGGER ciudad_audit_no_truncate BEFORE TRUNCATE ON ciudad_audit
    FOR EACH STATEMENT EXECUTE FUNCTION ciudad_audit_append_only();
"""


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
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        self._pool = pool

    async def create_schema(self) -> None:
        await ensure_schema(self._pool, AUDIT_DDL)

    async def record(
        self, tenant: str | None, actor: str, action: str, target: str, **detail: Any
    ) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO ciudad_audit (tenant, actor, action, target, detail) "
                "VALUES (%s, %s, %s, %s, %s)",
                (tenant, actor, action, target, Jsonb(detail)),
            )

    async def entries(self, tenant: str | None, limit: int) -> list[AuditEntry]:
        """Newest first; every tenant's (and platform-wide ones) with None."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id, at, tenant, actor, action, target, detail FROM ciudad_audit "
                "WHERE %(t)s::text IS NULL OR tenant = %(t)s ORDER BY id DESC LIMIT %(n)s",
                {"t": tenant, "n": limit},
            )
            return [AuditEntry(*row) for row in await cur.fetchall()]
