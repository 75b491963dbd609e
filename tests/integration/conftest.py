"""Fixtures shared by the integration tests: in-process APIs over a test database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from interoperability import create_app
from interoperability.store.api_keys import ApiKeyStore, Scope
from knowledge import PostgresStore
from services import service_routers
from support import Settings
from support.store import Database
from tests.helpers.api_client import TEST_API_SETTINGS
from tests.helpers.batches import _noise_batch
from tests.helpers.databases import database_at
from tests.helpers.keys import Keys


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=database_url, default_tenant="leon", api_auth="off", **TEST_API_SETTINGS
    )  # type: ignore[arg-type]

    async def open_and_fill(db: Database, s: Settings) -> PostgresStore:
        store = await PostgresStore.open(db)
        await store.write_batch(_noise_batch("leon", "n1", [60.0, 70.0, 60.0, 70.0, 60.0]))
        await store.write_batch(_noise_batch("leon", "n2", [50.0, 50.0]))
        await store.write_batch(_noise_batch("ponferrada", "p1", [80.0]))
        return store

    app = create_app(
        settings, database_at(database_url), service_routers(), open_store_fn=open_and_fill
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            yield http


@pytest.fixture
async def keyed(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Keys]]:
    """An API with api_auth=keys (the default) and a key per scope, made by the store."""
    settings = Settings(database_url=database_url, **TEST_API_SETTINGS)  # type: ignore[arg-type]
    assert settings.api_auth == "keys"

    async def open_and_fill(db: Database, s: Settings) -> PostgresStore:
        store = await PostgresStore.open(db)
        await store.write_batch(_noise_batch("leon", "n1", [60.0, 70.0]))
        await store.write_batch(_noise_batch("ponferrada", "p1", [80.0]))
        return store

    app = create_app(
        settings, database_at(database_url), service_routers(), open_store_fn=open_and_fill
    )
    async with app.router.lifespan_context(app):
        store: ApiKeyStore = app.state.api.open().api_keys
        made = [
            (await store.create(tenant, scope, f"{tenant}-{scope.label}"))[0]
            for tenant, scope in (
                ("leon", Scope.READ),
                ("leon", Scope.WRITE),
                ("leon", Scope.ADMIN),
                ("ponferrada", Scope.ADMIN),
            )
        ]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            yield http, Keys(*made)
