"""A private NATS JetStream cluster: N nats-server nodes on loopback, each with MQTT.

Used by the integration tests, the NATS bench and ``scripts/nats_cluster.sh`` (a
local trial, docs/scaling.md).  Every node has its own client, route, MQTT and
monitoring port and its own JetStream store, so a node can be killed (SIGKILL,
as a crash) and restarted on the same storage, and the cluster waited on until
its JetStream meta leader and streams are healthy again.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.errors import ConfigurationError
from support.net import LOOPBACK, server_ports, wait_for_port

SEARCH_PATHS = ("/usr/sbin/nats-server", "/usr/local/bin/nats-server", "/usr/bin/nats-server")
CLUSTER_NAME = "ciudad"
STATE_FILE = "cluster.json"


def find_nats_server() -> str:
    found = shutil.which("nats-server") or next((p for p in SEARCH_PATHS if Path(p).exists()), None)
    if found is None:
        raise ConfigurationError("nats-server is not installed; run ./dev.sh setup (apt-get)")
    return found


@dataclass(frozen=True, slots=True)
class NodePorts:
    client: int
    cluster: int
    mqtt: int
    monitor: int

    @staticmethod
    def allocate(taken: set[int]) -> NodePorts:
        return NodePorts(*server_ports(4, taken))


def node_config(name: str, ports: NodePorts, routes: list[int], store_dir: Path) -> str:
    """nats-server configuration of one node: JetStream on file storage, MQTT on.

    The MQTT streams (``$MQTT_msgs`` holds every QoS 1 publish) get one replica per node:
    left to itself nats-server counts the nodes it has met so far, which at start can be 2.
    """
    replicas = min(len(routes) + 1, 3)
    route_urls = ", ".join(f'"nats-route://{LOOPBACK}:{port}"' for port in routes)
    return f"""server_name: {name}
listen: "{LOOPBACK}:{ports.client}"
http: "{LOOPBACK}:{ports.monitor}"
jetstream {{
  store_dir: "{store_dir}"
}}
cluster {{
  name: {CLUSTER_NAME}
  listen: "{LOOPBACK}:{ports.cluster}"
  routes: [{route_urls}]
}}
mqtt {{
  listen: "{LOOPBACK}:{ports.mqtt}"
  stream_replicas: {replicas}
  # A QoS 1 message the gateway's MQTT links have not acknowledged is resent after this.
  ack_wait: "60s"
}}
"""


def _get_json(url: str, timeout_s: float = 2.0) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:  # noqa: S310 (http only)
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()
        return exc.code, json.loads(body) if body.startswith(b"{") else {}


def mqtt_handshake(port: int, client_id: str, timeout_s: float) -> None:
    """One MQTT 3.1.1 CONNECT/CONNACK (clean session): a node's first MQTT client makes
    the MQTT streams, slowly, so the cluster is warmed up before devices connect at once."""
    name = client_id.encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(name).to_bytes(2, "big") + name
    with socket.create_connection((LOOPBACK, port), timeout=timeout_s) as conn:
        conn.sendall(bytes((0x10, len(body))) + body)
        answer = conn.recv(4)
        if answer[:1] != b"\x20" or answer[3:4] != b"\x00":
            raise ConfigurationError(f"NATS MQTT listener {port} refused a client: {answer!r}")
        conn.sendall(b"\xe0\x00")  # DISCONNECT


@dataclass
class NatsNode:
    """One nats-server process we own."""

    name: str
    ports: NodePorts
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def config_path(self) -> Path:
        return self.directory / "nats.conf"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, routes: list[int]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(node_config(self.name, self.ports, routes, self.store_dir))
        with (self.directory / "nats.log").open("ab") as log_file:
            self.process = subprocess.Popen(
                [find_nats_server(), "-c", str(self.config_path)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )

    @property
    def store_dir(self) -> Path:
        return self.directory / "jetstream"

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed or announced to the other nodes."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def healthz(self, js_enabled_only: bool = False) -> bool:
        """The node's own health answer (full: its JetStream assets are current)."""
        query = "?js-enabled-only=true" if js_enabled_only else ""
        try:
            status, _ = _get_json(f"http://{LOOPBACK}:{self.ports.monitor}/healthz{query}")
        except (OSError, ValueError):
            return False
        return status == 200

    def stream_details(self) -> list[dict[str, Any]]:
        """The streams this node holds a replica of, as its /jsz describes them."""
        try:
            _, jsz = _get_json(
                f"http://{LOOPBACK}:{self.ports.monitor}/jsz?accounts=true&streams=true"
            )
        except (OSError, ValueError):
            return []
        accounts = jsz.get("account_details")
        if not isinstance(accounts, list):
            return []
        return [d for account in accounts for d in account.get("stream_detail") or []]

    def meta_leader(self) -> str | None:
        try:
            _, jsz = _get_json(f"http://{LOOPBACK}:{self.ports.monitor}/jsz")
        except (OSError, ValueError):
            return None
        meta = jsz.get("meta_cluster")
        leader = meta.get("leader") if isinstance(meta, dict) else None
        return leader if isinstance(leader, str) and leader else None


