#!/usr/bin/env bash
# Fleet-ingest benchmark: starts the real control server (PGlite by default, PostgreSQL with
# --postgres), then a simulator that enrolls N agents and has each send M certificates over its
# own mTLS gRPC stream; prints METRIC lines (time to ingest N x M, server RSS and CPU).
# Usage: tools/bench/fleet-ingest/run.sh [--postgres] [--profile] [N] [M]   (defaults 1000 20)
#   --postgres   DATABASE_URL=postgres://postgres@127.0.0.1:5432/<fresh db, dropped afterwards>
#                (PG_ADMIN_URL overrides the server used to create/drop it)
#   --profile    run the server under `node --cpu-prof`; the .cpuprofile is kept in /tmp
# Everything listens on loopback; the whole run is bounded (server start 90 s, simulator 300 s).
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD

POSTGRES=0
PROFILE=0
ARGS=()
for a in "$@"; do
  case "$a" in
    --postgres) POSTGRES=1 ;;
    --profile) PROFILE=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) ARGS+=("$a") ;;
  esac
done
N=${ARGS[0]:-1000}
M=${ARGS[1]:-20}
CONCURRENCY=${CONCURRENCY:-32}
SIM_TIMEOUT=${SIM_TIMEOUT:-300}
BUNDLE=${BUNDLE:-/tmp/certfleet-fleet-ingest-sim.js}

bash tools/scripts/ensure-built.sh
BENCH=fleet-ingest
source tools/bench/lib/bench-server.sh
npx --no-install esbuild tools/bench/fleet-ingest/simulator.ts --bundle --platform=node --target=node20 \
  --outfile="$BUNDLE" --tsconfig=tsconfig.base.json --log-level=warning

raise_fd_limit "$N"
HARD_LIMIT=$((SIM_TIMEOUT + 120))
NODE_FLAGS=()
if [ "$PROFILE" = 1 ]; then
  NODE_FLAGS=(--cpu-prof --cpu-prof-dir=/tmp/certfleet-fleet-ingest-profiles)
  mkdir -p /tmp/certfleet-fleet-ingest-profiles
fi
echo "fleet-ingest: $N agents x $M certificates, cores $(nproc), ulimit -n $(ulimit -n)"
start_bench_server

set +e
timeout -k 10 "$SIM_TIMEOUT" node --expose-gc "$BUNDLE" --http "$HTTP_URL" --grpc "$GRPC_ADDR" --fingerprint "$FINGERPRINT" \
  --data-dir "$WORK/data" --server-pid "$SERVER_PID" --agents "$N" --certs "$M" --concurrency "$CONCURRENCY" \
  ${DB:+--pg-db "$DB"} ${NO_HEARTBEATS:+--no-heartbeats}
SIM_RC=$?
set -e
[ $SIM_RC -eq 124 ] && echo "simulator did not finish within $SIM_TIMEOUT s" >&2
if [ "$POSTGRES" = 1 ] && [ $SIM_RC -eq 0 ]; then
  # The stored DER must be the reported certificate, byte for byte (REST does not return it).
  DER_OK=$(timeout 30 psql "${PG_ADMIN_URL%/*}/$DB" -qAt -c \
    "SELECT count(*) FROM inventory_items WHERE kind = 'certificate' AND encode(sha256(der), 'hex') = fingerprint_sha256")
  echo "stored DER matches the fingerprint for $DER_OK of $((N * M)) certificates"
  [ "$DER_OK" = $((N * M)) ] || SIM_RC=1
fi
echo "METRIC fleet_database_is_postgres $POSTGRES"
if [ "$PROFILE" = 1 ]; then
  kill -TERM "$SERVER_PID"; for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  echo "server CPU profile: $(ls -t /tmp/certfleet-fleet-ingest-profiles/*.cpuprofile 2>/dev/null | head -1)"
fi
grep -Ei 'error|warn' "$WORK/server.log" | grep -v 'fleet CA' | head -5 || true
exit $SIM_RC
