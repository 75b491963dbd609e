"""Patroni's configuration for one node: pure data, written to the node's YAML file.

Timings are short so a failover takes seconds on loopback: the leader key lives ``ttl``
seconds in etcd, Patroni runs its loop every ``loop_wait`` seconds, and gives up on
etcd or PostgreSQL after ``retry_timeout`` (Patroni wants loop_wait + 2 * retry_timeout
<= ttl). A dead primary's key expires after at most ``ttl``; the sync standby then
takes it and promotes itself.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.net import LOOPBACK

PG_ROOT = Path("/usr/lib/postgresql")  # Debian's server binaries, one folder per version


def postgres_bin_dir(root: Path = PG_ROOT) -> Path:
    """The newest installed server's binaries (15 on Debian 12, 17 on Debian 13)."""
    versions = [p.parent.parent for p in root.glob("*/bin/postgres")]
    numbered = sorted((int(v.name), v) for v in versions if v.name.isdigit())
    return numbered[-1][1] / "bin" if numbered else root / "15" / "bin"


SCOPE = "ciudad"
APP_USER = "ciudad"
APP_DATABASE = "ciudad"
SUPERUSER = "postgres"
REPLICATION_USER = "replicator"


@dataclass(frozen=True, slots=True)
class Timings:
    ttl: int = 8
    loop_wait: int = 1
    retry_timeout: int = 3


@dataclass(frozen=True, slots=True)
class Passwords:
    """Generated when a cluster is created; kept only in its directory (mode 0600)."""

    superuser: str = field(repr=False)
    replication: str = field(repr=False)
    app: str = field(repr=False)

    @classmethod
    def generate(cls) -> Passwords:
        # Hex: nothing to quote in a URL, a .pgpass line or a pg_hba-free YAML string.
        return cls(secrets.token_hex(16), secrets.token_hex(16), secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class NodePorts:
    name: str
    pg_port: int
    rest_port: int

    @property
    def rest_url(self) -> str:
        return f"http://{LOOPBACK}:{self.rest_port}"


# Passwords on every TCP connection; only loopback is let in at all.
PG_HBA = [
    f"local all {SUPERUSER} scram-sha-256",
    f"host replication {REPLICATION_USER} {LOOPBACK}/32 scram-sha-256",
    f"host all all {LOOPBACK}/32 scram-sha-256",
]

PARAMETERS = {
    # remote_apply: a commit returns once the sync standby has applied it, so a read on
    # that standby sees every write acknowledged before it (docs/scaling.md).
    "synchronous_commit": "remote_apply",
    "wal_level": "replica",
    "hot_standby": "on",
    "wal_log_hints": "on",
    "max_wal_senders": 5,
    "max_replication_slots": 5,
    "max_connections": 60,
    "shared_buffers": "32MB",
    "wal_keep_size": "128MB",
}


def node_config(
    node: NodePorts,
    directory: Path,
    etcd_hosts: list[str],
    passwords: Passwords,
    timings: Timings,
) -> dict[str, Any]:
    """The YAML document (as a dict) for the Patroni node ``node`` living in ``directory``."""
    return {
        "scope": SCOPE,
        "name": node.name,
        "restapi": {
            "listen": f"{LOOPBACK}:{node.rest_port}",
            "connect_address": f"{LOOPBACK}:{node.rest_port}",
        },
        # Patroni 3.0 speaks etcd's v3 API through its JSON gateway: no --enable-v2 needed.
        "etcd3": {"hosts": etcd_hosts},
        "bootstrap": _bootstrap(passwords, timings),
        "postgresql": {
            "listen": f"{LOOPBACK}:{node.pg_port}",
            "connect_address": f"{LOOPBACK}:{node.pg_port}",
            "data_dir": str(directory / "data"),
            "bin_dir": str(postgres_bin_dir()),
            "pgpass": str(directory / "pgpass"),
            "authentication": {
                "superuser": {"username": SUPERUSER, "password": passwords.superuser},
                "replication": {"username": REPLICATION_USER, "password": passwords.replication},
                "rewind": {"username": SUPERUSER, "password": passwords.superuser},
            },
            # The socket sits in the node's private directory (short path, no one else).
            "parameters": {"unix_socket_directories": str(directory)},
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False},
    }


def _bootstrap(passwords: Passwords, timings: Timings) -> dict[str, Any]:
    return {
        "dcs": {
            "ttl": timings.ttl,
            "loop_wait": timings.loop_wait,
            "retry_timeout": timings.retry_timeout,
            "maximum_lag_on_failover": 1024 * 1024,
            "synchronous_mode": True,
            "postgresql": {"use_pg_rewind": True, "parameters": PARAMETERS},
        },
        "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "data-checksums"],
        "pg_hba": PG_HBA,
        "users": {APP_USER: {"password": passwords.app, "options": ["createdb"]}},
    }
