"""``python -m support.store.patroni start|stop|status DIR``: a local trial cluster.

``start`` leaves the cluster running and writes, in DIR (mode 0600):
``cluster.json`` (ports, pids, generated passwords: what ``stop`` needs),
``database.url`` (read-write: CIUDAD_DATABASE_URL for gateways and the API) and
``database-read.url`` (prefer-standby: read-only tools, psql, reports). Passwords are
never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from support.store.patroni.cluster import PatroniCluster, PatroniNode
from support.store.patroni.config import NodePorts, Passwords
from support.store.patroni.etcd import EtcdCluster, EtcdMember

STATE = "cluster.json"
# target_session_attrs, the file holding that URL, what to do with it
URLS = (
    ("read-write", "database.url", "export CIUDAD_DATABASE_URL=$(cat {})"),
    ("prefer-standby", "database-read.url", "psql $(cat {})  # read-only, on the standby"),
)


def _write_private(path: Path, text: str) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(text)


def save(cluster: PatroniCluster) -> None:
    state = {
        "etcd": [
            {"name": m.name, "client_port": m.client_port, "peer_port": m.peer_port, "pid": m.pid}
            for m in cluster.etcd.members
        ],
        "nodes": [
            {
                "name": n.name,
                "pg_port": n.ports.pg_port,
                "rest_port": n.ports.rest_port,
                "pid": n.pid,
            }
            for n in cluster.nodes
        ],
        "node_root": str(cluster.node_root),
        "passwords": {
            "superuser": cluster.passwords.superuser,
            "replication": cluster.passwords.replication,
            "app": cluster.passwords.app,
        },
    }
    _write_private(cluster.directory / STATE, json.dumps(state, indent=1))
    for attrs, name, _ in URLS:
        _write_private(cluster.directory / name, cluster.dsn(attrs) + "\n")


def load(directory: Path) -> PatroniCluster:
    state: dict[str, Any] = json.loads((directory / STATE).read_text())
    etcd = EtcdCluster(
        directory / "etcd",
        tuple(EtcdMember(**member) for member in state["etcd"]),
    )
    nodes = tuple(
        PatroniNode(NodePorts(n["name"], n["pg_port"], n["rest_port"]), n["pid"])
        for n in state["nodes"]
    )
    return PatroniCluster(
        directory,
        etcd,
        Passwords(**state["passwords"]),
        nodes=nodes,
        node_root=Path(state["node_root"]),
    )


def masked(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1****@", url)


def show(cluster: PatroniCluster) -> None:
    for member in cluster.members():
        lag = f", lag {member['lag']} bytes" if "lag" in member else ""
        print(f"{member['name']}: {member['role']} {member['state']} port {member['port']}{lag}")
    for attrs, name, use in URLS:
        print(f"{attrs}: {masked(cluster.dsn(attrs))}")
        print(f"  {use.format(cluster.directory / name)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.store.patroni", description=__doc__)
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    directory: Path = args.directory.resolve()
    if args.command == "start":
        if (directory / STATE).exists():
            print(f"{directory / STATE} exists: stop that cluster first", file=sys.stderr)
            return 1
        directory.mkdir(parents=True, exist_ok=True)
        cluster = PatroniCluster(directory)
        cluster.start()
        save(cluster)
        show(cluster)
        return 0
    if not (directory / STATE).exists():
        print(f"no cluster in {directory}", file=sys.stderr)
        return 1
    cluster = load(directory)
    if args.command == "status":
        show(cluster)
        return 0
    cluster.stop()
    (directory / STATE).unlink()
    print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
