"""What every input hands the gateway: one message as received."""

from __future__ import annotations

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
