"""A small HTTP listener for processes without an API: /metrics, /health/live, /health/ready.

Plain asyncio (no framework): it answers GETs on three paths and nothing
else, on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from support.metrics import CONTENT_TYPE, PlatformMetrics

log = logging.getLogger(__name__)
Readiness = Callable[[], Awaitable[dict[str, Any]]]


def _response(status: int, content_type: str, body: bytes) -> bytes:
    reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Unavailable"}
    head = (
        f"HTTP/1.1 {status} {reason.get(status, 'OK')}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class OpsServer:
    """``ready()`` returns checks, each ``{"ok": bool, ...}``; ready when all are ok."""

    def __init__(
        self,
        metrics: PlatformMetrics,
        ready: Readiness,
        before_scrape: Callable[[], None] = lambda: None,
    ) -> None:
        self._metrics = metrics
        self._ready = ready
        self._before_scrape = before_scrape
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._handle, host, port)
        bound: int = self._server.sockets[0].getsockname()[1]
        log.info("ops endpoints listening", extra={"address": f"{host}:{bound}"})
        return bound

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def answer(self, method: str, path: str) -> bytes:
        if method != "GET":
            return _response(405, "text/plain", b"GET only\n")
        if path == "/metrics":
            self._before_scrape()
            return _response(200, CONTENT_TYPE, self._metrics.exposition())
        if path == "/health/live":
            return _response(200, "application/json", b'{"status": "ok"}')
        if path == "/health/ready":
            checks = await self._ready()
            ok = all(check.get("ok") for check in checks.values())
            body = json.dumps({"status": "ok" if ok else "not ready", "checks": checks})
            return _response(200 if ok else 503, "application/json", body.encode())
        return _response(404, "text/plain", b"not found\n")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(
            ConnectionError, asyncio.IncompleteReadError, ValueError, TimeoutError
        ):
            request_line = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass  # headers: nothing here needs them
            method, path, *_ = request_line.decode("latin-1").split()
            writer.write(await self.answer(method, path.split("?", 1)[0]))
            await writer.drain()
        writer.close()
