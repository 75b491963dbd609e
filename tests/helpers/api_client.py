"""An API app on a test database, driven in-process over ASGI (no socket needed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from ciudad.database import platform_read_database
from interoperability import create_app
from services import ServiceTables, service_routers
from support import Settings
from tests.helpers.databases import database_at

# Tests write readings of fixed dates (e.g. 2026-11-21): allow any age, keep every day;
# their notification receivers and context servers listen on loopback.
TEST_API_SETTINGS = {
    "max_past_age_s": 100 * 365 * 86400.0,
    "retention_raw_days": 0,
    "outbound_allow": "127.0.0.0/8,::1,localhost",
}


@asynccontextmanager
async def open_api(database_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Open API (keys off) with every service, no notifier unless asked for. Readings of
    fixed past dates are accepted (no age limit, no retention), so no test expires."""
    defaults = {"api_auth": "off", "notifier_enabled": False} | TEST_API_SETTINGS
    config = Settings(database_url=database_url, **(defaults | settings))  # type: ignore[call-arg]
    app = create_app(
        config,
        routers=service_routers(ServiceTables.load(config)),
        database=database_at(database_url),
        # CIUDAD_DATABASE_READ_URL given: queries read there, as under `ciudad api`
        read_database=platform_read_database if config.database_read_url else None,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as http,
    ):
        yield http
