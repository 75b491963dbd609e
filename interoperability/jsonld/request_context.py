"""A request's own JSON-LD context (NGSI-LD 6.3.5): a ``Link`` header, or ``@context`` in
an ``application/ld+json`` body, never in an ``application/json`` one. A batch's entities
are judged one by one: one refused is reported by the batch route, the others are written."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.datastructures import Headers
from starlette.types import Scope

from interoperability.entities.batch_context import SCOPE_KEY, Refusal
from interoperability.jsonld.terms import ContextError

_LINK = re.compile(r'<([^>]*)>\s*;[^,]*rel="?http://www\.w3\.org/ns/json-ld#context"?')
BATCH = re.compile(r"^/ngsi-ld/v1/entityOperations/(?:create|upsert|update|merge)/?$")


def context_spec(headers: Headers, body: bytes, scope: Scope) -> tuple[Any, Any]:
    """(the request's context, its parsed JSON body or None). A batch's entities are
    checked one by one: those refused go in the scope for the route to report."""
    link = _link_url(headers)
    data = None
    if body:
        try:
            data = json.loads(body)
        except ValueError:
            return link, None  # the route reports the malformed body
    media = headers.get("content-type", "")
    if BATCH.match(scope["path"]) and isinstance(data, list):
        refused = {i: Refusal(why) for i, item in enumerate(data)
                   if (why := context_fault(media, item))}  # fmt: skip
        scope[SCOPE_KEY] = refused
        first = next((item for i, item in enumerate(data) if i not in refused), None)
    else:
        first = data[0] if isinstance(data, list) and data else data
        if why := context_fault(media, first):
            raise ContextError(why)
    if media.startswith("application/ld+json") and isinstance(first, dict):
        if link is not None:
            raise ContextError("application/ld+json bodies take @context, not a Link header")
        return first["@context"], data
    return link, data  # no object at all: the route says what the body should be


def context_fault(media: str, item: Any) -> str | None:
    """Why an object cannot come with this content type (NGSI-LD 6.3.5), if it cannot."""
    if not isinstance(item, dict):
        return None
    if media.startswith("application/json") and "@context" in item:
        return "an application/json body cannot carry @context: send it as application/ld+json"
    if media.startswith("application/ld+json") and item.get("@context") is None:
        return "an application/ld+json body must carry @context"
    return None


def names_an_iri(scope: Scope, body: bytes) -> bool:
    """Whether a request without a context may name something by a full IRI (its body,
    query or path holds one): only then are its names looked at."""
    where = (body, scope.get("query_string", b""), scope.get("raw_path", b""))
    return any(b"://" in part or b"%3A%2F%2F" in part.upper() for part in where)


def _link_url(headers: Headers) -> str | None:
    match = _LINK.search(headers.get("link", ""))
    return match.group(1) if match else None
