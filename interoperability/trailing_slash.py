"""NGSI-LD paths with the trailing slash the specification writes (``/entities/{id}/attrs/``)
reach the same routes as without it, with no redirect (clients do not repeat a POST)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/ngsi-ld/v1/"
TRIMMED = "ciudad.trimmed_slash"  # set in the scope when the path lost its trailing slash


class TrailingSlash:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(PREFIX) and len(path) > len(PREFIX) and path.endswith("/"):
            trimmed = path.rstrip("/")
            raw = scope.get("raw_path")
            scope = dict(scope, path=trimmed)
            scope[TRIMMED] = True
            if isinstance(raw, bytes):
                scope["raw_path"] = raw.rstrip(b"/")
        await self.app(scope, receive, send)
