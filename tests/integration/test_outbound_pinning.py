"""Outbound connections go to the addresses the policy vetted, not to a name resolved a
second time (DNS rebinding), for HTTP notifications, @context links and plain-MQTT
notifications. Name resolution is stubbed (tests contact no resolver); the receivers
are real, on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from interoperability.jsonld.resolver import ContextResolver, ContextUnavailableError
from interoperability.subscriptions.model import Endpoint
from interoperability.subscriptions.transport import DeliveryError, NotificationSender
from support.mosquitto import MosquittoBroker
from support.net import LOOPBACK
from support.outbound import OutboundPolicy
from tests.helpers.context_server import ContextServer, serving_context
from tests.helpers.mqtt_listening import listening
from tests.helpers.notify_receiver import Receiver, receiving

pytestmark = pytest.mark.integration
PUBLIC = "93.184.216.34"  # what the name shows the check; 127.0.0.1 is its second answer
NOTIFICATION = {"type": "Notification", "data": []}


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """host -> its answers in turn (the last one repeats), as a rebinding name gives them."""
    answers: dict[str, list[str]] = {}

    async def getaddrinfo(_loop: Any, host: str, port: Any, **_: Any) -> list[Any]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        queue = answers[host]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 80))]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


async def _send(policy: OutboundPolicy, uri: str) -> None:
    sender = NotificationSender(2.0, policy)
    try:
        await sender.send(Endpoint(uri=uri), "leon", NOTIFICATION)
    finally:
        await sender.close()


async def test_a_name_that_rebinds_to_loopback_after_the_check_is_not_contacted(
    names: dict[str, list[str]], receiver: Receiver
) -> None:
    names["rebind.example"] = [PUBLIC, LOOPBACK]
    with pytest.raises(DeliveryError, match="not allowed"):
        await _send(OutboundPolicy(), f"http://rebind.example:{receiver.port}/notify")
    assert receiver.requests == 0, "the connection went nowhere the policy refuses"


async def test_an_allowed_name_is_reached_at_the_address_it_was_vetted_with(
    names: dict[str, list[str]], receiver: Receiver
) -> None:
    names["inside.example"] = [LOOPBACK]
    await _send(OutboundPolicy.parse("127.0.0.0/8"), f"http://inside.example:{receiver.port}/n")
    assert receiver.notifications == [NOTIFICATION]


@pytest.fixture
def context_server() -> Iterator[ContextServer]:
    with serving_context({"@context": {"pinned": "https://example.org/pinned"}}) as served:
        yield served


async def test_a_context_link_that_rebinds_is_not_fetched(
    names: dict[str, list[str]], context_server: ContextServer
) -> None:
    port = context_server.port
    names["rebind.example"] = [PUBLIC, LOOPBACK]
    names["inside.example"] = [LOOPBACK]
    resolver = ContextResolver(OutboundPolicy.parse("127.0.0.0/8"))
    refusing = ContextResolver(OutboundPolicy())
    try:
        await resolver.resolve(f"http://inside.example:{port}/allowed.jsonld")
        with pytest.raises(ContextUnavailableError):
            await refusing.resolve(f"http://rebind.example:{port}/rebound.jsonld")
    finally:
        await resolver.close()
        await refusing.close()
    assert context_server.asked == ["/allowed.jsonld"], "the rebound link was never asked for"


async def test_plain_mqtt_publishes_to_the_vetted_address_and_refuses_a_rebinding_name(
    names: dict[str, list[str]], mosquitto: MosquittoBroker
) -> None:
    # paho resolves names itself, unstubbed: "broker.example" reaches the broker only
    # because the sender hands paho the address it vetted
    names["broker.example"] = [LOOPBACK]
    with listening(mosquitto.port, "city/pinned") as listener:
        await _send(
            OutboundPolicy.parse("127.0.0.0/8"),
            f"mqtt://broker.example:{mosquitto.port}/city/pinned",
        )
        topic, message = await asyncio.to_thread(listener.next)
    assert (topic, message["body"]) == ("city/pinned", NOTIFICATION)
    names["rebind.example"] = [PUBLIC, LOOPBACK]
    with pytest.raises(DeliveryError, match="not allowed"):
        await _send(OutboundPolicy(), f"mqtt://rebind.example:{mosquitto.port}/city/pinned")
