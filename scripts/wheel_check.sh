#!/usr/bin/env bash
# The installed package works on its own: build the wheel, install it without extras into
# an empty virtual environment, import every module of the seven packages from there, and
# run `ciudad --help` and `ciudad config check`. pip's output goes to .ciudad/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
mkdir -p .ciudad/logs
log="$repo/.ciudad/logs/wheel-check.log"
: > "$log"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() {
  local what=$1; shift
  printf '[wheel] %s\n' "$what"
  if ! "$@" >> "$log" 2>&1; then
    printf '[wheel] FAILED: %s (full output: %s)\n' "$what" "$log"
    tail -n 20 "$log" | sed 's/^/[wheel]   | /'
    exit 1
  fi
}

# Built from a copy, so the build leaves nothing (build/, *.egg-info) in the checkout.
mkdir "$work/src"
cp -r pyproject.toml README.md ciudad capture acquisition knowledge interoperability services \
  support "$work/src/"
step "build the wheel" python3 -m pip wheel --disable-pip-version-check --no-deps \
  -w "$work/dist" "$work/src"
step "empty virtual environment" python3 -m venv "$work/venv"
step "install the wheel without extras (pinned by constraints.txt)" \
  "$work/venv/bin/python" -m pip install --disable-pip-version-check \
  -c "$repo/constraints.txt" "$work"/dist/ciudad-*.whl
# From an empty folder, so that the checkout cannot stand in for the installed package.
cd "$work"
step "import every module of the installed packages" "$work/venv/bin/python" -I \
  "$repo/scripts/import_all.py"
step "ciudad --help" "$work/venv/bin/ciudad" --help
step "ciudad config check" env CIUDAD_DATA_DIR="$work/data" "$work/venv/bin/ciudad" config check
printf '[wheel] the installed wheel imports and runs on its own\n'
