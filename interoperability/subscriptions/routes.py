"""/ngsi-ld/v1/subscriptions: create, list, retrieve, update (merge) and delete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import ValidationError

from interoperability.api_state import api_state
from interoperability.auth.access import AuditDep, TenantDep, may_write
from interoperability.deps import (
    URI_PATTERN,
    BadRequestError,
    LdJsonDep,
    ngsi_response,
    page_links,
)
from interoperability.jsonld.terms import ContextError
from interoperability.ngsild import CORE_CONTEXT
from interoperability.store.subscriptions import StoredSubscription, SubscriptionStore
from interoperability.subscriptions.model import (
    DEFAULT_TRIGGERS,
    SubscriptionBody,
    load_subscription,
    merge_patch,
    new_subscription,
    redacted_uri,
)
from support.outbound import OutboundPolicy, OutboundRefusedError, UnresolvedHostError
from support.times import iso_utc

router = APIRouter(prefix="/ngsi-ld/v1/subscriptions", tags=["subscriptions"])


def get_subscriptions(request: Request) -> SubscriptionStore:
    store: SubscriptionStore = api_state(request).open().subscriptions
    return store


SubscriptionsDep = Annotated[SubscriptionStore, Depends(get_subscriptions)]
SubscriptionIdPath = Annotated[str, Path(pattern=URI_PATTERN, description="Subscription id")]
# How long reading a subscription waits for the outcome of a delivery under way
SETTLE_WAIT_S = 1.0


def _iso(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment else None


def render_subscription(
    stored: StoredSubscription, now: datetime, secrets: bool = True, sys_attrs: bool = False
) -> dict[str, Any]:
    """The body plus what the platform knows of its deliveries; without ``secrets`` (a
    read-only key) the URI's password and receiverInfo values, often the endpoint's
    credentials, are masked;
    ``sys_attrs`` adds createdAt and modifiedAt (``options=sysAttrs``)."""
    sub, status = stored.subscription, stored.status
    doc = sub.body.model_dump(mode="json", by_alias=True, exclude_none=True)
    if sub.body.isActive:
        doc.pop("isActive", None)  # the default (status says "active"); false is shown
    doc.pop("@context", None)
    for seconds in ("timeInterval", "throttling"):  # 5 was written, 5 is read back (not 5.0)
        if isinstance(doc.get(seconds), float) and doc[seconds].is_integer():
            doc[seconds] = int(doc[seconds])
    endpoint = doc["notification"]["endpoint"]
    if not secrets:
        endpoint["uri"] = redacted_uri(endpoint["uri"])
    if not secrets and "receiverInfo" in endpoint:
        endpoint["receiverInfo"] = [{**i, "value": "********"} for i in endpoint["receiverInfo"]]
    expired = sub.body.expiresAt is not None and sub.body.expiresAt <= now
    doc["status"] = "expired" if expired else ("active" if sub.body.isActive else "paused")
    failing = status.last_failure is not None and (
        status.last_success is None or status.last_failure > status.last_success
    )
    doc.setdefault("notificationTrigger", sorted(DEFAULT_TRIGGERS))
    # NGSI-LD 5.2.14: the outcome of the last attempt, so none before one. An attempt is
    # counted as it starts (timesSent) and is "ok" until it fails: a receiver asking as
    # soon as the notification reaches it sees the status it has just proven.
    attempted = status.times_sent > 0 or status.last_failure is not None
    if attempted:
        doc["notification"]["status"] = "failed" if failing else "ok"
    if status.times_sent:
        doc["notification"]["timesSent"] = status.times_sent
    doc["notification"] |= {
        **{
            k: v
            for k, v in (
                ("lastNotification", _iso(status.last_notification)),
                ("lastSuccess", _iso(status.last_success)),
                ("lastFailure", _iso(status.last_failure)),
                ("lastFailureReason", status.last_failure_reason),
            )
            if v is not None
        },
    }
    # ciudad's own members, shown when there is something to say (docs/api.md)
    for name, count in (("pendingNotifications", status.pending),
                        ("droppedNotifications", status.dropped)):  # fmt: skip
        if count:
            doc[name] = count
    if sys_attrs:
        doc["createdAt"] = iso_utc(status.created_at)
        doc["modifiedAt"] = iso_utc(status.modified_at)
    return doc


async def _check_destination(request: Request, body: SubscriptionBody) -> None:
    outbound: OutboundPolicy = api_state(request).outbound
    try:
        await outbound.check(body.notification.endpoint.uri)
    except UnresolvedHostError:
        return  # judged at each delivery, when it resolves (a new DNS name, an outage)
    except OutboundRefusedError:
        raise BadRequestError(
            "notification.endpoint.uri: not an allowed destination (a public address, or "
            "one CIUDAD_OUTBOUND_ALLOW names)"
        ) from None


async def _check_context(request: Request, body: SubscriptionBody) -> None:
    """A ``jsonldContext`` must be had now (ContextUnavailableError: 503), as every
    notification will compact with it."""
    resolver = api_state(request).resolver
    if body.jsonldContext is not None and resolver is not None:
        try:
            await resolver.resolve(body.jsonldContext)
        except ContextError as exc:
            raise BadRequestError(f"jsonldContext: {exc}") from None


def _body(raw: Any) -> SubscriptionBody:
    try:
        return SubscriptionBody.model_validate(raw)
    except ValidationError as exc:
        raise BadRequestError(_problems(exc)) from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
    )


@router.post("", status_code=201, summary="Create a subscription")
async def create_subscription(
    raw: Annotated[dict[str, Any], Body()],
    subscriptions: SubscriptionsDep,
    tenant: TenantDep,
    response: Response,
    audit: AuditDep,
    request: Request,
) -> None:
    subscription = new_subscription(tenant, _body(raw))
    await _check_destination(request, subscription.body)
    await _check_context(request, subscription.body)
    await subscriptions.create(subscription)
    endpoint = redacted_uri(subscription.body.notification.endpoint.uri)
    await audit(tenant, "subscription.create", subscription.id, endpoint=endpoint)
    response.headers["Location"] = f"/ngsi-ld/v1/subscriptions/{subscription.id}"


OptionsQuery = Annotated[str | None, Query(description="sysAttrs: createdAt and modifiedAt")]


def _sys_attrs(options: str | None) -> bool:
    return "sysAttrs" in (options or "").split(",")


def _as_asked(doc: dict[str, Any], stored: StoredSubscription, ld_json: bool) -> dict[str, Any]:
    """JSON-LD answers carry the subscription's own @context (the core one by default)."""
    if ld_json:
        doc["@context"] = stored.subscription.body.context or CORE_CONTEXT
    return doc


