#!/usr/bin/env bash
# Report export benchmark: 200,000 inventory rows streamed as CSV and JSON from the real server
# over loopback (time, rows/s, peak RSS of the server process). See export.ts.
# Usage: tools/bench/reports/run.sh [--postgres] [-- --rows N]
#   --postgres   a fresh database on TEST_DATABASE_URL's server (default
#                postgres://postgres@127.0.0.1:5432/test), dropped afterwards, instead of PGlite
# Prints METRIC lines; asserts only that every row arrived.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres) ARGS+=(--postgres "${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}") ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    --) shift; ARGS+=("$@"); break ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
bash tools/scripts/ensure-built.sh
timeout -k 10 900 node dist/tools/bench/reports/export.js ${ARGS[@]+"${ARGS[@]}"}
