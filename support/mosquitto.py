"""A private mosquitto broker: generated configuration, start, readiness, stop.

Used by ``ciudad demo`` and by the integration-test fixtures.  The listener
binds to loopback only, persistence keeps QoS 1 sessions across broker
restarts, and the queue limits are raised so that a slow or stopped gateway is
held back by the broker instead of messages being dropped (docs/architecture.md).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from support.errors import ConfigurationError
from support.net import LOOPBACK, wait_for_port
from support.tls import TlsFiles

SEARCH_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")
# Held for a disconnected or slow persistent client (the gateway): mosquitto's default of
# 1000 queued messages would drop the rest of a burst silently, after acknowledging it.
QUEUE_LIMITS = (
    "max_inflight_messages 10000",
    "max_queued_messages 1000000",
    "max_queued_bytes 0",
)


def find_mosquitto() -> str:
    found = shutil.which("mosquitto") or next((p for p in SEARCH_PATHS if Path(p).exists()), None)
    if found is None:
        raise ConfigurationError(
            "mosquitto is not installed; run ./dev.sh setup (as root it installs it with apt-get)"
        )
    return found


@dataclass(frozen=True, slots=True)
class BrokerSecurity:
    """Per-device authentication and ACLs, and optionally a TLS listener."""

    password_file: Path
    acl_file: Path
    tls: TlsFiles | None = None
    tls_port: int | None = None


def _security_lines(security: BrokerSecurity | None, host: str) -> list[str]:
    if security is None:
        return ["allow_anonymous true"]
    lines = [
        "allow_anonymous false",
        f"password_file {security.password_file}",
        f"acl_file {security.acl_file}",
    ]
    if security.tls is not None and security.tls_port is not None:
        lines += [
            f"listener {security.tls_port} {host}",
            f"cafile {security.tls.ca_cert}",
            f"certfile {security.tls.server_cert}",
            f"keyfile {security.tls.server_key}",
            "tls_version tlsv1.2",
        ]
    return lines


def broker_config(
    port: int, directory: Path, host: str = LOOPBACK, security: BrokerSecurity | None = None
) -> str:
    """mosquitto.conf text: loopback listener(s), persistence, optional auth/ACL/TLS."""
    # As root, mosquitto would switch to user "mosquitto", who cannot write our directory.
    run_as = ["user root"] if os.geteuid() == 0 else []
    return "\n".join(
        [
            *run_as,
            "per_listener_settings false",
            f"listener {port} {host}",
            *_security_lines(security, host),
            "persistence true",
            f"persistence_location {directory}/",
            f"log_dest file {directory}/mosquitto.log",
            "log_type error",
            "log_type warning",
            "log_type notice",
            *QUEUE_LIMITS,
            "autosave_interval 5",
            "",
        ]
    )


@dataclass
class MosquittoBroker:
    """A mosquitto process we own; ``start()`` waits until it accepts connections.

    With ``config_file`` (e.g. what ``ciudad broker-config`` wrote) that file is used as
    it is, and ``port`` is only where readiness is probed.
    """

    port: int
    directory: Path
    security: BrokerSecurity | None = None
    host: str = LOOPBACK
    process: subprocess.Popen[bytes] | None = None
    config_file: Path | None = None

    @property
    def config_path(self) -> Path:
        return self.config_file or self.directory / "mosquitto.conf"

    def start(self, timeout_s: float = 10.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.config_file is None:
            self.config_path.write_text(
                broker_config(self.port, self.directory, host=self.host, security=self.security)
            )
        self.process = subprocess.Popen(
            [find_mosquitto(), "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        probe = LOOPBACK if self.host in ("0.0.0.0", "") else self.host  # noqa: S104
        if not wait_for_port(self.port, host=probe, timeout_s=timeout_s):
            self.stop()
            log_file = self.directory / "mosquitto.log"
            log_text = log_file.read_text() if log_file.exists() else ""
            raise ConfigurationError(f"mosquitto did not start on port {self.port}: {log_text}")

    def reload(self) -> None:
        """SIGHUP: mosquitto re-reads its password and ACL files (revocations apply)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGHUP)

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None
