"""Which addresses the platform may contact on a client's behalf.

Clients name URLs the platform then fetches or calls: JSON-LD ``@context`` links and
subscription endpoints. Left open, that lets anyone probe or reach services inside
the platform's network (server-side request forgery). Public addresses are allowed;
loopback, private, link-local, multicast, reserved and unspecified addresses are
refused unless ``CIUDAD_OUTBOUND_ALLOW`` names them (networks such as ``127.0.0.0/8``
or host names). Every address a name resolves to is checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from support.errors import CiudadError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefusedError(CiudadError):
    """The URL's host is not one the platform may contact."""


class UnresolvedHostError(OutboundRefusedError):
    """The name does not resolve now: nothing can be contacted, nor judged, until it does."""


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    networks: tuple[Network, ...] = ()
    names: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> OutboundPolicy:
        """From ``CIUDAD_OUTBOUND_ALLOW``: comma-separated networks, addresses or names."""
        networks: list[Network] = []
        names: set[str] = set()
        for item in (i.strip() for i in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                names.add(item.lower())
        return cls(tuple(networks), frozenset(names))

    def allows_address(self, address: Address) -> bool:
        if any(address in network for network in self.networks):
            return True
        return address.is_global and not address.is_multicast

    async def check(self, url: str) -> None:
        """Returns if ``url``'s host may be contacted; OutboundRefusedError otherwise."""
        parts = urlsplit(url)
        host = parts.hostname
        if not host:
            raise OutboundRefusedError(f"{url!r:.100} names no host")
        if host.lower() not in self.names:
            await self.vetted_addresses(host, parts.port)

    async def vetted_addresses(self, host: str, port: int | None) -> list[Address]:
        """The addresses ``host`` resolves to now, all of them allowed (a name allowed by
        name: whatever it resolves to); OutboundRefusedError otherwise. A connection made
        to these, not to the name resolved again, gives a name no time to change its
        answer after the check (DNS rebinding)."""
        addresses = await _addresses(host, port)
        if host.lower() in self.names:
            return addresses
        for address in addresses:
            if not self.allows_address(address):
                raise OutboundRefusedError(f"{host!r:.100} is not an allowed destination")
        return addresses


async def _addresses(host: str, port: int | None) -> list[Address]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise UnresolvedHostError(f"{host!r:.100} does not resolve") from None
    return [ipaddress.ip_address(info[4][0]) for info in infos]
