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
step "pytest";             pytest "$@"
