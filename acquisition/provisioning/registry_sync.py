"""Keeps a running gateway's provisioning in step with the registry (LISTEN/NOTIFY)."""

from __future__ import annotations

import logging

from acquisition.normalise.pipeline import MeasurePipeline
from acquisition.store.listen import on_notify
from acquisition.store.registry import CHANNEL, DeviceRegistry
from support.store import Database

log = logging.getLogger(__name__)


async def reload_provisioning(registry: DeviceRegistry, pipeline: MeasurePipeline) -> int:
    provisioning = await registry.provisioning()
    pipeline.use_provisioning(provisioning)
    log.info("provisioning reloaded", extra={"devices": len(provisioning)})
    return len(provisioning)


async def follow_registry(
    registry: DeviceRegistry, pipeline: MeasurePipeline, db: Database, every_s: float = 60.0
) -> None:
    """Reloads at once on ``NOTIFY ciudad_registry``, and every ``every_s`` regardless."""
    await on_notify(db, CHANNEL, lambda: reload_provisioning(registry, pipeline), every_s)
