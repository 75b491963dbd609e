"""The FastAPI application: built by create_app(settings), store opened in the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from acquisition import CommandQueue, DeviceRegistry, open_device_registry
from interoperability.api_state import ApiState, OpenStores
from interoperability.auth.access import ForbiddenError, UnauthorizedError
from interoperability.auth.gatekeeper import Gatekeeper, door_rules
from interoperability.deps import BadRequestError
from interoperability.devices import commands_routes
from interoperability.devices import routes as devices_routes
from interoperability.entities import read_routes as entities_routes
from interoperability.entities import write_routes as entity_write_routes
from interoperability.jsonld.middleware import JsonLdMiddleware
from interoperability.jsonld.resolver import ContextResolver
from interoperability.jsonld.terms import platform_context
from interoperability.ngsild import problem
from interoperability.opendata import routes as opendata_routes
from interoperability.ops import routes as admin_routes
from interoperability.ops.request_metrics import RequestMetrics
from interoperability.store.api_keys import ApiKeyStore
from interoperability.store.api_stats import API_STATS_DDL, ApiStats
from interoperability.store.subscriptions import SubscriptionStore
from interoperability.subscriptions import routes as subscription_routes
from interoperability.subscriptions.content import SubscriberTerms
from interoperability.subscriptions.notifier import Notifier, NotifierOptions
from interoperability.subscriptions.transport import NotificationSender
from interoperability.temporal import read_routes as temporal_routes
from interoperability.temporal import write_routes as temporal_write_routes
from knowledge import KnowledgeStore, PostgresStore, open_store, resolve_dsn
from support import (
    AlreadyExistsError,
    ConfigurationError,
    InvalidQueryError,
    NotFoundError,
    Settings,
    StoreUnavailableError,
)
from support.metrics import PlatformMetrics
from support.outbound import OutboundPolicy
from support.store.audit import AuditLog
from support.store.pg import ensure_schema

StoreOpener = Callable[[Settings], Awaitable[KnowledgeStore]]
# Work a service runs beside the API (alert evaluation): started once the store and the
# platform tables are open, cancelled at shutdown.
BackgroundJob = Callable[[ApiState], Coroutine[Any, Any, None]]
RegistryOpener = Callable[[Settings], AbstractAsyncContextManager[DeviceRegistry]]


async def _open_postgres(settings: Settings) -> PostgresStore:
    return await open_store(settings)


@asynccontextmanager
async def _open_registry(settings: Settings) -> AsyncIterator[DeviceRegistry]:
    async with open_device_registry(await resolve_dsn(settings)) as registry:
        yield registry


def _notifier(
    state: ApiState, stores: OpenStores, contexts: SubscriberTerms
) -> tuple[Notifier, NotificationSender] | None:
    settings = state.settings
    if not settings.notifier_enabled:
        return None
    sender = NotificationSender(settings.notification_timeout_s, state.outbound)
    options = NotifierOptions(
        timeout_s=settings.notification_timeout_s,
        max_backoff_s=settings.notification_max_backoff_s,
        max_pending=settings.notification_max_pending,
    )
    notifier = Notifier(
        stores.subscriptions, stores.store, sender, options, contexts, state.metrics
    )
    return notifier, sender


def _install_error_handlers(app: FastAPI) -> None:
    def respond(status: int, error_type: str, title: str, detail: str) -> JSONResponse:
        return JSONResponse(dict(problem(error_type, title, detail)), status_code=status)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return respond(404, "ResourceNotFound", "Resource not found", str(exc))

    @app.exception_handler(AlreadyExistsError)
    async def already_exists(request: Request, exc: AlreadyExistsError) -> JSONResponse:
        return respond(409, "AlreadyExists", "Already exists", str(exc))

    @app.exception_handler(InvalidQueryError)
    async def invalid_query(request: Request, exc: InvalidQueryError) -> JSONResponse:
        return respond(400, "BadRequestData", "Bad request", str(exc))

    @app.exception_handler(BadRequestError)
    async def bad_request(request: Request, exc: BadRequestError) -> JSONResponse:
        return respond(400, "BadRequestData", "Bad request", str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return respond(400, "BadRequestData", "Bad request", detail)

    @app.exception_handler(ConfigurationError)
    async def invalid_configuration(request: Request, exc: ConfigurationError) -> JSONResponse:
        return respond(400, "BadRequestData", "Bad request", str(exc))

    @app.exception_handler(UnauthorizedError)
    async def unauthorized(request: Request, exc: UnauthorizedError) -> JSONResponse:
        answer = respond(401, "Unauthorized", "Unauthorized", str(exc))
        answer.headers["WWW-Authenticate"] = 'Bearer realm="ciudad"'
        return answer

    @app.exception_handler(ForbiddenError)
    async def forbidden(request: Request, exc: ForbiddenError) -> JSONResponse:
        return respond(403, "Forbidden", "Forbidden", str(exc))

    @app.exception_handler(StoreUnavailableError)
    async def unavailable(request: Request, exc: StoreUnavailableError) -> JSONResponse:
        return respond(503, "InternalError", "Store unavailable", "the store is unreachable")


async def _open_platform_tables(store: KnowledgeStore, registry: DeviceRegistry) -> OpenStores:
    """The API's own tables, in the registry's database, and the objects over them."""
    pool = registry.pool
    stores = OpenStores(
        store=store,
        registry=registry,
        commands=CommandQueue(pool),
        api_keys=ApiKeyStore(pool),
        audit=AuditLog(pool),
        subscriptions=SubscriptionStore(pool),
    )
    for owner in (stores.commands, stores.api_keys, stores.audit, stores.subscriptions):
        await owner.create_schema()
    await ensure_schema(pool, API_STATS_DDL)
    return stores


@asynccontextmanager
async def _background(
    state: ApiState, stores: OpenStores, terms: SubscriberTerms, jobs: Sequence[BackgroundJob]
) -> AsyncIterator[None]:
    """The API's background work, as named tasks of one group, cancelled at shutdown."""
    notifying = _notifier(state, stores, terms)
    pool = stores.registry.pool
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(state.api_stats.flush_forever(pool), name="api-stats")]
        if notifying is not None:
            state.notifier = notifying[0]  # /health/ready says whether it leads
            dsn = await resolve_dsn(state.settings)
            tasks.append(group.create_task(notifying[0].run(dsn), name="notifier"))
        tasks += [group.create_task(job(state), name=f"job:{job.__name__}") for job in jobs]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
    await state.api_stats.flush(pool)  # the last seconds' counts too
    if notifying is not None:
        await notifying[1].close()


