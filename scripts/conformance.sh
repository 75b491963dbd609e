#!/usr/bin/env bash
# The ETSI NGSI-LD conformance suite against a platform started for it (scripts/conformance.py).
# usage: scripts/conformance.sh SUITE_DIR [SUBSET] [--write] [--check]
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python scripts/conformance.py "$@"
