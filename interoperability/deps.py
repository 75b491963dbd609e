"""FastAPI dependencies as typed Annotated aliases."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from knowledge import KnowledgeStore
from support import Settings
from support.errors import CiudadError

_TENANT = re.compile(r"^[a-z0-9_]{1,64}$")


class BadRequestError(CiudadError):
    """A request parameter is malformed (NGSI-LD BadRequestData)."""


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> KnowledgeStore:
    store: KnowledgeStore = request.app.state.store
    return store


def get_tenant(
    settings: Annotated[Settings, Depends(get_settings)],
    ngsild_tenant: Annotated[str | None, Header(alias="NGSILD-Tenant")] = None,
) -> str:
    tenant = ngsild_tenant or settings.default_tenant
    if not _TENANT.match(tenant):
        raise BadRequestError(f"invalid NGSILD-Tenant {tenant!r:.70}")
    return tenant


def wants_ld_json(request: Request) -> bool:
    return "application/ld+json" in request.headers.get("accept", "")


StoreDep = Annotated[KnowledgeStore, Depends(get_store)]
TenantDep = Annotated[str, Depends(get_tenant)]
LdJsonDep = Annotated[bool, Depends(wants_ld_json)]
