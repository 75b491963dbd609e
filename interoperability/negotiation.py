"""Requests the NGSI-LD API cannot serve, refused before any route runs or as it starts:
an ``Accept`` no answer of ours satisfies (406, NGSI-LD 6.3.4), and query parameters the
operation does not define (400 InvalidRequest, 6.3.20)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from interoperability.asgi_problem import send_problem
from interoperability.deps import InvalidRequestError

ANSWERS = ("application/json", "application/ld+json", "application/geo+json")
_RANGES = frozenset({"*/*", "application/*", *ANSWERS})


# retrieve and query (GET or POST) only
GEO_JSON_PATHS = re.compile(r"^/ngsi-ld/v1/(entities(/[^/]+)?|entityOperations/query)/?$")


def acceptable(accept: str, path: str = "/ngsi-ld/v1/entities") -> bool:
    """Whether an Accept header admits one of our media types for ``path`` (no header:
    anything goes; GeoJSON only where entities are read, NGSI-LD 6.3.4)."""
    if not accept.strip():
        return True
    kinds = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    ranges = _RANGES if GEO_JSON_PATHS.match(path) else _RANGES - {"application/geo+json"}
    return bool(kinds & ranges)


class NotAcceptable:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/ngsi-ld/"):
            accept = Headers(scope=scope).get("accept", "")
            if not acceptable(accept, scope["path"]):
                detail = f"Accept {accept[:100]!r}: the API answers {', '.join(ANSWERS)}"
                await send_problem(send, 406, "NotAcceptable", detail)
                return
        await self.app(scope, receive, send)


def _query_names(dependant: Any) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


# The names a route declares, computed on its first request and kept on the route itself
# (routes are not hashable, and live as long as their app).
_DECLARED = "_ciudad_query_names"


async def known_parameters(request: Request) -> None:
    """A router dependency: every query parameter must be one the operation declares."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    declared = getattr(route, _DECLARED, None)
    if declared is None:
        declared = frozenset(_query_names(dependant))
        setattr(route, _DECLARED, declared)
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        names = ", ".join(repr(n[:40]) for n in unknown[:5])
        raise InvalidRequestError(f"unknown query parameter(s) {names} for this operation")
