#!/usr/bin/env bash
# Every quality gate, then the whole test suite (unit, integration, slow, hil).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }
step "ruff (lint)";        ruff check .
step "ruff (format)";      ruff format --check .
step "mypy --strict";      mypy
step "layer contract";     lint-imports
step "firmware: ruff (MicroPython profile)"; ruff check firmware && ruff format --check firmware
step "firmware: mypy against the ESP32 stubs"; mypy --config-file firmware/mypy.ini firmware
step "the wheel on its own (no extras, empty venv)"; scripts/wheel_check.sh
step "pytest";             pytest "$@"
