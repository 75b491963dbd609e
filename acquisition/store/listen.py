"""Run an action whenever PostgreSQL NOTIFYs a channel, and at least every few seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from acquisition.gateway.loop import Backoff
from support import StoreUnavailableError
from support.store import Database

log = logging.getLogger(__name__)


async def on_notify(
    db: Database, channel: str, action: Callable[[], Awaitable[object]], every_s: float
) -> None:
    """Calls ``action`` at start, on each NOTIFY of ``channel`` and every ``every_s``.

    A lost database connection is retried with backoff; the action keeps its
    last effect meanwhile (e.g. the last provisioning snapshot).
    """
    backoff = Backoff(base_s=0.5, cap_s=30.0)
    failures = 0
    while True:
        try:
            async with db.session() as conn:
                await conn.execute(f"LISTEN {channel}")
                failures = 0
                while True:
                    await action()
                    async for _ in conn.notifies(timeout=every_s, stop_after=1):
                        pass
        except StoreUnavailableError as exc:
            delay = backoff.delay(failures)
            failures += 1
            log.warning(
                "database unreachable; will listen again",
                extra={"channel": channel, "error": str(exc), "retry_in_s": round(delay, 2)},
            )
            await asyncio.sleep(delay)
