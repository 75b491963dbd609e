"""NGSI-LD's MQTT binding of notifications (clause 7.4 of GS CIM 009).

An endpoint ``mqtt[s]://[user[:password]@]host[:port]/topic`` names a broker and a
topic; ``notifierInfo`` may set ``MQTT-QoS`` (0, 1 or 2; 0 by default) and
``MQTT-Version`` (``mqtt3.1.1`` or ``mqtt5.0``, the default, as the standard says).
Each notification is published as ``{"metadata": {...}, "body": notification}``, the
metadata being what HTTP would send as headers. A publish succeeds when the broker
took it as its QoS asks: written (0), PUBACK (1) or PUBCOMP (2).

Connections are kept, one per broker, user and version (at most ``MAX_LINKS``, the
least recently used closed first); one that dropped is replaced at the next delivery.
Connecting and publishing share one deadline. Failure reasons are fixed texts: the
URI's credentials never reach a log or a subscriber.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

MQTT_SCHEMES = frozenset({"mqtt", "mqtts"})
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
QOS_KEY = "MQTT-QoS"
VERSION_KEY = "MQTT-Version"
VERSIONS = {"mqtt3.1.1": mqtt.MQTTv311, "mqtt5.0": mqtt.MQTTv5}
DEFAULT_VERSION = "mqtt5.0"
MAX_LINKS = 32
KEEPALIVE_S = 30


class MqttDeliveryError(Exception):
    """The broker did not take the notification (a short fixed reason)."""


@dataclass(frozen=True, slots=True)
class Broker:
    """Where and as whom to connect: the key of a kept connection."""

    tls: bool
    host: str
    port: int
    version: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class MqttTarget:
    broker: Broker
    topic: str
    qos: int


def mqtt_target(uri: str, notifier_info: Sequence[dict[str, str]] | None) -> MqttTarget:
    """The broker, topic and QoS of an mqtt(s):// endpoint; ValueError if it has none."""
    parts = urlsplit(uri)
    if parts.scheme not in MQTT_SCHEMES or not parts.hostname:
        raise ValueError("an MQTT endpoint is mqtt[s]://[user[:password]@]host[:port]/topic")
    topic = unquote(parts.path).lstrip("/")
    if not topic:
        raise ValueError("an mqtt:// endpoint needs a topic: mqtt://host:port/topic")
    # '#' would start a URI fragment: an endpoint naming a topic filter is refused whole
    if any(c in topic for c in "+#\0") or "#" in uri or "?" in uri:
        raise ValueError("an MQTT topic to publish to has no wildcard (+, #) nor query")
    qos, version = notifier_options(notifier_info or ())
    broker = Broker(
        tls=parts.scheme == "mqtts",
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[parts.scheme],
        version=version,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password else None,
    )
    return MqttTarget(broker, topic, qos)


def notifier_options(notifier_info: Sequence[dict[str, str]]) -> tuple[int, str]:
    """(QoS, version) from notifierInfo; ValueError for values the binding does not define."""
    options = {i.get("key"): i.get("value") for i in notifier_info}
    qos = options.get(QOS_KEY, "0")
    if qos not in ("0", "1", "2"):
        raise ValueError(f"notifierInfo {QOS_KEY} is 0, 1 or 2")
    version = options.get(VERSION_KEY, DEFAULT_VERSION)
    if version not in VERSIONS:
        raise ValueError(f"notifierInfo {VERSION_KEY} is mqtt3.1.1 or mqtt5.0")
    return int(qos), version


