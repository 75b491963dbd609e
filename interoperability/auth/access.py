"""Who may do what: the tenant of a request and the scope its API key grants.

With ``api_auth=keys`` every request names a key (``Authorization: Bearer
<key>`` or ``X-Api-Key: <key>``). The key's tenant is the request's tenant:
an ``NGSILD-Tenant`` header naming another tenant is refused, so data never
cross tenants. Reads need the read scope, changes the write scope, device
provisioning, keys and dead letters the admin scope. With ``api_auth=off``
(loopback only) the header alone picks the tenant.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from interoperability.api_state import api_state
from interoperability.deps import BadRequestError, get_settings
from interoperability.store.api_keys import TENANT_PATTERN, ApiKey, ApiKeyStore, Scope
from support import Settings
from support.errors import CiudadError
from support.store.audit import AuditLog

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NO_KEY = (
    "this request needs an API key (Authorization: Bearer <key> or X-Api-Key); "
    "an admin creates one with `ciudad apikey create`"
)
BAD_KEY = "the API key is unknown or revoked"


class UnauthorizedError(CiudadError):
    """No API key, or one that is malformed, unknown or revoked (401)."""


class ForbiddenError(CiudadError):
    """A valid key without the scope or tenant the request needs (403)."""


def get_api_keys(request: Request) -> ApiKeyStore:
    keys: ApiKeyStore = api_state(request).open().api_keys
    return keys


# Declared as security schemes so the OpenAPI document and /docs know about keys.
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
_x_api_key = APIKeyHeader(name="X-Api-Key", auto_error=False, description="The API key")


async def _presented_key(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_api_key: Annotated[str | None, Depends(_x_api_key)],
) -> str | None:
    return x_api_key or (bearer.credentials if bearer else None)


PresentedKey = Annotated[str | None, Depends(_presented_key)]


async def authorise(
    presented: str | None,
    settings: Settings,
    keys: ApiKeyStore,
    header_tenant: str | None,
    needed: Scope,
) -> tuple[str, ApiKey | None]:
    """(tenant, key) of an allowed request; UnauthorizedError or ForbiddenError otherwise."""
    if header_tenant is not None and not TENANT_PATTERN.match(header_tenant):
        raise BadRequestError(f"invalid NGSILD-Tenant {header_tenant!r:.70}")
    if settings.api_auth == "off":
        return header_tenant or settings.default_tenant, None
    if presented is None:
        raise UnauthorizedError(NO_KEY)
    key = await keys.verify(presented)
    if key is None:
        raise UnauthorizedError(BAD_KEY)
    if header_tenant is not None and header_tenant != key.tenant:
        raise ForbiddenError(f"the API key belongs to another tenant than {header_tenant!r}")
    if key.scope < needed:
        raise ForbiddenError(f"this request needs the {needed.label} scope")
    return key.tenant, key


async def _tenant_for_method(
    request: Request,
    presented: PresentedKey,
    settings: Annotated[Settings, Depends(get_settings)],
    keys: Annotated[ApiKeyStore, Depends(get_api_keys)],
    ngsild_tenant: Annotated[str | None, Header(alias="NGSILD-Tenant")] = None,
) -> str:
    needed = Scope.READ if request.method in _READ_METHODS else Scope.WRITE
    tenant, key = await authorise(presented, settings, keys, ngsild_tenant, needed)
    _remember(request, tenant, key)
    return tenant


async def _admin_access(
    request: Request,
    presented: PresentedKey,
    settings: Annotated[Settings, Depends(get_settings)],
    keys: Annotated[ApiKeyStore, Depends(get_api_keys)],
    ngsild_tenant: Annotated[str | None, Header(alias="NGSILD-Tenant")] = None,
) -> tuple[str, ApiKey | None]:
    access = await authorise(presented, settings, keys, ngsild_tenant, Scope.ADMIN)
    _remember(request, *access)
    return access


def _remember(request: Request, tenant: str, key: ApiKey | None) -> None:
    """For the per-tenant request metrics and the audit log."""
    request.state.tenant = tenant
    request.state.actor = f"key:{key.key_id}" if key else "open-api"
    request.state.scope = key.scope if key else Scope.ADMIN


class RequestAudit:
    """Records administrative actions of one request in the audit log."""

    def __init__(self, log: AuditLog, request: Request) -> None:
        self._log = log
        self._request = request

    async def __call__(self, tenant: str, action: str, target: str, **detail: Any) -> None:
        actor = getattr(self._request.state, "actor", "open-api")
        await self._log.record(tenant, actor, action, target, **detail)


def may_write(request: Request) -> bool:
    """Whether the request's key (checked by a tenant dependency first) has write scope."""
    return getattr(request.state, "scope", Scope.READ) >= Scope.WRITE


def get_audit(request: Request) -> RequestAudit:
    return RequestAudit(api_state(request).open().audit, request)


async def _admin_tenant(
    access: Annotated[tuple[str, ApiKey | None], Depends(_admin_access)],
) -> str:
    return access[0]


TenantDep = Annotated[str, Depends(_tenant_for_method)]
AdminTenantDep = Annotated[str, Depends(_admin_tenant)]
AdminAccessDep = Annotated[tuple[str, ApiKey | None], Depends(_admin_access)]
ApiKeysDep = Annotated[ApiKeyStore, Depends(get_api_keys)]
AuditDep = Annotated[RequestAudit, Depends(get_audit)]
