"""Serial bridge: a line-based concentrator feed (radio or RS-485 gateway on a serial port)
republished as device traffic on MQTT, so the gateway's own decoders handle it.

Line format, one measure message per line (UTF-8, ``\\n``-terminated):

    <apikey> <device_id> <payload>

where ``<payload>`` is FIWARE IoT Agent JSON (``{...}`` or ``[...]``) or UltraLight 2.0
(``t|...|laeq|55.1``). Lines that do not fit are counted, logged and appended to a
reject file with the reason, never silently dropped.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from capture.protocol import measure_topic, ultralight_topic
from support import CiudadError

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
MAX_LINE_BYTES = 64 * 1024


class BadLineError(CiudadError):
    """A concentrator line that cannot be turned into a device message."""


@dataclass(frozen=True, slots=True)
class BridgedMessage:
    topic: str
    payload: bytes


def parse_line(line: bytes) -> BridgedMessage:
    """One concentrator line -> the MQTT message its device would have sent (pure)."""
    if len(line) > MAX_LINE_BYTES:
        raise BadLineError(f"line of {len(line)} bytes is too long")
    try:
        text = line.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise BadLineError("line is not UTF-8") from None
    parts = text.split(maxsplit=2)
    if len(parts) != 3:
        raise BadLineError("expected '<apikey> <device_id> <payload>'")
    apikey, device_id, payload = parts
    if not (_NAME.match(apikey) and _NAME.match(device_id)):
        raise BadLineError("apikey and device id may hold letters, digits, '_' and '-' only")
    is_json = payload[:1] in ("{", "[")
    topic = (measure_topic if is_json else ultralight_topic)(apikey, device_id)
    return BridgedMessage(topic, payload.encode())


class LineSource(Protocol):
    def readline(self) -> bytes: ...


class Publisher(Protocol):
    def publish(self, topic: str, payload: bytes, qos: int) -> object: ...


class SerialBridge:
    """Reads lines until stopped; publishes each good one with QoS 1."""

    def __init__(self, source: LineSource, publisher: Publisher, reject_file: Path) -> None:
        self._source = source
        self._publisher = publisher
        self._reject_file = reject_file
        self.forwarded = 0
        self.rejected = 0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            line = self._source.readline()  # returns b"" on the port's read timeout
            if line.strip():
                self.handle(line)

    def handle(self, line: bytes) -> None:
        try:
            message = parse_line(line)
        except BadLineError as exc:
            self.rejected += 1
            log.warning("concentrator line rejected", extra={"reason": str(exc)})
            with self._reject_file.open("ab") as rejects:
                rejects.write(f"{exc}\t".encode() + line.rstrip(b"\n") + b"\n")
            return
        self._publisher.publish(message.topic, message.payload, 1)
        self.forwarded += 1
