"""The host side of a hardware-in-the-loop rig: JSON lines over a serial line.

The same class drives a real ESP32 running a test build (stimulus on its USB
console) and the firmware on the MicroPython unix port behind a socat pty pair.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import serial


class RigError(AssertionError):
    """The node did not answer as the protocol says."""


def _reply(raw: bytes) -> dict[str, Any] | None:
    """A protocol reply (a JSON object with "ok"), or None for any other console line."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and "ok" in parsed else None


class Rig:
    def __init__(self, port: serial.Serial) -> None:
        self._port = port
        self.transcript: list[str] = []

    def send(self, request: dict[str, Any], timeout_s: float = 5.0) -> dict[str, Any]:
        """One request, its one reply. Console lines that are not replies are skipped."""
        line = json.dumps(request)
        self.transcript.append(f"> {line}")
        self._port.write(line.encode() + b"\n")
        self._port.flush()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            reply = _reply(self._port.readline())
            if reply is None:
                continue  # a log line printed by a real board on the same console
            self.transcript.append(f"< {json.dumps(reply, sort_keys=True)}")
            return reply
        raise RigError(f"no reply to {line} within {timeout_s} s")

    def state(self) -> dict[str, Any]:
        reply = self.send({"cmd": "state"})
        if not reply.get("ok"):
            raise RigError(f"state refused: {reply}")
        state: dict[str, Any] = reply["state"]
        return state

    def wait_for(
        self,
        check: Callable[[dict[str, Any]], bool],
        timeout_s: float = 20.0,
        what: str = "condition",
    ) -> dict[str, Any]:
        """Polls the node's state until ``check`` holds."""
        deadline = time.monotonic() + timeout_s
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                state = self.state()
            except RigError:
                state = {}  # e.g. during a watchdog reset
            if state and check(state):
                return state
            time.sleep(0.2)
        raise RigError(f"{what} not reached; last state {state}")

    def ok(self, request: dict[str, Any]) -> None:
        reply = self.send(request)
        if not reply.get("ok"):
            raise RigError(f"{request} refused: {reply}")
