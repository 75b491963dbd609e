"""The mosquitto.conf that `ciudad broker-config` writes (its broker runs in
tests/integration/test_broker_hardening.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from acquisition import BrokerLayout, mosquitto_conf
from support import Settings
from support.tls import TlsFiles

TLS = TlsFiles(Path("/c/tls/ca.crt"), Path("/c/tls/server.crt"), Path("/c/tls/server.key"))


def listeners(text: str) -> dict[str, list[str]]:
    """Each listener line with the option lines that follow it (until a blank line)."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("listener "):
            current = found.setdefault(line, [])
        elif not line:
            current = None
        elif current is not None:
            current.append(line)
    return found


def test_the_gateway_listens_alone_on_loopback_and_devices_only_as_themselves() -> None:
    text = mosquitto_conf(BrokerLayout(Path("/c"), tls=TLS, plain_port=1884))
    assert text.splitlines()[2] == "per_listener_settings true"
    found = listeners(text)
    assert set(found) == {"listener 1883 127.0.0.1", "listener 8883", "listener 1884"}
    gateway = found["listener 1883 127.0.0.1"]
    assert "password_file /c/gateway.passwd" in gateway
    assert "use_username_as_clientid true" not in gateway  # several gateways, one user
    for devices in (found["listener 8883"], found["listener 1884"]):
        assert "password_file /c/passwd" in devices
        assert "allow_anonymous false" in devices
        assert "use_username_as_clientid true" in devices
    assert "keyfile /c/tls/server.key" in found["listener 8883"]


def test_the_broker_holds_a_large_backlog_and_keeps_it_on_disk() -> None:
    lines = mosquitto_conf(BrokerLayout(Path("/c"), tls=TLS)).splitlines()
    for line in (
        "max_queued_messages 1000000",
        "max_queued_bytes 0",
        "max_inflight_messages 10000",
        "persistence true",
        "persistence_location /var/lib/mosquitto/",
        "log_dest file /var/log/mosquitto/mosquitto.log",
        "user mosquitto",
    ):
        assert line in lines


def test_layouts_that_cannot_work_are_refused() -> None:
    assert BrokerLayout(Path("/c")).problems() == [
        "devices need a listener: give --tls and/or --plain-port"
    ]
    clash = BrokerLayout(Path("/c"), plain_port=1883).problems()
    assert clash == ["port 1883 is both the gateway's and the devices'"]
    apart = BrokerLayout(Path("/c"), plain_port=1883, device_host="10.0.0.5")
    assert apart.problems() == []


def test_a_gateway_client_id_can_never_be_a_device_s_user_name() -> None:
    with pytest.raises(ValidationError, match="gateway_client_id"):
        Settings(gateway_client_id="leon-sensors.noise-001")


def test_the_security_guide_shows_exactly_what_the_command_writes() -> None:
    directory = Path("/etc/mosquitto/ciudad")
    tls = TlsFiles(
        directory / "tls/ca.crt", directory / "tls/server.crt", directory / "tls/server.key"
    )
    written = mosquitto_conf(BrokerLayout(directory, tls=tls))
    guide = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    assert f"```\n{written}```" in guide, "docs/security.md shows a stale mosquitto.conf"
