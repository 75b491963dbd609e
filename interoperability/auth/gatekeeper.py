"""The API's door: who asks and how much they send are settled before any work is done.

For every request to ``/ngsi-ld/`` and ``/ciudad/`` (API keys on), the key is checked
before the body is read, so nobody without a key makes the API read, parse, resolve
contexts or fetch anything. Bodies are read up to ``CIUDAD_API_MAX_BODY_BYTES`` and
refused (413) as soon as they pass it, never buffered whole first; JSON bodies nested
deeper than ``CIUDAD_API_MAX_JSON_DEPTH`` are refused (400) before a parser recurses
into them; a body must say it is JSON (or CSV) (415), so a browser's cross-site
``text/plain`` form cannot pass for JSON. With API keys off (a loopback-only API), the ``Host`` must
be one of ``CIUDAD_API_SERVER_NAMES``, which keeps DNS-rebinding pages out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from interoperability.asgi_problem import replay, send_problem
from interoperability.auth.access import BAD_KEY, NO_KEY
from support import Settings

PROTECTED = ("/ngsi-ld/", "/ciudad/")
JSON_TYPES = ("application/json", "application/ld+json", "application/merge-patch+json")
# No type a cross-site form can send without a CORS preflight (text/plain, form data).
BODY_TYPES = (*JSON_TYPES, "text/csv")
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")
_CHALLENGE = ((b"www-authenticate", b'Bearer realm="ciudad"'),)


@dataclass(frozen=True, slots=True)
class DoorRules:
    keys_required: bool
    max_body_bytes: int
    max_json_depth: int
    server_names: frozenset[str]  # empty: any Host


def door_rules(settings: Settings) -> DoorRules:
    names = {n.strip().lower() for n in settings.api_server_names.split(",") if n.strip()}
    open_api = settings.api_auth == "off"
    return DoorRules(
        keys_required=not open_api,
        max_body_bytes=settings.api_max_body_bytes,
        max_json_depth=settings.api_max_json_depth,
        server_names=frozenset(names) if open_api and "*" not in names else frozenset(),
    )


def json_too_deep(body: bytes, limit: int) -> bool:
    """True if arrays/objects nest deeper than ``limit`` (strings' brackets do not count)."""
    depth = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub(b'""', body)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def presented_key(headers: Headers) -> str | None:
    if key := headers.get("x-api-key"):
        return key
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


def host_name(headers: Headers) -> str:
    host = headers.get("host", "").lower()
    return host.rsplit(":", 1)[0] if not host.endswith("]") else host


class Gatekeeper:
    def __init__(self, app: ASGIApp, rules: DoorRules) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = await self._refusal(scope, headers)
        if refusal is not None:
            status, error_type, detail = refusal
            await send_problem(
                send, status, error_type, detail, _CHALLENGE if status == 401 else ()
            )
            return
        body = await _read_bounded(receive, self.rules.max_body_bytes)
        if body is None:
            await _too_large(send, self.rules.max_body_bytes)
            return
        content_type = headers.get("content-type", "").lower()
        if body and not content_type.startswith(BODY_TYPES):
            await send_problem(send, 415, "InvalidRequest", "send the body as JSON (Content-Type)")
            return
        is_json = content_type.startswith(JSON_TYPES)
        if body and is_json and json_too_deep(body, self.rules.max_json_depth):
            detail = f"JSON nested deeper than {self.rules.max_json_depth} levels"
            await send_problem(send, 400, "BadRequestData", detail)
            return
        await self.app(scope, replay(body, receive), send)

    async def _refusal(self, scope: Scope, headers: Headers) -> tuple[int, str, str] | None:
        names = self.rules.server_names
        if names and host_name(headers) not in names:
            return 400, "BadRequestData", "unknown Host (CIUDAD_API_SERVER_NAMES)"
        if self.rules.keys_required and scope["path"].startswith(PROTECTED):
            key = presented_key(headers)
            if key is None:
                return 401, "Unauthorized", NO_KEY
            stores = scope["app"].state.api.stores
            if stores is None or await stores.api_keys.verify(key) is None:
                return 401, "Unauthorized", BAD_KEY
        declared = headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > self.rules.max_body_bytes:
            return 413, "RequestEntityTooLarge", _over(self.rules.max_body_bytes)
        return None


def _over(limit: int) -> str:
    return f"the body is over {limit} bytes (CIUDAD_API_MAX_BODY_BYTES)"


async def _too_large(send: Send, limit: int) -> None:
    await send_problem(send, 413, "RequestEntityTooLarge", _over(limit))


async def _read_bounded(receive: Receive, limit: int) -> bytes | None:
    """The body, or None as soon as it passes ``limit`` bytes (the rest is not read)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)
