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
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}

bash tools/scripts/ensure-built.sh
npx --no-install esbuild tools/bench/fleet-ingest/simulator.ts --bundle --platform=node --target=node20 \
  --outfile="$BUNDLE" --tsconfig=tsconfig.base.json --log-level=warning

# Each agent holds one TCP connection (two descriptors on loopback, both ends in this machine).
want_fds=$((4 * N + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_fds" ]; then
  ulimit -n "$want_fds" 2>/dev/null || { echo "ulimit -n is $(ulimit -n); $N agents need about $want_fds descriptors" >&2; exit 1; }
fi

WORK=$(mktemp -d /tmp/certfleet-fleet-ingest.XXXXXX)
SERVER_PID=""
WATCHDOG_PID=""
DB=""
cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  [ -n "$WATCHDOG_PID" ] && kill "$WATCHDOG_PID" 2>/dev/null || true
  if [ -n "$DB" ]; then
    timeout 30 psql "$PG_ADMIN_URL" -qAt -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 ||
      echo "could not drop database $DB" >&2
  fi
  if [ $rc -ne 0 ] && [ -f "$WORK/server.log" ]; then
    echo "---- server log (last 40 lines) ----" >&2
    tail -n 40 "$WORK/server.log" >&2
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
HTTP_PORT=$(free_port)
GRPC_PORT=$(free_port)
while [ "$GRPC_PORT" = "$HTTP_PORT" ]; do GRPC_PORT=$(free_port); done

ENV=(CERTFLEET_DATA_DIR="$WORK/data" CERTFLEET_HTTP_HOST=127.0.0.1 CERTFLEET_HTTP_PORT="$HTTP_PORT"
     CERTFLEET_GRPC_HOST=127.0.0.1 CERTFLEET_GRPC_PORT="$GRPC_PORT")
DB_LABEL=pglite
if [ "$POSTGRES" = 1 ]; then
  DB="certfleet_bench_$$_$(date +%s)"
  timeout 30 psql "$PG_ADMIN_URL" -qAt -c "CREATE DATABASE \"$DB\"" >/dev/null
  ENV+=(DATABASE_URL="${PG_ADMIN_URL%/*}/$DB")
  DB_LABEL=postgres
else
  ENV+=(DATABASE_URL=)
fi
NODE_FLAGS=()
if [ "$PROFILE" = 1 ]; then
  NODE_FLAGS=(--cpu-prof --cpu-prof-dir=/tmp/certfleet-fleet-ingest-profiles)
  mkdir -p /tmp/certfleet-fleet-ingest-profiles
fi

echo "fleet-ingest: $N agents x $M certificates, database $DB_LABEL, cores $(nproc), ulimit -n $(ulimit -n)"
env "${ENV[@]}" node "${NODE_FLAGS[@]}" dist/apps/server/src/main.js >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
# Hard bound on the whole run, whatever happens to this script's own timeouts.
( sleep $((SIM_TIMEOUT + 120)); kill -KILL "$SERVER_PID" 2>/dev/null ) >/dev/null 2>&1 &
WATCHDOG_PID=$!

for _ in $(seq 1 900); do
  grep -q 'fleet CA SHA-256:' "$WORK/server.log" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { wait "$SERVER_PID"; echo "server exited during start-up (status $?)" >&2; SERVER_PID=""; exit 1; }
  sleep 0.1
done
grep -q 'fleet CA SHA-256:' "$WORK/server.log" || { echo "server did not start within 90 s" >&2; exit 1; }
FINGERPRINT=$(sed -n 's/.*fleet CA SHA-256:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$WORK/server.log" | head -1)
HTTP_URL=$(sed -n 's#.*REST API:[[:space:]]*\(http://[^[:space:]]*\)/api/v1.*#\1#p' "$WORK/server.log" | head -1)
GRPC_ADDR=$(sed -n 's/.*agent gRPC endpoint:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$WORK/server.log" | head -1)
echo "server pid $SERVER_PID: REST $HTTP_URL, gRPC $GRPC_ADDR, server RSS at start $(awk '/VmRSS/{printf "%.1f MB", $2/1024}' /proc/$SERVER_PID/status)"

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
