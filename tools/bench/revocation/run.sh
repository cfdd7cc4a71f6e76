#!/usr/bin/env bash
# Revocation benchmarks against the real control server (started inside the benchmark process, load
# clients in child processes, all on loopback; see latency.ts and ocsp-load.ts):
#   latency  100,000 certificates already revoked; 20 revocations: revoke call -> OCSP "revoked"
#            and a CRL listing it served (p50/p95/max), plus the one-time first CRL build
#   ocsp     100,000 issued certificates; OCSP responses/s and p50/p99: cold, cached, with nonce, bare
# Usage: tools/bench/revocation/run.sh [--postgres] [latency|ocsp] [-- extra options for the .js]
#   --postgres   a fresh database on TEST_DATABASE_URL's server (default
#                postgres://postgres@127.0.0.1:5432/test), dropped afterwards, instead of PGlite
# Prints METRIC lines; asserts nothing about time. Each run is bounded (timeout below).
set -euo pipefail
cd "$(dirname "$0")/../../.."
POSTGRES=0
WHICH=both
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres) POSTGRES=1 ;;
    latency|ocsp|both) WHICH=$1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
ARGS=()
[ "$POSTGRES" = 1 ] && ARGS+=(--postgres "${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}")
bash tools/scripts/ensure-built.sh
if [ "$WHICH" != ocsp ]; then
  timeout -k 10 900 node dist/tools/bench/revocation/latency.js ${ARGS[@]+"${ARGS[@]}"} ${EXTRA[@]+"${EXTRA[@]}"}
  echo "METRIC revocation_database_is_postgres $POSTGRES"
fi
if [ "$WHICH" != latency ]; then
  timeout -k 10 900 node dist/tools/bench/revocation/ocsp-load.js ${ARGS[@]+"${ARGS[@]}"} ${EXTRA[@]+"${EXTRA[@]}"}
  echo "METRIC ocsp_database_is_postgres $POSTGRES"
fi
