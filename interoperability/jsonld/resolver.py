"""@context resolution: built-in contexts answered locally, others fetched once and cached."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

import httpx

from interoperability.jsonld.terms import Context, ContextError, bundled, parse_local_context
from interoperability.outbound_http import vetted_http_client
from support.errors import CiudadError
from support.outbound import OutboundPolicy, OutboundRefusedError

log = logging.getLogger(__name__)

MAX_DEPTH = 4


class ContextUnavailableError(CiudadError):
    """A linked context could not be fetched (NGSI-LD LdContextNotAvailable, 503)."""


class _UnusableError(Exception):
    """Why a fetched context cannot be used (logged, never shown to the client)."""


class ContextResolver:
    """Resolves a request's @context (URL, object or list of them) to term definitions.

    Remote documents are fetched over HTTP(S) once per process (at most
    ``max_bytes`` each, within ``timeout_s`` in all, no redirects, only from hosts
    ``outbound`` allows) and kept, least recently used first out, up to ``max_entries``.
    """

    def __init__(
        self,
        outbound: OutboundPolicy,
        timeout_s: float = 5.0,
        max_bytes: int = 1 << 20,
        max_entries: int = 256,
    ):
        self._outbound = outbound
        self._timeout_s = timeout_s
        self._http = vetted_http_client(outbound, timeout_s)
        self._max_bytes = max_bytes
        self._max_entries = max_entries
        self._cache: OrderedDict[str, Context] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    async def close(self) -> None:
        await self._http.aclose()

    async def resolve(self, spec: Any, depth: int = 0) -> Context:
        """The merged definitions of ``spec`` (later entries override earlier ones)."""
        if depth > MAX_DEPTH:
            raise ContextError("@context nests too deeply")
        items = spec if isinstance(spec, list) else [spec]
        merged = Context()
        for item in items:
            if isinstance(item, str):
                merged = merged.merged(await self._remote(item, depth))
            elif isinstance(item, dict):
                merged = merged.merged(parse_local_context(item))
            elif item is not None:
                raise ContextError("a context must be a JSON object, a URL or a list of them")
        return merged

    async def _remote(self, url: str, depth: int) -> Context:
        known = bundled(url)
        if known is not None:
            return known
        if url in self._cache:
            self._cache.move_to_end(url)
            return self._cache[url]
        async with self._locks.setdefault(url, asyncio.Lock()):
            if url not in self._cache:
                document = await self._fetch(url)
                self._cache[url] = await self.resolve(document.get("@context"), depth + 1)
                while len(self._cache) > self._max_entries:
                    self._cache.popitem(last=False)
        self._locks.pop(url, None)
        return self._cache[url]

    async def _fetch(self, url: str) -> dict[str, Any]:
        """The document at ``url``; one generic error whatever went wrong, so that the
        answer tells a client nothing about what listens where."""
        try:
            if urlsplit(url).scheme not in ("http", "https"):
                raise _UnusableError("not an http(s) URL")
            await self._outbound.check(url)
            async with asyncio.timeout(self._timeout_s):
                return await self._download(url)
        except (_UnusableError, OutboundRefusedError, httpx.HTTPError, TimeoutError) as exc:
            log.info("context not loaded", extra={"url": url[:200], "reason": str(exc)[:200]})
            raise ContextUnavailableError(
                f"the @context at {url:.200} could not be loaded"
            ) from None

    async def _download(self, url: str) -> dict[str, Any]:
        accept = {"Accept": "application/ld+json, application/json"}
        async with self._http.stream("GET", url, headers=accept) as answer:
            if not answer.is_success:  # redirects included: they are not followed
                raise _UnusableError(f"HTTP {answer.status_code}")
            body = bytearray()
            async for chunk in answer.aiter_bytes():
                body += chunk
                if len(body) > self._max_bytes:
                    raise _UnusableError(f"over {self._max_bytes} bytes")
        try:
            document = json.loads(body)
        except ValueError:
            raise _UnusableError("not JSON") from None
        if not isinstance(document, dict) or "@context" not in document:
            raise _UnusableError("no @context member")
        return document
