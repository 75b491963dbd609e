"""NGSI-LD subscriptions: the request body, its validation and its rendering.

A subscription names what to watch (``entities``, ``watchedAttributes``,
``q``) and where to send (``notification.endpoint.uri``: ``http(s)://`` or
``mqtt(s)://[user[:password]@]host[:port]/topic``). On-change subscriptions
notify when a watched attribute's current value changes; ``timeInterval``
ones notify the matching entities' state every so many seconds.
``throttling`` holds notifications back until that many seconds have passed
since the last one and then sends everything held as one notification:
nothing is dropped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from interoperability.deps import NAME_PATTERN, URI_PATTERN, BadRequestError
from interoperability.entities.linked import JOIN_LEVELS
from interoperability.entities.q_language import parse_q
from interoperability.entities.selection import parse_types
from interoperability.subscriptions.mqtt import MQTT_SCHEMES, mqtt_target, notifier_options
from knowledge import Filter
from knowledge import filter_matches as matches
from support.user_regex import PatternError, compile_pattern, pattern_matches

_SCHEMES = ("http", "https", *sorted(MQTT_SCHEMES))
# Headers of a notification the platform sets; a subscriber's receiverInfo cannot
# override them (e.g. another tenant, or a Host naming an internal virtual host).
RESERVED_HEADERS = frozenset(
    {"host", "ngsild-tenant", "content-type", "content-length", "transfer-encoding",
     "connection", "te", "upgrade", "link", "ngsild-path"}
)  # fmt: skip


def is_reserved(header: str) -> bool:
    return header.strip().lower() in RESERVED_HEADERS


def redacted_uri(uri: str) -> str:
    """``uri`` with the password of its user info masked (for logs, the audit log and
    read-only keys): ``mqtt://user:********@host/topic``."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    user, _, host = parts.netloc.rpartition("@")
    name = user.split(":", 1)[0]
    return parts._replace(netloc=f"{name}:********@{host}").geturl()


