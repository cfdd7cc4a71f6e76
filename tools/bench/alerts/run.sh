#!/usr/bin/env bash
# Alert evaluation over 200,000 inventory records (see alerts-bench.ts): time per full pass (cold,
# steady, a day later) and the memory it takes. Prints METRIC lines; asserts nothing about time.
# Usage: tools/bench/alerts/run.sh [--postgres] [--records N] [--acme N]
#   --postgres   a fresh database on TEST_DATABASE_URL's server (default
#                postgres://postgres@127.0.0.1:5432/test), dropped afterwards, instead of PGlite
#   --acme N     certificates issued through the ACME server, besides the agents' (default 20,000)
set -euo pipefail
cd "$(dirname "$0")/../../.."
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres) ARGS+=(--postgres "${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}") ;;
    --records) ARGS+=(--records "$2"); shift ;;
    --acme) ARGS+=(--acme "$2"); shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
bash tools/scripts/ensure-built.sh
echo "alerts: cores $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
# --max-semi-space-size=32: as bin/certfleet-server runs the server.
timeout -k 10 900 node --expose-gc --max-semi-space-size=32 dist/tools/bench/alerts/alerts-bench.js ${ARGS[@]+"${ARGS[@]}"}
