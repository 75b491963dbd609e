"""Two PostgreSQL 15 nodes under Patroni, synchronous replication, etcd as the DCS.

Clients reach the cluster through one libpq multi-host URL (``dsn()``): libpq tries
each node and keeps the one that matches ``target_session_attrs`` (``read-write``
finds the primary, ``prefer-standby`` the standby while there is one).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from support.errors import ConfigurationError
from support.net import LOOPBACK, server_ports
from support.store.patroni.config import (
    APP_DATABASE,
    APP_USER,
    SUPERUSER,
    NodePorts,
    Passwords,
    Timings,
    node_config,
    postgres_bin_dir,
)
from support.store.patroni.etcd import EtcdCluster, get_json
from support.store.patroni.processes import (
    Processes,
    RunAs,
    children_of,
    kill,
)

PATRONI = "/usr/bin/patroni"
PRIMARY_ROLES = ("master", "primary")  # Patroni 3.0 still says "master"


@dataclass(frozen=True, slots=True)
class PatroniNode:
    ports: NodePorts
    pid: int = 0

    @property
    def name(self) -> str:
        return self.ports.name


class PatroniCluster:
    """``nodes`` Patroni-managed PostgreSQL servers over an ``EtcdCluster``; ``stop()``
    ends every process it started, whatever state the cluster is in."""

    def __init__(
        self,
        directory: Path,
        etcd: EtcdCluster | None = None,
        passwords: Passwords | None = None,
        timings: Timings | None = None,
        nodes: tuple[PatroniNode, ...] = (),
        node_root: Path | None = None,
    ) -> None:
        self.directory = directory
        self.etcd = etcd or EtcdCluster(directory / "etcd")
        self.passwords = passwords or Passwords.generate()
        self.timings = timings or Timings()
        ports = server_ports(4) if not nodes else []
        self.nodes = nodes or tuple(
            PatroniNode(NodePorts(f"pg{i}", ports[2 * i], ports[2 * i + 1])) for i in range(2)
        )
        self.node_root = node_root
        self.killed_at: float | None = None
        self._processes = Processes()
        self._run_as = RunAs.for_postgres()

    def start(self, timeout_s: float = 120.0) -> None:
        """etcd, then both nodes; returns once there is a primary with a sync standby
        and the application's database exists."""
        for binary in (PATRONI, str(postgres_bin_dir() / "postgres")):
            if not Path(binary).exists():
                raise ConfigurationError(f"{binary} is not installed (Debian: patroni, postgresql)")
        try:
            self.etcd.start()
            self.node_root = self._make_node_root()
            self.nodes = tuple(self._spawn(node) for node in self.nodes)
            self.wait_ready(timeout_s)
            self._create_app_database()
        except BaseException:
            self.stop()
            raise

    def _make_node_root(self) -> Path:
        """Where the nodes live. As root, a private directory of ``postgres``'s own under
        /tmp: it must reach its data, and the caller's temp dirs are closed to it."""
        if self._run_as.uid is None:
            root = self.directory / "nodes"
            root.mkdir(parents=True, exist_ok=True)
            return root
        root = Path(tempfile.mkdtemp(prefix="ciudad-patroni-"))
        self._run_as.own(root)
        return root

    def _spawn(self, node: PatroniNode) -> PatroniNode:
        assert self.node_root is not None
        home = self.node_root / node.name
        home.mkdir(mode=0o700, exist_ok=True)
        config = node_config(node.ports, home, self.etcd.hosts, self.passwords, self.timings)
        config_file = home / "patroni.yml"
        with os.fdopen(os.open(config_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as out:
            json.dump(config, out, indent=1)  # JSON is YAML: Patroni reads it as it is
        log = home / "patroni.log"
        log.touch(mode=0o600)
        self._run_as.own(home, config_file, log)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
        pid = self._processes.spawn([PATRONI, str(config_file)], log, self._run_as, env)
        return PatroniNode(node.ports, pid)

    def status(self, node: PatroniNode) -> dict[str, Any]:
        """The node's own view (``GET /patroni``: role, state, timeline); {} if down."""
        return get_json(f"{node.ports.rest_url}/patroni")

    def members(self) -> list[dict[str, Any]]:
        """The cluster as the DCS sees it (``GET /cluster`` of any node that answers)."""
        for node in self.nodes:
            found = get_json(f"{node.ports.rest_url}/cluster").get("members")
            if isinstance(found, list):
                return found
        return []

    def primary(self) -> PatroniNode | None:
        """The running node that says it is the primary, if any."""
        for node in self.nodes:
            state = self.status(node)
            if state.get("role") in PRIMARY_ROLES and state.get("state") == "running":
                return node
        return None

    def standby(self) -> PatroniNode | None:
        """The running node that says it is a replica, if any."""
        for node in self.nodes:
            state = self.status(node)
            if state.get("role") == "replica" and state.get("state") == "running":
                return node
        return None

    def wait_ready(self, timeout_s: float) -> None:
        """Until a leader and a streaming synchronous standby are registered."""
        deadline = time.monotonic() + timeout_s
        while not self._has_sync_pair():
            dead = [n.name for n in self.nodes if not self._processes.is_running(n.pid, "patroni")]
            if dead or time.monotonic() > deadline:
                why = f"{', '.join(dead)} exited" if dead else f"not ready in {timeout_s:g} s"
                raise ConfigurationError(f"Patroni cluster {why}: {self.logs()}")
            time.sleep(0.3)

    def _has_sync_pair(self) -> bool:
        roles = {m.get("role"): m.get("state") for m in self.members()}
        return roles.get("leader") == "running" and roles.get("sync_standby") in (
            "running",
            "streaming",
        )

    def logs(self) -> str:
        """The end of each node's Patroni log (for a failure message)."""
        tails = []
        for node in self.nodes:
            log = (self.node_root or self.directory) / node.name / "patroni.log"
            with contextlib.suppress(OSError):
                tails.append(f"--- {node.name}\n{log.read_text(errors='replace')[-2000:]}")
        return "\n".join(tails)

    def dsn(
        self,
        target_session_attrs: str = "read-write",
        dbname: str = APP_DATABASE,
        user: str = APP_USER,
    ) -> str:
        """A libpq multi-host URL over every node (the application's role and database
        unless told otherwise); ``connect_timeout`` bounds the wait on a dead host."""
        password = self.passwords.superuser if user == SUPERUSER else self.passwords.app
        hosts = ",".join(f"{LOOPBACK}:{n.ports.pg_port}" for n in self.nodes)
        return (
            f"postgresql://{user}:{password}@{hosts}/{dbname}"
            f"?target_session_attrs={target_session_attrs}&connect_timeout=2"
        )

    def _create_app_database(self) -> None:
        url = self.dsn(dbname="postgres", user=SUPERUSER)
        with psycopg.connect(url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (APP_DATABASE,)
            ).fetchone()
            if exists is None:
                conn.execute(f'CREATE DATABASE "{APP_DATABASE}" OWNER "{APP_USER}"')

    def kill_primary(self) -> PatroniNode:
        """A machine dying: SIGKILL the primary's Patroni, its postmaster and backends.
        Records when (``killed_at``, monotonic); returns the node killed."""
        node = self.primary()
        if node is None:
            raise ConfigurationError("no primary to kill")
        postmaster = self._postmaster_pid(node)
        self.killed_at = time.monotonic()
        kill(node.pid)
        if postmaster is not None:
            backends = children_of(postmaster)
            kill(postmaster)
            for pid in backends:
                kill(pid)
        self._processes.wait_gone(node.pid, "patroni", 5.0)
        return node

    def wait_for_new_primary(self, timeout_s: float = 60.0) -> float:
        """Seconds from ``kill_primary()`` until the read-write URL commits a write."""
        if self.killed_at is None:
            raise ConfigurationError("kill_primary() first")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._commits():
                return time.monotonic() - self.killed_at
            time.sleep(0.1)
        raise ConfigurationError(f"no new primary within {timeout_s} s: {self.logs()}")

    def _commits(self) -> bool:
        try:
            with psycopg.connect(self.dsn(), autocommit=True, connect_timeout=1) as conn:
                conn.execute("SELECT txid_current()")  # a transaction id: a real commit
            return True
        except psycopg.Error:
            return False

    def _postmaster_pid(self, node: PatroniNode) -> int | None:
        if self.node_root is None:
            return None
        pid_file = self.node_root / node.name / "data" / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().splitlines()[0])
            return pid if self._processes.is_running(pid, "postgres") else None
        return None

    def stop(self) -> None:
        """Stops every node (Patroni stops its PostgreSQL), kills any postmaster left
        behind, stops etcd and removes a node root made under /tmp."""
        for node in self.nodes:
            postmaster = self._postmaster_pid(node)
            if node.pid:
                self._processes.stop(node.pid, "patroni", timeout_s=30.0)
            if postmaster is not None and self._processes.is_running(postmaster, "postgres"):
                for pid in [postmaster, *children_of(postmaster)]:
                    kill(pid)
                self._processes.wait_gone(postmaster, "postgres", 10.0)
        self.etcd.stop()
        if self.node_root is not None and self.node_root.name.startswith("ciudad-patroni-"):
            shutil.rmtree(self.node_root, ignore_errors=True)
