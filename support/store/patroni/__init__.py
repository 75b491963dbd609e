"""A highly available PostgreSQL on loopback: Patroni, two PostgreSQL 15 nodes with
synchronous replication, and three etcd members (Debian's packages).

Used by the failover tests and benches, and by ``scripts/pg_ha.sh`` for a local trial
(``python -m support.store.patroni``); docs/scaling.md describes the topology.
"""

from support.store.patroni.cluster import PatroniCluster, PatroniNode
from support.store.patroni.config import Passwords, Timings
from support.store.patroni.etcd import EtcdCluster

__all__ = ["EtcdCluster", "Passwords", "PatroniCluster", "PatroniNode", "Timings"]
