"""Platform endpoints outside NGSI-LD: health, the dead-letter store, API keys."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from interoperability.api_state import api_state
from interoperability.auth.access import AdminAccessDep, AdminTenantDep, ApiKeysDep, AuditDep
from interoperability.deps import StoreDep
from interoperability.store.api_keys import Scope
from support import StoreUnavailableError
from support.metrics import CONTENT_TYPE, PlatformMetrics
from support.store.audit import AuditLog
from support.times import iso_utc

router = APIRouter(tags=["platform"])
log = logging.getLogger(__name__)


async def _store_check(store: StoreDep) -> dict[str, Any]:
    try:
        await store.ping()
    except StoreUnavailableError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True}


@router.get("/health", summary="Readiness (kept for older probes): the store answers")
async def health(store: StoreDep) -> JSONResponse:
    check = await _store_check(store)
    if not check["ok"]:
        return JSONResponse({"status": "degraded", "store": check["error"]}, status_code=503)
    return JSONResponse({"status": "ok", "store": "ok"})


@router.get("/health/live", summary="Liveness: the process answers")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready", summary="Readiness: the store and the registry answer")
async def ready(request: Request, store: StoreDep) -> JSONResponse:
    checks = {"store": await _store_check(store), "registry": {"ok": True}}
    try:
        await api_state(request).open().database.ping()
    except Exception as exc:
        checks["registry"] = {"ok": False, "error": type(exc).__name__}
    ok = all(c["ok"] for c in checks.values())
    notifier = api_state(request).notifier
    body = {
        "status": "ok" if ok else "not ready",
        "checks": checks,
        # one API process per database leads the notifications; the others stand by
        "notifier": "off" if notifier is None else "leading" if notifier.leading else "standby",
    }
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics of this API process")
async def metrics(request: Request) -> Response:
    platform: PlatformMetrics = api_state(request).metrics
    try:
        queued = await api_state(request).open().subscriptions.queued_notifications()
        platform.notification_queue.set(queued)
    except Exception:
        log.warning("notification queue depth unavailable")
    return Response(platform.exposition(), media_type=CONTENT_TYPE)


@router.get("/ciudad/v1/dead-letters", summary="Refused device input, newest first")
async def list_dead_letters(
    store: StoreDep,
    access: AdminAccessDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ngsild_tenant: Annotated[str | None, Header(alias="NGSILD-Tenant")] = None,
) -> list[dict[str, Any]]:
    """The tenant's letters. Open API (api_auth=off) without NGSILD-Tenant: every tenant's,
    and those of unknown devices."""
    tenant, key = access
    everyone = key is None and ngsild_tenant is None
    letters = await store.dead_letters(None if everyone else tenant, limit)
    return [asdict(d) | {"received_at": iso_utc(d.received_at)} for d in letters]


class NewApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope: str = Field(pattern="^(read|write|admin)$", description="read, write or admin")
    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")


@router.post("/ciudad/v1/apikeys", status_code=201, summary="Create an API key for the tenant")
async def create_api_key(
    body: NewApiKey, keys: ApiKeysDep, tenant: AdminTenantDep, audit: AuditDep
) -> dict[str, Any]:
    """The clear key is in this answer only: it is stored as a digest."""
    clear, key = await keys.create(tenant, Scope.parse(body.scope), body.name)
    await audit(tenant, "apikey.create", key.key_id, scope=body.scope, name=body.name)
    return key.public() | {"key": clear}


@router.get("/ciudad/v1/apikeys", summary="The tenant's API keys (never their secrets)")
async def list_api_keys(keys: ApiKeysDep, tenant: AdminTenantDep) -> list[dict[str, Any]]:
    return [key.public() for key in await keys.list(tenant)]


@router.delete("/ciudad/v1/apikeys/{key_id}", status_code=204, summary="Revoke an API key")
async def revoke_api_key(
    key_id: str, keys: ApiKeysDep, tenant: AdminTenantDep, audit: AuditDep
) -> None:
    await keys.revoke(tenant, key_id)
    await audit(tenant, "apikey.revoke", key_id)


@router.get("/ciudad/v1/audit", summary="The tenant's administrative actions, newest first")
async def audit_log(
    request: Request,
    tenant: AdminTenantDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    log_: AuditLog = api_state(request).open().audit
    return [entry.public() for entry in await log_.entries(tenant, limit)]