class EntitySelector(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: str = Field(pattern=NAME_PATTERN)
    id: str | None = Field(None, pattern=NAME_PATTERN)
    id_pattern: str | None = Field(None, alias="idPattern", max_length=256)

    @field_validator("id_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compile_pattern(value)
            except PatternError as exc:
                raise ValueError(f"idPattern: {exc}") from None
        return value


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uri: str = Field(max_length=2000)
    accept: Literal["application/json", "application/ld+json"] = "application/json"
    receiverInfo: list[dict[str, str]] | None = Field(None, max_length=20)
    # how to deliver: MQTT-QoS and MQTT-Version for an MQTT endpoint (mqtt.py)
    notifierInfo: list[dict[str, str]] | None = Field(None, max_length=20)

    @field_validator("uri")
    @classmethod
    def _supported(cls, uri: str) -> str:
        parts = urlsplit(uri)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise ValueError(
                "endpoint.uri must be http://, https://, mqtt:// or mqtts://host:port/topic"
            )
        if parts.scheme in MQTT_SCHEMES:
            mqtt_target(uri, None)
        return uri

    @field_validator("notifierInfo")
    @classmethod
    def _mqtt_options(cls, info: list[dict[str, str]] | None) -> list[dict[str, str]] | None:
        notifier_options(info or ())
        return info

    @field_validator("receiverInfo")
    @classmethod
    def _not_platform_headers(
        cls, info: list[dict[str, str]] | None
    ) -> list[dict[str, str]] | None:
        taken = [k for k in (str(i.get("key", "")) for i in info or ()) if is_reserved(k)]
        if taken:
            raise ValueError(f"receiverInfo may not set {taken[0]!r:.60}: the platform sets it")
        return info


class NotificationParams(BaseModel):
    model_config = ConfigDict(extra="ignore")
    attributes: list[str] | None = Field(None, max_length=100)
    # NGSI-LD 1.8 projection (4.21): members to keep, or to leave out ("id", "type" too).
    pick: list[str] | None = Field(None, max_length=100)
    omit: list[str] | None = Field(None, max_length=100)
    format: Literal["normalized", "concise", "keyValues", "simplified"] = "normalized"
    sysAttrs: bool | None = None  # true: createdAt and modifiedAt in what is notified
    # true: each changed attribute also shows its value before (previousValue...; 1.8)
    showChanges: bool | None = None
    # linked entities (4.5.23) in what is notified, as GET /entities joins them
    join: Literal["inline", "flat", "@none"] | None = None
    joinLevel: int | None = Field(None, ge=1, le=JOIN_LEVELS)
    endpoint: Endpoint

    @property
    def simplified(self) -> bool:
        """keyValues, which NGSI-LD 1.8 also names simplified."""
        return self.format in ("keyValues", "simplified")

    @model_validator(mode="after")
    def _one_projection(self) -> NotificationParams:
        if self.attributes is not None and (self.pick is not None or self.omit is not None):
            raise ValueError("notification.attributes excludes pick and omit")
        if set(self.pick or ()) & set(self.omit or ()):
            raise ValueError("a member cannot be in both pick and omit")
        return self


Trigger = Literal[
    "entityCreated", "entityUpdated", "entityDeleted",
    "attributeCreated", "attributeUpdated", "attributeDeleted",
]  # fmt: skip
DEFAULT_TRIGGERS = frozenset({"attributeCreated", "attributeUpdated"})
ATTRIBUTE_EVENTS = frozenset({"attributeCreated", "attributeUpdated", "attributeDeleted"})


class SubscriptionBody(BaseModel):
    """A subscription as POSTed (unknown members refused, status members ignored)."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, pattern=URI_PATTERN)
    type: Literal["Subscription"] = "Subscription"
    subscriptionName: str | None = Field(None, max_length=256)
    description: str | None = Field(None, max_length=2000)
    entities: list[EntitySelector] | None = Field(None, min_length=1, max_length=100)
    watchedAttributes: list[str] | None = Field(None, min_length=1, max_length=100)
    q: str | None = Field(None, max_length=2000)
    # only these instances are notified ("@none": the default instance)
    datasetId: list[str] | None = Field(None, min_length=1, max_length=100)
    timeInterval: float | None = Field(None, ge=1, le=31_536_000)
    throttling: float | None = Field(None, ge=0, le=86_400)
    expiresAt: datetime | None = None
    isActive: bool = True
    notificationTrigger: list[Trigger] | None = Field(None, min_length=1, max_length=7)
    # the context notifications are compacted with (fetched at creation: 503 if it cannot)
    jsonldContext: str | None = Field(None, pattern=r"^https?://", max_length=2048)
    notification: NotificationParams
    context: Any = Field(None, alias="@context")

    @model_validator(mode="after")
    def _consistent(self) -> SubscriptionBody:
        if self.entities is None and self.watchedAttributes is None:
            raise ValueError("a subscription needs entities or watchedAttributes")
        if self.timeInterval is not None and (self.watchedAttributes or self.throttling):
            raise ValueError("timeInterval excludes watchedAttributes and throttling")
        if self.expiresAt is not None and self.expiresAt.tzinfo is None:
            raise ValueError("expiresAt needs a timezone")
        return self


@dataclass(frozen=True, slots=True)
class Subscription:
    """A stored subscription with what it needs at matching time."""

    tenant: str
    id: str
    body: SubscriptionBody
    q: Filter | None = field(default=None, compare=False)

    @property
    def triggers(self) -> frozenset[str]:
        given = self.body.notificationTrigger
        return DEFAULT_TRIGGERS if given is None else frozenset(given)

    def selects(self, entity_id: str, types: tuple[str, ...]) -> bool:
        """Whether a selector names the entity: by one of its ``types`` (or all of an AND
        group's), and by its id or id pattern if given."""
        if self.body.entities is None:
            return True
        return any(
            _type_matches(e.type, types)
            and (e.id is None or e.id == entity_id)
            and (e.id_pattern is None or pattern_matches(e.id_pattern, entity_id))
            for e in self.body.entities
        )

    def is_due(
        self,
        events: dict[str, str],
        values: dict[str, float | str],
        entity_event: str | None = None,
    ) -> bool:
        """An on-change subscription's verdict on a change: ``events`` per attribute
        (attributeCreated...), ``entity_event`` entityCreated or entityDeleted if so."""
        if self.body.timeInterval is not None:
            return False
        if entity_event is not None and entity_event in self.triggers:
            return entity_event == "entityDeleted" or self.q is None or matches(self.q, values)
        # an entity's deletion deletes its attributes: attributeDeleted of the watched ones
        # notifies too, whatever the entity's values were (it has none left)
        deleted = entity_event == "entityDeleted"
        triggered = {name for name, event in events.items() if event in self.triggers}
        if "entityUpdated" in self.triggers and entity_event is None:
            triggered |= set(events)
        watched = self.body.watchedAttributes
        if not triggered or (watched is not None and not triggered.intersection(watched)):
            return False
        return deleted or self.q is None or matches(self.q, values)

    def active_at(self, now: datetime) -> bool:
        expires = self.body.expiresAt
        return self.body.isActive and (expires is None or expires > now)


def _type_matches(expression: str, types: tuple[str, ...]) -> bool:
    """A selector's type: a name or a type expression (4.17) over the entity's types."""
    if not any(c in expression for c in "(),|;"):
        return expression in types
    return any(set(group).issubset(types) for group in parse_types(expression))


def new_subscription(tenant: str, body: SubscriptionBody) -> Subscription:
    """Validated (q parsed, id given or made) or BadRequestError."""
    subscription_id = body.id or f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"
    return load_subscription(tenant, subscription_id, body)


def load_subscription(tenant: str, subscription_id: str, body: SubscriptionBody) -> Subscription:
    # q travels URL-encoded (NGSI-LD 4.9), in a query string or a subscription alike
    q = parse_q(unquote(body.q)) if body.q is not None else None
    if not body.id:
        body = body.model_copy(update={"id": subscription_id})
    return Subscription(tenant, subscription_id, body, q)


def merge_patch(current: SubscriptionBody, patch: dict[str, Any]) -> SubscriptionBody:
    """PATCH semantics: the patch's members replace the current ones."""
    if "id" in patch and patch["id"] != current.id:
        raise BadRequestError("a subscription's id cannot change")
    merged = current.model_dump(by_alias=True, exclude_none=True) | patch
    return SubscriptionBody.model_validate(merged)
