"""ProblemDetails answers sent straight from ASGI middleware (before any route runs)."""

from __future__ import annotations

import json

from starlette.types import Message, Receive, Send

from interoperability.ngsild import problem


async def send_problem(
    send: Send,
    status: int,
    error_type: str,
    detail: str,
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    body = json.dumps(dict(problem(error_type, error_type, detail))).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands over an already read body once, then passes on what the
    server sends next (a disconnect, for streaming answers that listen for one)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
