#!/usr/bin/env bash
# A three-node NATS JetStream cluster with MQTT listeners on loopback, for a local trial
# (docs/scaling.md, "The broker tier"). start prints the NATS and MQTT URLs and the gateway
# settings; stop and status take the same directory (default: $TMPDIR/ciudad-nats).
#   scripts/nats_cluster.sh start|stop|status [DIR] [--nodes N]
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m support.nats "$@"
