#!/usr/bin/env bash
# Idempotent setup: Debian packages the platform runs with, a virtual environment in .venv
# and the Python packages pinned in constraints.txt. Re-running it is cheap.
# Prints one line per step and a summary; apt's, pip's and npm's own output goes to
# .ciudad/logs/setup.log, which a failure message names.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p .ciudad/logs
log="$PWD/.ciudad/logs/setup.log"
printf '\n##### setup started %s\n' "$(date -u +%FT%TZ)" >> "$log"
done_steps=()

say() { printf '[setup] %s\n' "$*" >&2; }
# run DESCRIPTION COMMAND...: one line on the terminal, the command's output in the log.
run() {
  local what=$1; shift
  say "$what ..."
  printf '\n### %s\n$ %s\n' "$what" "$*" >> "$log"
  if ! "$@" >> "$log" 2>&1; then
    say "FAILED: $what (full output: $log)"
    tail -n 15 "$log" | sed 's/^/[setup]   | /' >&2
    exit 1
  fi
  done_steps+=("$what")
}

need_debs=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_debs+=(mosquitto)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_debs+=(python3-venv)
command -v pgrep >/dev/null 2>&1 || need_debs+=(procps)
command -v socat >/dev/null 2>&1 || need_debs+=(socat)
command -v openssl >/dev/null 2>&1 || need_debs+=(openssl)
# Node runs TimescaleDB-in-PGlite for the TimescaleDB tests; influxd (1.6.7, the only
# Debian InfluxDB) checks the line protocol the InfluxDB backend writes.
command -v node >/dev/null 2>&1 || need_debs+=(nodejs)
command -v npm >/dev/null 2>&1 || need_debs+=(npm)
command -v influxd >/dev/null 2>&1 || need_debs+=(influxdb)
# Headless Chromium (with its WebDriver) runs the dashboard test.
command -v chromium >/dev/null 2>&1 || need_debs+=(chromium fonts-dejavu-core)  # a font for screenshots
command -v chromedriver >/dev/null 2>&1 || need_debs+=(chromium-driver)
# The clusters of docs/scaling.md, started on loopback by the tests and scripts/: a NATS
# JetStream cluster, and PostgreSQL managed by Patroni over etcd. `postgresql` installs the
# server binaries Patroni runs.
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need_debs+=(nats-server)
command -v patroni >/dev/null 2>&1 || need_debs+=(patroni)
command -v etcd >/dev/null 2>&1 || need_debs+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need_debs+=(etcd-client)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need_debs+=(postgresql)

apt_install() {
  # Patroni creates its own clusters: Debian's postgresql must not create and start one.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/ciudad.conf
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

if [ ${#need_debs[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    run "Debian packages: ${need_debs[*]}" apt_install "${need_debs[@]}"
  else
    say "missing Debian packages: ${need_debs[*]}"
    say "run this script as root, or: sudo apt-get install -y ${need_debs[*]}"
    exit 1
  fi
fi

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  say "Python >= 3.11 is required; found $(python3 --version 2>&1)"
  exit 1
fi

[ -x .venv/bin/python ] || run "virtual environment .venv" python3 -m venv .venv

pip_install() {
  .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --disable-pip-version-check -c constraints.txt -e '.[dev]'
  # MicroPython stubs where mypy can use them for the firmware (FACTS.md recipe).
  rm -rf typings
  .venv/bin/python -m pip install --disable-pip-version-check --no-deps \
    --target typings -c constraints.txt micropython-esp32-stubs micropython-stdlib-stubs
}
stamp=.venv/.ciudad-installed
wanted=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  run "Python packages pinned in constraints.txt (first run takes a minute or two)" pip_install
  echo "$wanted" > "$stamp"
fi

pglite=scripts/pglite
pglite_wanted=$(sha256sum "$pglite/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$pglite/node_modules/.ciudad-installed" 2>/dev/null)" != "$pglite_wanted" ]; then
  run "TimescaleDB-in-PGlite (npm, pinned by package-lock.json)" \
    bash -c "cd '$pglite' && npm ci --no-audit --no-fund"
  echo "$pglite_wanted" > "$pglite/node_modules/.ciudad-installed"
fi

versions="$(.venv/bin/python --version 2>&1) in .venv, ciudad $(.venv/bin/python -c \
  'import importlib.metadata as m; print(m.version("ciudad"))'), node $(node --version)"
if [ ${#done_steps[@]} -eq 0 ]; then
  say "ready ($versions); nothing to do, all was installed"
else
  say "ready ($versions); ${#done_steps[@]} step(s) done, their output is in $log"
fi