class _Link:
    """One client connected to one broker, its network loop in a thread of its own.

    paho's loop does not reconnect by itself here: it would sleep between tries, and
    stopping it waits for that sleep. The loop ends with the connection; the sender
    makes another at the next delivery, so closing never holds a delivery up."""

    def __init__(self, broker: Broker, timeout_s: float) -> None:
        self.alive = False
        self._answered = threading.Event()
        self._broker = broker
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"ciudad-notifier-{uuid.uuid4().hex[:12]}",
            protocol=VERSIONS[broker.version],
            reconnect_on_failure=False,
        )
        if broker.username is not None:
            client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            client.tls_set()  # the system's CAs; the host name is verified
        client.connect_timeout = timeout_s
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        self._client = client

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.alive = not reason.is_failure
        self._answered.set()

    def _on_disconnect(self, *_: Any) -> None:
        self.alive = False
        self._answered.set()  # a connection closed before its CONNACK is answered too

    def open(self, deadline: float) -> None:
        """Connects within the deadline, or closes and raises MqttDeliveryError."""
        try:
            self._client.connect(self._broker.host, self._broker.port, keepalive=KEEPALIVE_S)
        except TimeoutError:
            raise MqttDeliveryError("MQTT: timed out") from None
        except (OSError, ValueError):
            raise MqttDeliveryError("MQTT: connection failed") from None
        self._client.loop_start()
        if not self._answered.wait(max(0.0, deadline - time.monotonic())):
            self.close()
            raise MqttDeliveryError("MQTT: timed out")
        if not self.alive:
            self.close()
            raise MqttDeliveryError("MQTT: the broker refused the connection")

    def publish(self, topic: str, payload: bytes, qos: int, deadline: float) -> None:
        try:
            info = self._client.publish(topic, payload, qos=qos)
            # in slices: a connection lost meanwhile fails now, not at the deadline
            while self.alive and not info.is_published() and time.monotonic() < deadline:
                info.wait_for_publish(min(0.1, max(0.0, deadline - time.monotonic())))
        except (RuntimeError, ValueError):  # not connected, or paho's queue is full
            raise MqttDeliveryError("MQTT: connection lost") from None
        if info.is_published():
            return
        if not self.alive:
            raise MqttDeliveryError("MQTT: connection lost")
        raise MqttDeliveryError("MQTT: the broker did not acknowledge in time")

    def close(self) -> None:
        self.alive = False
        self._client.disconnect()
        self._client.loop_stop()  # prompt: the disconnect wakes the loop, which then ends
        # paho closes its wake-up socket pair only when the client is freed: without these
        # the client and this link form a cycle, freed (sockets unclosed) at the next GC
        self._client.on_connect = None
        self._client.on_disconnect = None


class MqttPublisher:
    """Publishes with kept connections; blocking (call it from a worker thread)."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._links: OrderedDict[Broker, _Link] = OrderedDict()
        self._lock = threading.Lock()

    def publish(self, target: MqttTarget, payload: bytes) -> None:
        """Within the timeout, or MqttDeliveryError."""
        deadline = time.monotonic() + self._timeout_s
        link = self._link(target.broker, deadline)
        try:
            link.publish(target.topic, payload, target.qos, deadline)
        except MqttDeliveryError:
            # a message left queued in paho would go out again on its own later
            self._drop(target.broker, link)
            raise

    def _link(self, broker: Broker, deadline: float) -> _Link:
        with self._lock:
            kept = self._links.get(broker)
            if kept is not None and kept.alive:
                self._links.move_to_end(broker)
                return kept
        if kept is not None:
            self._drop(broker, kept)
        link = _Link(broker, self._timeout_s)
        link.open(deadline)
        with self._lock:
            other = self._links.get(broker)
            if other is not None and other.alive:  # another delivery connected meanwhile
                surplus, link = [link], other
            else:
                self._links[broker] = link
                surplus = []
                while len(self._links) > MAX_LINKS:
                    surplus.append(self._links.popitem(last=False)[1])
        for extra in surplus:
            extra.close()
        return link

    def _drop(self, broker: Broker, link: _Link) -> None:
        with self._lock:
            if self._links.get(broker) is link:
                del self._links[broker]
        link.close()

    def close(self) -> None:
        with self._lock:
            links, self._links = list(self._links.values()), OrderedDict()
        for link in links:
            link.close()
