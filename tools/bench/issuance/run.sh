#!/usr/bin/env bash
# Issuance benchmark through the real server path (CSR check + sign + database write), ECDSA
# P-256, 1 and 8 concurrent requesters. PGlite by default; --postgres uses a fresh database on
# PG_ADMIN_URL's server (dropped afterwards). Prints METRIC lines; asserts nothing about time.
# Usage: tools/bench/issuance/run.sh [--postgres] [CERTS]   (default 4000 per run)
set -euo pipefail
cd "$(dirname "$0")/../../.."
POSTGRES=0
CERTS=4000
for a in "$@"; do
  case "$a" in
    --postgres) POSTGRES=1 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) CERTS=$a ;;
  esac
done
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
bash tools/scripts/ensure-built.sh
DB=""
cleanup() { [ -n "$DB" ] && timeout 30 psql "$PG_ADMIN_URL" -qAt -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT
ARGS=(--certs "$CERTS")
if [ "$POSTGRES" = 1 ]; then
  DB="certfleet_bench_issuance_$$"
  timeout 30 psql "$PG_ADMIN_URL" -qAt -c "CREATE DATABASE \"$DB\"" >/dev/null
  ARGS+=(--postgres "${PG_ADMIN_URL%/*}/$DB")
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
timeout -k 10 600 node dist/tools/bench/issuance/issuance.js "${ARGS[@]}"
