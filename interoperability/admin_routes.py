"""Platform endpoints outside NGSI-LD: health and the dead-letter store."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from interoperability.deps import StoreDep
from support import StoreUnavailableError
from support.times import iso_utc

router = APIRouter(tags=["platform"])


@router.get("/health", summary="Liveness and store reachability")
async def health(store: StoreDep) -> JSONResponse:
    try:
        await store.ping()
    except StoreUnavailableError as exc:
        return JSONResponse({"status": "degraded", "store": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok", "store": "ok"})


@router.get("/ciudad/v1/dead-letters", summary="Refused device input, newest first")
async def list_dead_letters(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ngsild_tenant: Annotated[str | None, Header(alias="NGSILD-Tenant")] = None,
) -> list[dict[str, Any]]:
    """With an NGSILD-Tenant header, that tenant's letters; without, all of them."""
    letters = await store.dead_letters(ngsild_tenant, limit)
    return [asdict(d) | {"received_at": iso_utc(d.received_at)} for d in letters]
