"""The FastAPI application: built by create_app(settings), store opened in the lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from acquisition import CommandQueue, DeviceRegistry
from interoperability.api_state import ApiState, OpenStores
from interoperability.auth.access import ForbiddenError, UnauthorizedError
from interoperability.auth.gatekeeper import Gatekeeper, door_rules
from interoperability.deps import BadRequestError, InvalidRequestError
from interoperability.devices import commands_routes, firmware_routes
from interoperability.devices import routes as devices_routes
from interoperability.discovery import routes as discovery_routes
from interoperability.entities import purge as entity_purge_routes
from interoperability.entities import query_post as entity_query_routes
from interoperability.entities import read_routes as entities_routes
from interoperability.entities import write_routes as entity_write_routes
from interoperability.jsonld.middleware import JsonLdMiddleware
from interoperability.jsonld.resolver import ContextResolver, ContextUnavailableError
from interoperability.jsonld.terms import platform_context
from interoperability.negotiation import NotAcceptable, known_parameters
from interoperability.ngsild import problem
from interoperability.opendata import routes as opendata_routes
from interoperability.ops import routes as admin_routes
from interoperability.ops.request_metrics import RequestMetrics
from interoperability.store.api_keys import ApiKeyStore
from interoperability.store.api_stats import ApiStats
from interoperability.store.subscriptions import SubscriptionStore
from interoperability.subscriptions import routes as subscription_routes
from interoperability.subscriptions.content import SubscriberTerms
from interoperability.subscriptions.notifier import Notifier, NotifierOptions
from interoperability.subscriptions.transport import NotificationSender
from interoperability.temporal import query_routes as temporal_query_routes
from interoperability.temporal import read_routes as temporal_routes
from interoperability.temporal import write_routes as temporal_write_routes
from interoperability.trailing_slash import TRIMMED, TrailingSlash
from knowledge import KnowledgeStore, open_read_store, open_store
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
from support.store import Database
from support.store.audit import AuditLog
from support.tasks import Work, stop_tasks

log = logging.getLogger(__name__)
StoreOpener = Callable[[Database, Settings], Awaitable[KnowledgeStore]]
# The platform's database, opened for the app's lifetime (ciudad.database builds it: the API
# does not choose which layers' tables it holds).
DatabaseOpener = Callable[[Settings], AbstractAsyncContextManager[Database]]
# Where queries read instead (a standby), or None: the platform database.
ReadDatabaseOpener = Callable[[Settings], AbstractAsyncContextManager[Database | None]]
# Work a service runs beside the API (alert evaluation): started once the store and the
# platform tables are open, cancelled at shutdown.
BackgroundJob = Callable[[ApiState], Coroutine[Any, Any, None]]


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
        kind = "InvalidRequest" if isinstance(exc, InvalidRequestError) else "BadRequestData"
        return respond(400, kind, "Bad request", str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        # no JSON, or JSON of the wrong shape (an array for an entity): the request itself
        no_json = any(
            e["type"] == "json_invalid"
            or (e["type"] in {"missing", "dict_type", "list_type"} and tuple(e["loc"]) == ("body",))
            for e in exc.errors()
        )
        return respond(
            400, "InvalidRequest" if no_json else "BadRequestData", "Bad request", detail
        )

    @app.exception_handler(ContextUnavailableError)
    async def context_unavailable(request: Request, exc: ContextUnavailableError) -> JSONResponse:
        return respond(503, "LdContextNotAvailable", "LD context not available", str(exc))

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

    @app.exception_handler(StarletteHTTPException)
    async def routing(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """No such path (404) or method (405): ProblemDetails like every other error."""
        where = f"{request.method} {request.url.path}"
        if exc.status_code == 404 and "//" in request.url.path:
            answer = respond(400, "BadRequestData", "Bad request", f"{where}: an id is missing")
        elif exc.status_code == 404:
            answer = respond(404, "ResourceNotFound", "Not found", f"{where}: {exc.detail}")
        elif (
            exc.status_code == 405
            and request.scope.get(TRIMMED)
            and (request.url.path == "/ngsi-ld/v1/entities")
        ):
            # PUT or PATCH /entities/: the entity's id is missing
            answer = respond(400, "BadRequestData", "Bad request", f"{where}/: an id is missing")
        elif exc.status_code == 405:
            answer = respond(405, "OperationNotSupported", "Method not allowed", where)
        else:
            answer = respond(exc.status_code, "BadRequestData", str(exc.detail), where)
        for name, value in (exc.headers or {}).items():
            answer.headers[name] = value
        return answer

    @app.exception_handler(StoreUnavailableError)
    async def unavailable(request: Request, exc: StoreUnavailableError) -> JSONResponse:
        return respond(503, "InternalError", "Store unavailable", "the store is unreachable")


async def _open_platform_tables(
    db: Database, store: KnowledgeStore, reader: KnowledgeStore
) -> OpenStores:
    """The owners of the platform's tables, all over the one database."""
    stores = OpenStores(
        store=store,
        registry=DeviceRegistry(db),
        commands=CommandQueue(db),
        api_keys=ApiKeyStore(db),
        audit=AuditLog(db),
        subscriptions=SubscriptionStore(db),
        database=db,
        reader=reader,
    )
    await stores.audit.check()
    return stores


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("background task %s stopped", task.get_name(), exc_info=error)