@router.get("", summary="The tenant's subscriptions with their delivery status")
async def list_subscriptions(
    subscriptions: SubscriptionsDep,
    tenant: TenantDep,
    request: Request,
    ld_json: LdJsonDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    count: Annotated[bool, Query()] = False,
    options: OptionsQuery = None,
) -> Response:
    now, secrets, sys_attrs = datetime.now(UTC), may_write(request), _sys_attrs(options)
    found = await subscriptions.of_tenant(tenant, limit, offset)
    body = [_as_asked(render_subscription(s, now, secrets, sys_attrs), s, ld_json) for s in found]
    total = await subscriptions.count(tenant)
    headers = {"NGSILD-Results-Count": str(total)} if count else {}
    pages = page_links(request, limit, offset, more=offset + len(found) < total)
    return ngsi_response(body, ld_json, headers, pages)


@router.get("/{subscription_id}", summary="One subscription with its delivery status")
async def get_subscription(
    subscription_id: SubscriptionIdPath,
    subscriptions: SubscriptionsDep,
    tenant: TenantDep,
    request: Request,
    ld_json: LdJsonDep,
    options: OptionsQuery = None,
) -> Response:
    notifier = api_state(request).notifier
    if notifier is not None:  # a delivery under way here: its outcome is read, not missed
        await notifier.settled(tenant, subscription_id, SETTLE_WAIT_S)
    found = await subscriptions.get(tenant, subscription_id)
    doc = render_subscription(found, datetime.now(UTC), may_write(request), _sys_attrs(options))
    return ngsi_response(_as_asked(doc, found, ld_json), ld_json)


@router.patch("/{subscription_id}", status_code=204, summary="Change members of a subscription")
async def patch_subscription(
    subscription_id: SubscriptionIdPath,
    raw: Annotated[dict[str, Any], Body()],
    subscriptions: SubscriptionsDep,
    tenant: TenantDep,
    audit: AuditDep,
    request: Request,
) -> None:
    current = await subscriptions.get(tenant, subscription_id)
    try:
        merged = merge_patch(current.subscription.body, raw)
    except ValidationError as exc:
        raise BadRequestError(_problems(exc)) from None
    await _check_destination(request, merged)
    await _check_context(request, merged)
    if (
        "expiresAt" in raw
        and merged.expiresAt is not None
        and merged.expiresAt <= datetime.now(UTC)
    ):
        raise BadRequestError("expiresAt is in the past")
    await subscriptions.replace(load_subscription(tenant, subscription_id, merged))
    await audit(tenant, "subscription.update", subscription_id, members=sorted(raw))


@router.delete("/{subscription_id}", status_code=204, summary="Delete a subscription")
async def delete_subscription(
    subscription_id: SubscriptionIdPath,
    subscriptions: SubscriptionsDep,
    tenant: TenantDep,
    audit: AuditDep,
) -> None:
    await subscriptions.delete(tenant, subscription_id)
    await audit(tenant, "subscription.delete", subscription_id)
