#!/usr/bin/env bash
# The project's entry point on a fresh Debian machine.
#   ./dev.sh demo [--duration S]   set everything up, then run the platform end to end
#   ./dev.sh test [pytest args]    set everything up, then run every check and test
#   ./dev.sh setup                 only set up (Debian packages, .venv, Python packages)
set -euo pipefail
cd "$(dirname "$0")"

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  demo)  scripts/setup.sh && exec .venv/bin/ciudad demo "$@" ;;
  test)  scripts/setup.sh && exec scripts/test.sh "$@" ;;
  setup) exec scripts/setup.sh ;;
  *)
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
    exit 2 ;;
esac
