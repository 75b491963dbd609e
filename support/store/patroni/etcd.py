"""Three etcd members on loopback: Patroni's DCS (who leads, the cluster's configuration)."""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.errors import ConfigurationError
from support.net import LOOPBACK, server_ports
from support.store.patroni.processes import Processes, RunAs

ETCD = "/usr/bin/etcd"


@dataclass(frozen=True, slots=True)
class EtcdMember:
    name: str
    client_port: int
    peer_port: int
    pid: int = 0

    @property
    def client_url(self) -> str:
        return f"http://{LOOPBACK}:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://{LOOPBACK}:{self.peer_port}"


def etcd_argv(
    member: EtcdMember, everyone: tuple[EtcdMember, ...], data: Path, token: str
) -> list[str]:
    initial = ",".join(f"{m.name}={m.peer_url}" for m in everyone)
    return [
        ETCD,
        f"--name={member.name}",
        f"--data-dir={data}",
        f"--listen-client-urls={member.client_url}",
        f"--advertise-client-urls={member.client_url}",
        f"--listen-peer-urls={member.peer_url}",
        f"--initial-advertise-peer-urls={member.peer_url}",
        f"--initial-cluster={initial}",
        f"--initial-cluster-token={token}",
        "--initial-cluster-state=new",
        "--log-level=warn",
    ]


class EtcdCluster:
    """Three etcd members with their data under ``directory``; ``stop()`` ends them all."""

    def __init__(
        self, directory: Path, members: tuple[EtcdMember, ...] = (), size: int = 3
    ) -> None:
        self.directory = directory
        ports = server_ports(2 * size) if not members else []
        self.members = members or tuple(
            EtcdMember(f"etcd{i}", ports[2 * i], ports[2 * i + 1]) for i in range(size)
        )
        self._processes = Processes()

    @property
    def hosts(self) -> list[str]:
        """host:port of every member's client listener (Patroni's ``etcd3.hosts``)."""
        return [f"{LOOPBACK}:{m.client_port}" for m in self.members]

    def start(self, timeout_s: float = 30.0) -> None:
        if not Path(ETCD).exists():
            raise ConfigurationError(f"{ETCD} is not installed (Debian package etcd-server)")
        self.directory.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(8)  # a fresh cluster id, so no stale member can join
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        started = []
        try:
            for member in self.members:
                data = self.directory / member.name
                argv = etcd_argv(member, self.members, data, token)
                log = self.directory / f"{member.name}.log"
                pid = self._processes.spawn(argv, log, RunAs(None, None), env)
                started.append(EtcdMember(member.name, member.client_port, member.peer_port, pid))
            self.members = tuple(started)
            self._wait_healthy(timeout_s)
        except BaseException:
            self.members = tuple(started) or self.members
            self.stop()
            raise

    def _wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not all(self.healthy(m) for m in self.members):
            if time.monotonic() > deadline:
                logs = {m.name: self._tail(m) for m in self.members}
                raise ConfigurationError(f"etcd did not become healthy: {logs}")
            time.sleep(0.2)

    def healthy(self, member: EtcdMember) -> bool:
        return bool(get_json(f"{member.client_url}/health").get("health") == "true")

    def _tail(self, member: EtcdMember) -> str:
        log = self.directory / f"{member.name}.log"
        return log.read_text(errors="replace")[-1500:] if log.exists() else ""

    def stop(self) -> None:
        for member in self.members:
            if member.pid:
                self._processes.stop(member.pid, "etcd")


def get_json(url: str, timeout_s: float = 2.0) -> dict[str, Any]:
    """The JSON body at ``url`` (an error status's body too); {} if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (http)
            body = response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
    except OSError:
        return {}
    try:
        found = json.loads(body)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
