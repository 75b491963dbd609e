"""Per-route request counts and latency for /metrics (a pure ASGI middleware)."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interoperability.store.api_stats import ApiStats
from support.metrics import PlatformMetrics


class RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: PlatformMetrics, stats: ApiStats) -> None:
        self.app = app
        self.metrics = metrics
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            route: Any = scope.get("route")
            # The route's template, not the path: ids would make one series per entity.
            template = getattr(route, "path", "unmatched")
            tenant = scope.get("state", {}).get("tenant", "")
            method = scope["method"]
            self.metrics.api_requests.labels(template, method, str(status), tenant).inc()
            if tenant:
                self.stats.count(tenant, status)
            self.metrics.api_seconds.labels(template, method).observe(time.perf_counter() - started)