@dataclass
class NatsCluster:
    """N JetStream nodes routed to each other, each with an MQTT listener on loopback."""

    directory: Path
    size: int = 3
    nodes: list[NatsNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.nodes:
            taken: set[int] = set()
            self.nodes = [
                NatsNode(f"n{i + 1}", NodePorts.allocate(taken), self.directory / f"n{i + 1}")
                for i in range(self.size)
            ]

    @property
    def nats_urls(self) -> list[str]:
        return [f"nats://{LOOPBACK}:{node.ports.client}" for node in self.nodes]

    @property
    def mqtt_ports(self) -> list[int]:
        return [node.ports.mqtt for node in self.nodes]

    def start(self, timeout_s: float = 30.0) -> None:
        for node in self.nodes:
            self._start_node(node)
        try:
            for node in self.nodes:
                if not wait_for_port(node.ports.mqtt, timeout_s=timeout_s):
                    raise ConfigurationError(
                        f"nats-server {node.name} did not start: {self.log(node)}"
                    )
            self.wait_healthy(timeout_s)
            for node in self.nodes:
                mqtt_handshake(node.ports.mqtt, f"ciudad-warm-up-{node.name}", timeout_s)
        except BaseException:
            self.stop()
            raise

    def _start_node(self, node: NatsNode) -> None:
        routes = [other.ports.cluster for other in self.nodes if other is not node]
        node.start(routes)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def kill(self, index: int) -> NatsNode:
        node = self.nodes[index]
        node.kill()
        return node

    def restart(self, index: int, timeout_s: float = 30.0) -> None:
        """Starts a killed node again on its own ports and JetStream storage."""
        node = self.nodes[index]
        self._start_node(node)
        if not wait_for_port(node.ports.mqtt, timeout_s=timeout_s):
            raise ConfigurationError(f"nats-server {node.name} did not restart: {self.log(node)}")

    def meta_leader(self) -> str | None:
        """The JetStream meta leader as the running nodes agree on it, else None."""
        leaders = {node.meta_leader() for node in self.nodes if node.running}
        return leaders.pop() if len(leaders) == 1 else None

    def healthy(self, streams: tuple[str, ...] = ()) -> bool:
        """Every running node has JetStream up, they agree on one meta leader, and each of
        ``streams`` has a leader that sees all its replicas current.

        Not the full /healthz: after a restart nats-server 2.9.10 can call the node
        unhealthy for minutes over its MQTT retained-messages consumer, which carries no
        device message (docs/scaling.md)."""
        running = [node for node in self.nodes if node.running]
        if not running or not all(node.healthz(js_enabled_only=True) for node in running):
            return False
        if self.meta_leader() is None:
            return False
        return all(self.stream_current(stream) for stream in streams)

    def stream_current(self, stream: str) -> bool:
        """The stream's leader reports every replica current (caught up, online)."""
        for node in self.nodes:
            if not node.running:
                continue
            for detail in node.stream_details():
                cluster = detail.get("cluster")
                if detail.get("name") != stream or not isinstance(cluster, dict):
                    continue
                if cluster.get("leader") != node.name:
                    continue
                replicas = cluster.get("replicas") or []
                return len(replicas) == min(len(self.nodes), 3) - 1 and all(
                    r.get("current") and not r.get("offline") for r in replicas
                )
        return False

    def wait_healthy(self, timeout_s: float = 60.0, streams: tuple[str, ...] = ()) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.healthy(streams):
            if time.monotonic() > deadline:
                logs = "\n".join(self.log(node)[-2000:] for node in self.nodes)
                raise ConfigurationError(f"NATS cluster not healthy after {timeout_s:g} s: {logs}")
            time.sleep(0.2)

    def log(self, node: NatsNode) -> str:
        path = node.directory / "nats.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def describe(self) -> dict[str, object]:
        return {
            "directory": str(self.directory),
            "nats_urls": self.nats_urls,
            "mqtt_urls": [f"mqtt://{LOOPBACK}:{port}" for port in self.mqtt_ports],
            "monitor_urls": [f"http://{LOOPBACK}:{n.ports.monitor}" for n in self.nodes],
            "pids": [n.process.pid if n.process else None for n in self.nodes],
        }


def _cli_start(directory: Path, size: int) -> int:
    cluster = NatsCluster(directory, size)
    cluster.start()
    # The trial cluster outlives this command: forget the processes, keep their pids.
    (directory / STATE_FILE).write_text(json.dumps(cluster.describe(), indent=2) + "\n")
    print(json.dumps(cluster.describe(), indent=2))
    print(f"CIUDAD_GATEWAY_INPUT=nats CIUDAD_NATS_URLS={','.join(cluster.nats_urls)}")
    print(f"CIUDAD_MQTT_PORT={cluster.mqtt_ports[0]} CIUDAD_MQTT_V311=true")
    return 0


def _recorded(directory: Path) -> dict[str, Any] | None:
    """What ``start`` recorded in ``directory``, or None (said on stderr)."""
    state_file = directory / STATE_FILE
    if not state_file.exists():
        print(f"no cluster recorded in {directory}", file=sys.stderr)
        return None
    state: dict[str, Any] = json.loads(state_file.read_text())
    return state


def _cli_stop(directory: Path) -> int:
    state = _recorded(directory)
    if state is None:
        return 1
    for pid in state["pids"]:
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    (directory / STATE_FILE).unlink()
    print(f"stopped {len(state['pids'])} nodes")
    return 0


def _cli_status(directory: Path) -> int:
    state = _recorded(directory)
    if state is None:
        return 1
    for url in state["monitor_urls"]:
        try:
            status, body = _get_json(f"{url}/healthz")
        except OSError as exc:
            status, body = 0, {"error": str(exc)}
        print(f"{url}: {status} {json.dumps(body)}")
    print(json.dumps(state, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.nats", description=__doc__)
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("directory", nargs="?", type=Path)
    parser.add_argument("--nodes", type=int, default=3)
    args = parser.parse_args(argv)
    directory: Path = args.directory or Path(tempfile.gettempdir()) / "ciudad-nats"
    directory.mkdir(parents=True, exist_ok=True)
    if args.action == "start":
        return _cli_start(directory.resolve(), args.nodes)
    if args.action == "stop":
        return _cli_stop(directory)
    return _cli_status(directory)


if __name__ == "__main__":
    sys.exit(main())
