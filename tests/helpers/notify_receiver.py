"""An HTTP endpoint on loopback that records the notifications POSTed to it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support.net import LOOPBACK, free_port


@dataclass
class Receiver:
    port: int
    fail_next: int = 0
    fail_every: int = 0  # answer 503 to every n-th request
    answer_delay_s: float = 0.0  # a slow receiver: the answer leaves this long after receipt
    notifications: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def uri(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/notify"

    def entities(self) -> list[dict[str, Any]]:
        with self.lock:
            return [e for n in self.notifications for e in n["data"]]

    def _answer(self, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            self.requests += 1
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500
            if self.fail_every and self.requests % self.fail_every == 0:
                return 503
            self.notifications.append(json.loads(body))
            self.headers.append(headers)
            return 204


@contextmanager
def receiving(port: int | None = None, **options: Any) -> Iterator[Receiver]:
    receiver = Receiver(port or free_port(), **options)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = receiver._answer(body, dict(self.headers))
            time.sleep(receiver.answer_delay_s)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, receiver.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
