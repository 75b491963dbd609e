#!/usr/bin/env bash
# A highly available PostgreSQL on loopback for a local trial: three etcd members and
# two PostgreSQL 15 nodes under Patroni, synchronous replication (docs/scaling.md).
#   scripts/pg_ha.sh start [DIR]    start it; prints the URLs (passwords stay in DIR)
#   scripts/pg_ha.sh status [DIR]   who is primary, who is the sync standby
#   scripts/pg_ha.sh stop [DIR]     stop every process it started
# DIR defaults to .ciudad/pg-ha (git-ignored: it holds the passwords). Needs Debian's patroni, etcd-server and postgresql.
set -euo pipefail
cd "$(dirname "$0")/.."
command="${1:?usage: $0 start|stop|status [DIR]}"
directory="${2:-.ciudad/pg-ha}"
exec .venv/bin/python -m support.store.patroni "$command" "$directory"
