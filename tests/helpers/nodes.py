"""MicroPython nodes' site files and what they stored."""

from __future__ import annotations

from typing import Any

from knowledge import PostgresStore
from tests.helpers.fleet import APIKEY, TENANT


def site(kind: str, port: int, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "device_id": f"{kind}-001",
        "apikey": APIKEY,
        "broker_host": "127.0.0.1",
        "broker_port": port,
        "interval_s": 1,
        "device_info_s": 600,
        **extra,
    }


async def latest(store: PostgresStore, entity_id: str) -> dict[str, Any]:
    state = await store.get_entity(TENANT, entity_id)
    return {a.name: a.value for a in state.attributes}
