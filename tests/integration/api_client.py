"""An API app on a test database, driven in-process over ASGI (no socket needed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from interoperability import create_app
from knowledge import PostgresStore
from services import ServiceTables, service_routers
from support import Settings


@asynccontextmanager
async def open_api(database_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Open API (keys off) with every service, no notifier unless asked for."""
    config = Settings(  # type: ignore[call-arg]
        database_url=database_url, **({"api_auth": "off", "notifier_enabled": False} | settings)
    )
    app = create_app(
        config,
        routers=service_routers(ServiceTables.load(config)),
        open_store_fn=lambda s: PostgresStore.open(database_url, max_size=2),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        yield http
