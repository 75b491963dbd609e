"""Loopback networking helpers."""

from __future__ import annotations

import ipaddress
import random
import socket
import time
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def server_ports(count: int, taken: set[int] | None = None) -> list[int]:
    """``count`` distinct free loopback ports below the ephemeral range, none in ``taken``
    (to which they are added), for the members of a cluster.

    Members connect to each other all the time, and each outgoing connection takes an
    ephemeral source port: a listening port picked from that range (``free_port()``) can
    be taken by one of them before a member binds it, or before a killed member restarts
    on it."""
    low = _ephemeral_low()
    used = taken if taken is not None else set()
    chosen: list[int] = []
    while len(chosen) < count:
        port = random.randrange(max(low - 12000, 1024), low)  # noqa: S311 (not a secret)
        if port not in used and port_is_free(port):
            used.add(port)
            chosen.append(port)
    return chosen


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True if a server could listen on host:port now (as uvicorn would, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, host: str = LOOPBACK, timeout_s: float = 10.0) -> bool:
    """True once something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
