"""Requests and server errors per tenant and minute, kept for the availability objective.

Counted in memory by the request middleware and added to ``ciudad_api_stats``
every few seconds (and at shutdown); several API processes add to the same
rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import UTC, datetime

from support.store import Database

log = logging.getLogger(__name__)


class ApiStats:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, datetime], list[int]] = defaultdict(lambda: [0, 0])

    def count(self, tenant: str, status: int, at: datetime | None = None) -> None:
        minute = (at or datetime.now(UTC)).replace(second=0, microsecond=0)
        counts = self._counts[(tenant, minute)]
        counts[0] += 1
        counts[1] += status >= 500

    def take(self) -> list[tuple[str, datetime, int, int]]:
        taken, self._counts = self._counts, defaultdict(lambda: [0, 0])
        return [(tenant, minute, c[0], c[1]) for (tenant, minute), c in taken.items()]

    async def flush(self, db: Database) -> None:
        rows = self.take()
        if not rows:
            return
        async with db.connection() as conn:
            for row in rows:
                await conn.execute(
                    "INSERT INTO ciudad_api_stats AS s (tenant, minute, requests, errors) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (tenant, minute) DO UPDATE SET "
                    "requests = s.requests + excluded.requests, "
                    "errors = s.errors + excluded.errors",
                    row,
                )

    async def flush_forever(self, db: Database, every_s: float = 5.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.flush(db)
            except Exception:
                log.warning("API request counts not saved", exc_info=True)


async def api_counts(
    db: Database,
    tenant: str,
    start: datetime,
    end: datetime,
) -> tuple[int, int]:
    """(requests, server errors) of a tenant between two instants."""
    async with db.connection() as conn:
        cur = await conn.execute(
            "SELECT coalesce(sum(requests), 0), coalesce(sum(errors), 0) FROM ciudad_api_stats "
            "WHERE tenant = %s AND minute >= %s AND minute < %s",
            (tenant, start, end),
        )
        row = await cur.fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)
