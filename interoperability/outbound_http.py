"""HTTP clients for the URLs clients name (``@context`` links, notification endpoints)
that connect only to addresses the outbound policy allows.

Checking a URL's host and then letting the HTTP client resolve it again leaves a gap: a
name can answer with a public address to the check and with 127.0.0.1 to the connection
(DNS rebinding). Here the name is resolved once per connection, every address is
checked, and the connection goes to one of those very addresses. TLS still verifies the
certificate against the name in the URL.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpcore
import httpx

from support.outbound import OutboundPolicy


class _VettedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network layer, connecting to vetted addresses only. The ``timeout``
    parameters are httpcore's interface (ASYNC109)."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: Exception = httpcore.ConnectError(f"{host!r:.100} has no address")
        for address in await self._policy.vetted_addresses(host, port):
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the name's next address, as a resolver-driven client would
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("no unix sockets for outbound requests")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _VettedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend of its own: its pool is swapped for one with ours
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_VettedBackend(policy),
        )


def vetted_http_client(policy: OutboundPolicy, timeout_s: float) -> httpx.AsyncClient:
    """An HTTP client that reaches only what ``policy`` allows, follows no redirect and
    ignores proxy settings from the environment (a proxy would resolve names itself)."""
    return httpx.AsyncClient(
        transport=_VettedTransport(policy),
        timeout=timeout_s,
        follow_redirects=False,
        trust_env=False,
    )
