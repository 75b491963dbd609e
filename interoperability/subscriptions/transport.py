"""Sending one notification to an endpoint: HTTP POST or MQTT publish (QoS 1).

Success means the endpoint took it: a 2xx answer, or the broker's PUBACK.
Anything else raises DeliveryError with a short reason for the status.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from interoperability.subscriptions.model import Endpoint, is_reserved
from support.outbound import OutboundPolicy, OutboundRefusedError

JSONLD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"


class DeliveryError(Exception):
    """The endpoint did not take the notification."""


def _headers(endpoint: Endpoint, tenant: str, context: str | None = None) -> dict[str, str]:
    headers = {"Content-Type": endpoint.accept, "NGSILD-Tenant": tenant}
    if context is not None and endpoint.accept == "application/json":
        # JSON names its terms' context in a Link header (NGSI-LD 6.3.5), JSON-LD in the body.
        headers["Link"] = f'<{context}>; rel="{JSONLD_CONTEXT_REL}"; type="application/ld+json"'
    for info in endpoint.receiverInfo or ():
        if "key" in info and "value" in info and not is_reserved(info["key"]):
            headers[info["key"]] = info["value"]
    return headers


class _MqttLink:
    """One connected client per broker, publishing with QoS 1."""

    def __init__(self, host: str, port: int) -> None:
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"ciudad-notifier-{uuid.uuid4().hex[:8]}"
        )
        self._client.connect_async(host, port, keepalive=30)
        self._client.loop_start()

    def publish(self, topic: str, payload: bytes, timeout_s: float) -> None:
        info = self._client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout_s)
        if not info.is_published():
            raise DeliveryError(f"MQTT broker did not acknowledge in {timeout_s:g} s")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


class NotificationSender:
    """Delivers to endpoints ``outbound`` allows. Failure reasons are short and fixed
    (they are shown to subscribers): never an exception's text about the network."""

    def __init__(self, timeout_s: float, outbound: OutboundPolicy) -> None:
        self._timeout_s = timeout_s
        self._outbound = outbound
        self._http = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self._mqtt: dict[tuple[str, int], _MqttLink] = {}
        self._mqtt_lock = threading.Lock()

    async def send(
        self,
        endpoint: Endpoint,
        tenant: str,
        notification: dict[str, Any],
        context: str | None = None,
    ) -> None:
        """POSTs (or publishes) one notification; ``context`` is the subscriber's context
        for a JSON endpoint's Link header."""
        try:
            await self._outbound.check(endpoint.uri)
        except OutboundRefusedError:
            raise DeliveryError("destination not allowed (CIUDAD_OUTBOUND_ALLOW)") from None
        parts = urlsplit(endpoint.uri)
        if parts.scheme == "mqtt":
            await self._publish(endpoint, tenant, notification)
            return
        try:
            answer = await self._http.post(
                endpoint.uri,
                content=json.dumps(notification),
                headers=_headers(endpoint, tenant, context),
            )
        except httpx.TimeoutException:
            raise DeliveryError("timed out") from None
        except httpx.HTTPError:
            raise DeliveryError("connection failed") from None
        if not answer.is_success:
            raise DeliveryError(f"HTTP {answer.status_code}")

    async def _publish(self, endpoint: Endpoint, tenant: str, notification: dict[str, Any]) -> None:
        parts = urlsplit(endpoint.uri)
        host, port = parts.hostname or "127.0.0.1", parts.port or 1883
        # NGSI-LD's MQTT binding: metadata (the would-be HTTP headers) and body.
        payload = json.dumps({"metadata": _headers(endpoint, tenant), "body": notification})

        def publish() -> None:
            with self._mqtt_lock:
                link = self._mqtt.get((host, port)) or _MqttLink(host, port)
                self._mqtt[(host, port)] = link
            link.publish(parts.path.lstrip("/"), payload.encode(), self._timeout_s)

        try:
            await asyncio.to_thread(publish)
        except (OSError, ValueError, RuntimeError):
            raise DeliveryError("MQTT: connection failed") from None

    async def close(self) -> None:
        await self._http.aclose()
        for link in self._mqtt.values():
            link.close()
