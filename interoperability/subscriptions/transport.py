"""Sending one notification to an endpoint: HTTP POST or MQTT publish (mqtt.py).

Success means the endpoint took it: a 2xx answer, or the broker's acknowledgement
for the endpoint's QoS. Anything else raises DeliveryError with a short reason for
the status.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from interoperability.outbound_http import vetted_http_client
from interoperability.subscriptions.model import Endpoint, is_reserved
from interoperability.subscriptions.mqtt import (
    MQTT_SCHEMES,
    MqttDeliveryError,
    MqttPublisher,
    MqttTarget,
    mqtt_target,
)
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


class NotificationSender:
    """Delivers to endpoints ``outbound`` allows. Failure reasons are short and fixed
    (they are shown to subscribers): never an exception's text about the network."""

    def __init__(self, timeout_s: float, outbound: OutboundPolicy) -> None:
        self._timeout_s = timeout_s
        self._outbound = outbound
        self._http = vetted_http_client(outbound, timeout_s)
        self._mqtt = MqttPublisher(timeout_s)

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
        if urlsplit(endpoint.uri).scheme in MQTT_SCHEMES:
            await self._publish(endpoint, tenant, notification, context)
            return
        try:
            answer = await self._http.post(
                endpoint.uri,
                content=json.dumps(notification),
                headers=_headers(endpoint, tenant, context),
            )
        except OutboundRefusedError:  # the name answered otherwise to the connection
            raise DeliveryError("destination not allowed (CIUDAD_OUTBOUND_ALLOW)") from None
        except httpx.TimeoutException:
            raise DeliveryError("timed out") from None
        except httpx.HTTPError:
            raise DeliveryError("connection failed") from None
        if not answer.is_success:
            raise DeliveryError(f"HTTP {answer.status_code}")

    async def _publish(
        self,
        endpoint: Endpoint,
        tenant: str,
        notification: dict[str, Any],
        context: str | None,
    ) -> None:
        try:
            target = await self._pinned(mqtt_target(endpoint.uri, endpoint.notifierInfo))
        except ValueError:
            raise DeliveryError("MQTT: not a valid endpoint") from None
        except OutboundRefusedError:
            raise DeliveryError("destination not allowed (CIUDAD_OUTBOUND_ALLOW)") from None
        # NGSI-LD's MQTT binding: metadata (what HTTP would send as headers) and body.
        metadata = _headers(endpoint, tenant, context)
        payload = json.dumps({"metadata": metadata, "body": notification}).encode()
        try:
            # the worker thread keeps its own deadline; this one only bounds the wait for it
            # when the network stalls past paho's (a TLS handshake)
            await asyncio.wait_for(
                asyncio.to_thread(self._mqtt.publish, target, payload), self._timeout_s + 1
            )
        except MqttDeliveryError as exc:
            raise DeliveryError(str(exc)) from None
        except TimeoutError:
            raise DeliveryError("MQTT: timed out") from None

    async def _pinned(self, target: MqttTarget) -> MqttTarget:
        """A plain-MQTT target at an address the policy vetted, not at a name the client
        would resolve again (DNS rebinding). Over TLS the name stays: the certificate is
        checked against it, so another address could not pass for it."""
        if target.broker.tls:
            return target
        broker = target.broker
        (address, *_) = await self._outbound.vetted_addresses(broker.host, broker.port)
        return replace(target, broker=replace(broker, host=str(address)))

    async def close(self) -> None:
        await self._http.aclose()
        await asyncio.to_thread(self._mqtt.close)