def _lifespan(
    settings: Settings,
    opener: StoreOpener,
    registry_opener: RegistryOpener,
    terms: SubscriberTerms,
    jobs: Sequence[BackgroundJob],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: ApiState = app.state.api
        store = await opener(settings)
        try:
            async with registry_opener(settings) as registry:
                state.stores = await _open_platform_tables(store, registry)
                async with _background(state, state.stores, terms, jobs):
                    yield
        finally:
            state.stores = None
            await store.close()
            await terms.close()

    return lifespan


def create_app(
    settings: Settings,
    routers: Sequence[APIRouter] = (),
    open_store_fn: StoreOpener | None = None,
    open_registry_fn: RegistryOpener | None = None,
    metrics: PlatformMetrics | None = None,
    jobs: Sequence[BackgroundJob] = (),
) -> FastAPI:
    """The API over the knowledge layer; ``routers`` adds the smart services' endpoints and
    ``jobs`` their background work."""
    outbound = OutboundPolicy.parse(settings.outbound_allow)
    resolver = ContextResolver(outbound, settings.jsonld_context_timeout_s)
    platform = platform_context()
    terms = SubscriberTerms(resolver, platform)
    app = FastAPI(
        title="ciudad interoperability API",
        version="0.1.0",
        description="NGSI-LD style access to a city's sensor entities and their history.",
        lifespan=_lifespan(
            settings,
            open_store_fn or _open_postgres,
            open_registry_fn or _open_registry,
            terms,
            jobs,
        ),
    )
    state = ApiState(settings, metrics or PlatformMetrics(), ApiStats(), outbound)
    app.state.api = state
    app.add_middleware(JsonLdMiddleware, resolver=resolver, platform=platform)
    # Outside the JSON-LD layer: no context is resolved for a request refused at the door.
    app.add_middleware(Gatekeeper, rules=door_rules(settings))
    app.add_middleware(RequestMetrics, metrics=state.metrics, stats=state.api_stats)
    _install_error_handlers(app)
    for router in (
        entities_routes.router,
        entity_write_routes.router,
        temporal_routes.router,
        temporal_write_routes.router,
        admin_routes.router,
        devices_routes.router,
        commands_routes.router,
        opendata_routes.router,
        subscription_routes.router,
        *routers,
    ):
        app.include_router(router)
    return app
