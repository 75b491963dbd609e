"""Run an action whenever PostgreSQL NOTIFYs a channel, and at least every few seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import psycopg
from psycopg_pool import PoolTimeout

from acquisition.gateway import Backoff

log = logging.getLogger(__name__)


async def on_notify(
    dsn: str, channel: str, action: Callable[[], Awaitable[object]], every_s: float
) -> None:
    """Calls ``action`` at start, on each NOTIFY of ``channel`` and every ``every_s``.

    A lost database connection is retried with backoff; the action keeps its
    last effect meanwhile (e.g. the last provisioning snapshot).
    """
    backoff = Backoff(base_s=0.5, cap_s=30.0)
    failures = 0
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await conn.execute(f"LISTEN {channel}")
                failures = 0
                while True:
                    await action()
                    async for _ in conn.notifies(timeout=every_s, stop_after=1):
                        pass
        except (psycopg.OperationalError, PoolTimeout) as exc:
            delay = backoff.delay(failures)
            failures += 1
            log.warning(
                "database unreachable; will listen again",
                extra={"channel": channel, "error": str(exc), "retry_in_s": round(delay, 2)},
            )
            await asyncio.sleep(delay)
