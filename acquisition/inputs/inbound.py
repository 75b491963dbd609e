"""What every input hands the gateway: one message as received, in batches."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class InboundMessage:
    topic: str
    payload: bytes
    mid: int
    qos: int
    received_at: datetime
    connection: int = 0  # which connection brought it: an ack is only valid on that one


async def take_batch(
    queue: deque[InboundMessage], arrived: asyncio.Event, max_messages: int, max_wait_s: float
) -> list[InboundMessage]:
    """Waits for one message in ``queue`` (``arrived`` is set when one is added), then
    gathers more until ``max_wait_s`` or ``max_messages``; takes at most ``max_messages``."""
    while not queue:
        arrived.clear()
        await arrived.wait()
    if len(queue) < max_messages:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait_s
        while len(queue) < max_messages and (left := deadline - loop.time()) > 0:
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), left)
            except TimeoutError:
                break
    return [queue.popleft() for _ in range(min(max_messages, len(queue)))]
