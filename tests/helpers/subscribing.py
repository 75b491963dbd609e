"""The API with its notifier on a real PostgreSQL, and subscriptions made through it, for
the tests of what notifies and how."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from ciudad.database import open_store_at
from interoperability import create_app
from knowledge import PostgresStore
from support import Settings
from tests.helpers.api_client import TEST_API_SETTINGS
from tests.helpers.databases import database_at

NOISE = "NoiseLevelObserved"
LEON = {"NGSILD-Tenant": "leon"}


AppExtras = Callable[[Settings], dict[str, Any]]


@asynccontextmanager
async def platform(
    database_url: str, extras: AppExtras | None = None, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, PostgresStore]]:
    """The API (open, on loopback) with its notifier, and a store to write with;
    ``extras`` adds what ``create_app`` takes besides (routers, jobs) from the settings."""
    config = Settings(
        database_url=database_url,
        api_auth="off",  # type: ignore[arg-type]
        notification_max_backoff_s=1,
        **(TEST_API_SETTINGS | settings),
    )
    writer = await open_store_at(database_url, max_size=4)
    more = extras(config) if extras else {}
    app = create_app(config, database=database_at(database_url), **more)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://localhost"
            ) as http,
        ):
            yield http, writer
    finally:
        await writer.close()


async def subscribe(http: httpx.AsyncClient, uri: str, **members: Any) -> str:
    body = {
        "type": "Subscription",
        "entities": [{"type": NOISE}],
        "notification": {"endpoint": {"uri": uri}},
    } | members
    created = await http.post("/ngsi-ld/v1/subscriptions", json=body, headers=LEON)
    assert created.status_code == 201, created.text
    return str(created.headers["location"]).rsplit("/", 1)[1]