@asynccontextmanager
async def _background(
    state: ApiState, stores: OpenStores, terms: SubscriberTerms, jobs: Sequence[BackgroundJob]
) -> AsyncIterator[None]:
    """The API's background work, as named tasks of one group, cancelled at shutdown."""
    notifying = _notifier(state, stores, terms)
    db = stores.database
    work: dict[str, Work] = {"api-stats": state.api_stats.flush_forever(db)}
    if notifying is not None:
        state.notifier = notifying[0]  # /health/ready says whether it leads
        work["notifier"] = notifying[0].run(db)
    work |= {f"job:{job.__name__}": job(state) for job in jobs}
    tasks = [asyncio.create_task(coro, name=name) for name, coro in work.items()]
    for task in tasks:
        task.add_done_callback(_report_failure)
    try:
        yield
    finally:
        await stop_tasks(tasks)
    await state.api_stats.flush(db)  # the last seconds' counts too
    if notifying is not None:
        await notifying[1].close()


@asynccontextmanager
async def _no_read_database(settings: Settings) -> AsyncIterator[None]:
    yield None


def _lifespan(
    settings: Settings,
    database: DatabaseOpener,
    read_database: ReadDatabaseOpener,
    opener: StoreOpener,
    terms: SubscriberTerms,
    jobs: Sequence[BackgroundJob],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: ApiState = app.state.api
        try:
            async with database(settings) as db, read_database(settings) as read_db:
                store = await opener(db, settings)
                reader = store if read_db is None else await open_read_store(read_db)
                try:
                    state.stores = await _open_platform_tables(db, store, reader)
                    async with _background(state, state.stores, terms, jobs):
                        yield
                finally:
                    state.stores = None
                    await store.close()
                    if reader is not store:
                        await reader.close()
        finally:
            await terms.close()

    return lifespan


def create_app(
    settings: Settings,
    database: DatabaseOpener,
    routers: Sequence[APIRouter] = (),
    open_store_fn: StoreOpener | None = None,
    metrics: PlatformMetrics | None = None,
    jobs: Sequence[BackgroundJob] = (),
    read_database: ReadDatabaseOpener | None = None,
) -> FastAPI:
    """The API over the knowledge layer, on the database ``database`` opens; ``routers``
    adds the smart services' endpoints and ``jobs`` their background work; entity and
    temporal queries read where ``read_database`` opens, if it opens one."""
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
            database,
            read_database or _no_read_database,
            open_store_fn or open_store,
            terms,
            jobs,
        ),
    )
    state = ApiState(
        settings, metrics or PlatformMetrics(), ApiStats(), outbound, platform, resolver=resolver
    )
    app.state.api = state
    app.add_middleware(JsonLdMiddleware, resolver=resolver, platform=platform)
    # Outside the JSON-LD layer: no context is resolved for a request refused at the door.
    app.add_middleware(Gatekeeper, rules=door_rules(settings))
    app.add_middleware(RequestMetrics, metrics=state.metrics, stats=state.api_stats)
    app.add_middleware(NotAcceptable)
    app.add_middleware(TrailingSlash)  # outermost: every layer sees the route's own path
    _install_error_handlers(app)
    ngsi_ld = (
        entities_routes.router,
        entity_query_routes.router,
        entity_write_routes.router,
        entity_purge_routes.router,
        temporal_routes.router,
        temporal_query_routes.router,
        temporal_write_routes.router,
        discovery_routes.router,
        subscription_routes.router,
    )
    for router in ngsi_ld:
        app.include_router(router, dependencies=[Depends(known_parameters)])
    for router in (
        admin_routes.router,
        devices_routes.router,
        commands_routes.router,
        firmware_routes.router,
        opendata_routes.router,
        *routers,
    ):
        app.include_router(router)
    return app
