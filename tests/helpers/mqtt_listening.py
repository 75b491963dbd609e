"""An MQTT client that records what is published on a topic, for the tests of MQTT
notification endpoints."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from support.net import LOOPBACK
from tests.helpers.waiting import CEILING_S


@dataclass
class Listener:
    messages: queue.Queue[tuple[str, dict[str, Any]]] = field(default_factory=queue.Queue)

    def next(self) -> tuple[str, dict[str, Any]]:
        """(topic, decoded payload) of the next message, waiting for it."""
        return self.messages.get(timeout=CEILING_S)


@contextmanager
def listening(
    port: int, topic: str, username: str | None = None, password: str | None = None
) -> Iterator[Listener]:
    """Subscribed (SUBACK received) to ``topic`` on the loopback broker at ``port``."""
    listener = Listener()
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="notification-listener")
    if username is not None:
        client.username_pw_set(username, password)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=2)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda c, u, m: listener.messages.put((m.topic, json.loads(m.payload)))
    client.connect(LOOPBACK, port)
    client.loop_start()
    try:
        if not subscribed.wait(CEILING_S):
            raise AssertionError(f"no SUBACK for {topic} from the broker on port {port}")
        yield listener
    finally:
        client.disconnect()
        client.loop_stop()
