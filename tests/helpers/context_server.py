"""An HTTP server on loopback serving one JSON-LD @context document, counting the
requests for it (a client's @context link, fetched by the API)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support.net import LOOPBACK, free_port


@dataclass
class ContextServer:
    port: int
    asked: list[str] = field(default_factory=list)  # the paths requested, in order

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/ctx.jsonld"

    @property
    def fetches(self) -> int:
        return len(self.asked)


@contextmanager
def serving_context(document: dict[str, Any]) -> Iterator[ContextServer]:
    """Serves ``document`` to every GET, whatever the path, for the ``with``."""
    served = ContextServer(free_port())
    body = json.dumps(document).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, served.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
