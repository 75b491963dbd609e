"""API keys: one tenant and one scope each, stored as SHA-256 digests.

A key reads ``ck_<key id>_<secret>``. The id (public, shown in listings and
logs) finds the row; the secret is 256 random bits, so a fast digest is as
strong as a slow one and verification costs microseconds. The clear key is
shown once, when it is created, and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from support import ConfigurationError, NotFoundError
from support.store import Database

TENANT_PATTERN = re.compile(r"^[a-z0-9_]{1,64}$")
_PREFIX = "ck_"
# Revocation reaches other API processes within this many seconds.
CACHE_TTL_S = 10.0


class Scope(IntEnum):
    """Each scope includes the ones below it."""

    READ = 1
    WRITE = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, label: str) -> Scope:
        try:
            return cls[label.upper()]
        except KeyError:
            raise ValueError(f"scope must be read, write or admin, not {label!r:.20}") from None


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key's public facts (never its secret)."""

    key_id: str
    tenant: str
    scope: Scope
    name: str
    created_at: datetime
    revoked_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.key_id,
            "tenant": self.tenant,
            "scope": self.scope.label,
            "name": self.name,
            "createdAt": self.created_at.isoformat(),
            "revokedAt": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def new_key() -> tuple[str, str, str]:
    """(clear key, key id, secret digest) for a fresh key."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{_PREFIX}{key_id}_{secret}", key_id, digest(secret)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(clear: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    if not clear.startswith(_PREFIX):
        return None
    key_id, sep, secret = clear[len(_PREFIX) :].partition("_")
    if not sep or len(key_id) != 12 or not secret:
        return None
    return key_id, secret


_COLUMNS = "key_id, tenant, scope, name, created_at, revoked_at"


def _key(row: tuple[Any, ...]) -> ApiKey:
    key_id, tenant, scope, name, created_at, revoked_at = row
    return ApiKey(key_id, tenant, Scope.parse(scope), name, created_at, revoked_at)


class ApiKeyStore:
    """The ciudad_api_keys table, with a short-lived cache of verified keys."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._verified: dict[str, tuple[float, ApiKey]] = {}

    async def create(self, tenant: str, scope: Scope, name: str) -> tuple[str, ApiKey]:
        """The clear key (to show once) and its record."""
        if not TENANT_PATTERN.match(tenant):
            raise ConfigurationError(f"invalid tenant {tenant!r:.70}: use a-z, 0-9 and _")
        clear, key_id, secret_hash = new_key()
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO ciudad_api_keys (key_id, tenant, scope, name, secret_hash) "
                f"VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
                (key_id, tenant, scope.label, name, secret_hash),
            )
            row = await cur.fetchone()
        assert row is not None
        return clear, _key(row)

    async def list(self, tenant: str | None) -> list[ApiKey]:
        """A tenant's keys (every tenant's with None), revoked ones included."""
        async with self._db.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM ciudad_api_keys "
                "WHERE %(tenant)s::text IS NULL OR tenant = %(tenant)s ORDER BY created_at, key_id",
                {"tenant": tenant},
            )
            return [_key(row) for row in await cur.fetchall()]

    async def revoke(self, tenant: str | None, key_id: str) -> None:
        """Revokes a key of ``tenant`` (of any tenant with None); NotFoundError otherwise."""
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "UPDATE ciudad_api_keys SET revoked_at = coalesce(revoked_at, now()) "
                "WHERE key_id = %(id)s AND (%(tenant)s::text IS NULL OR tenant = %(tenant)s)",
                {"id": key_id, "tenant": tenant},
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no API key {key_id!r:.40}")
        self._verified = {k: v for k, v in self._verified.items() if v[1].key_id != key_id}

    async def verify(self, clear: str) -> ApiKey | None:
        """The live key ``clear`` stands for, or None (malformed, unknown, wrong or revoked)."""
        cache_key = digest(clear)
        cached = self._verified.get(cache_key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        parts = split_key(clear)
        if parts is None:
            return None
        key_id, secret = parts
        async with self._db.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS}, secret_hash FROM ciudad_api_keys "
                "WHERE key_id = %s AND revoked_at IS NULL",
                (key_id,),
            )
            row = await cur.fetchone()
        if row is None or not hmac.compare_digest(row[-1], digest(secret)):
            return None
        key = _key(row[:-1])
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[cache_key] = (time.monotonic() + CACHE_TTL_S, key)
        return key
