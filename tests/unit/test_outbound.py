"""Which destinations the platform may contact (support.outbound), name resolution stubbed:
tests contact no resolver."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from support.outbound import OutboundPolicy, OutboundRefusedError, UnresolvedHostError


@pytest.fixture
def resolving(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    names: dict[str, str] = {}

    async def getaddrinfo(_loop: Any, host: str, port: Any, **_: Any) -> list[Any]:
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port or 80))]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    return names


async def test_names_are_judged_by_every_address_they_resolve_to(
    resolving: dict[str, str],
) -> None:
    policy = OutboundPolicy.parse("127.0.0.0/8")
    resolving |= {"public.example": "93.184.216.34", "inside.example": "10.1.2.3"}
    await policy.check("http://public.example/notify")
    await policy.check("http://127.0.0.1:1026/notify")
    with pytest.raises(OutboundRefusedError, match="not an allowed destination"):
        await policy.check("http://inside.example/notify")


async def test_a_name_that_does_not_resolve_is_told_apart_and_still_refused(
    resolving: dict[str, str],
) -> None:
    """Subscriptions accept it (each delivery judges it again); nothing is contacted."""
    with pytest.raises(UnresolvedHostError, match="does not resolve"):
        await OutboundPolicy.parse("").check("http://not-yet.example/notify")
    assert issubclass(UnresolvedHostError, OutboundRefusedError)
