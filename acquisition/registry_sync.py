"""Keeps a running gateway's provisioning in step with the registry (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import logging

import psycopg
from psycopg_pool import PoolTimeout

from acquisition.gateway import Backoff
from acquisition.pipeline import MeasurePipeline
from acquisition.registry import CHANNEL, DeviceRegistry

log = logging.getLogger(__name__)


async def reload_provisioning(registry: DeviceRegistry, pipeline: MeasurePipeline) -> int:
    provisioning = await registry.provisioning()
    pipeline.use_provisioning(provisioning)
    log.info("provisioning reloaded", extra={"devices": len(provisioning)})
    return len(provisioning)


async def follow_registry(
    registry: DeviceRegistry, pipeline: MeasurePipeline, dsn: str, every_s: float = 60.0
) -> None:
    """Reloads at once on ``NOTIFY ciudad_registry``, and every ``every_s`` regardless."""
    backoff = Backoff(base_s=0.5, cap_s=30.0)
    failures = 0
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                failures = 0
                while True:
                    await reload_provisioning(registry, pipeline)
                    async for _ in conn.notifies(timeout=every_s, stop_after=1):
                        pass
        except (psycopg.OperationalError, PoolTimeout) as exc:
            delay = backoff.delay(failures)
            failures += 1
            log.warning(
                "registry unreachable; keeping the last provisioning",
                extra={"error": str(exc), "retry_in_s": round(delay, 2)},
            )
            await asyncio.sleep(delay)
