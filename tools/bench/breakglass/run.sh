#!/usr/bin/env bash
# Break-glass at fleet scale: starts the real control server (PGlite by default, PostgreSQL with
# --postgres), enrolls N simulated agents (breakglass-sim.ts, in a few host processes) holding one
# managed certificate each from a quick-start issuing CA, declares that CA compromised
# (POST /api/v1/breakglass/run) and times the campaign until every replacement is validated.
# Usage: tools/bench/breakglass/run.sh [--postgres] [--profile] [--no-heartbeats|--quiet-setup] [N] [CAMPAIGNS]
#   N            simulated agents (default 1000)
#   CAMPAIGNS    campaign concurrency values, comma-separated, run one after the other on the same
#                fleet (each rotates the CA the previous one made): e.g. default,5000,10000
#                (default: "default", the server's own default of 1000); "C@nohb": that campaign
#                runs with the agents' heartbeats paused
#   --postgres   DATABASE_URL=postgres://postgres@127.0.0.1:5432/<fresh db, dropped afterwards>
#                (PG_ADMIN_URL overrides the server used to create/drop it)
#   --profile    run the server under `node --cpu-prof`; summarises each phase's window (kept in /tmp)
#   --query-stats     time every SQL statement in the server (query-stats.js, preloaded) and print the
#                     most expensive ones of each campaign
#   --no-heartbeats   the simulated agents send no heartbeats (real agents send one every 30 s)
#   --quiet-setup     no heartbeats while the fleet is enrolled and given its certificates; on
#                     (each agent at a random phase) from the first campaign
# Environment: PROCESSES (host processes, default 4), CONCURRENCY (REST/enrollment requests in flight,
# default 32), PHASE_TIMEOUT, CAMPAIGN_TIMEOUT, SIM_TIMEOUT (seconds), IDLE_SECONDS (the fleet is
# watched idle this long before each campaign: server CPU for heartbeats alone; default 10),
# SERVER_ENV (extra server environment, e.g. "CERTFLEET_HEARTBEAT_SECONDS=300").
# Everything listens on loopback; every phase is bounded and the server is killed after SIM_TIMEOUT + 120 s.
set -euo pipefail
cd "$(dirname "$0")/../../.."

POSTGRES=0
PROFILE=0
QUERY_STATS=0
HEARTBEATS_FLAG=""
ARGS=()
for a in "$@"; do
  case "$a" in
    --postgres) POSTGRES=1 ;;
    --profile) PROFILE=1 ;;
    --query-stats) QUERY_STATS=1 ;;
    --no-heartbeats|--quiet-setup) HEARTBEATS_FLAG=$a ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) ARGS+=("$a") ;;
  esac
done
N=${ARGS[0]:-1000}
CAMPAIGNS=${ARGS[1]:-default}
NCAMPAIGNS=$(awk -F, '{print NF}' <<<"$CAMPAIGNS")
PROCESSES=${PROCESSES:-4}
CONCURRENCY=${CONCURRENCY:-32}
PHASE_TIMEOUT=${PHASE_TIMEOUT:-$(( N / 10 > 180 ? N / 10 : 180 ))}
CAMPAIGN_TIMEOUT=${CAMPAIGN_TIMEOUT:-600}
SIM_TIMEOUT=${SIM_TIMEOUT:-$(( 4 * PHASE_TIMEOUT + NCAMPAIGNS * (CAMPAIGN_TIMEOUT + ${IDLE_SECONDS:-10} + 60) ))}
BUNDLE=${BUNDLE:-/tmp/certfleet-breakglass-sim.js}
PROFILE_DIR=/tmp/certfleet-breakglass-profiles

bash tools/scripts/ensure-built.sh
npx --no-install esbuild tools/bench/breakglass/breakglass-sim.ts --bundle --platform=node --target=node20 \
  --outfile="$BUNDLE" --tsconfig=tsconfig.base.json --log-level=warning

BENCH=breakglass
HARD_LIMIT=$((SIM_TIMEOUT + 120))
NODE_FLAGS=()
if [ "$PROFILE" = 1 ]; then
  mkdir -p "$PROFILE_DIR"
  NODE_FLAGS=(--cpu-prof "--cpu-prof-dir=$PROFILE_DIR")
fi
[ -n "${SERVER_NODE_FLAGS:-}" ] && read -ra NODE_FLAGS <<<"$SERVER_NODE_FLAGS"
EXTRA_ENV=()
[ -n "${SERVER_ENV:-}" ] && read -ra EXTRA_ENV <<<"$SERVER_ENV"
source tools/bench/lib/bench-server.sh
QUERY_STATS_ARGS=()
if [ "$QUERY_STATS" = 1 ]; then
  NODE_FLAGS+=(--require "$PWD/tools/bench/breakglass/query-stats.js")
  EXTRA_ENV+=(BREAKGLASS_QUERY_STATS_DIR="$WORK/query-stats")
  QUERY_STATS_ARGS=(--query-stats "$WORK/query-stats")
fi

# Each process holds at most N connections (the server all of them, each host process N/PROCESSES),
# plus its files, database and listeners. (bench-server.sh's raise_fd_limit asks for 4N + 1024, more
# than the 20,000 hard limit of some machines at 10,000 agents.)
WANT_FDS=$((N + 4096))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$WANT_FDS" ]; then
  ulimit -n "$WANT_FDS" 2>/dev/null || { echo "ulimit -n is $(ulimit -n) (hard $(ulimit -Hn)); $N agents need about $WANT_FDS descriptors" >&2; exit 1; }
fi

echo "breakglass: $N agents, campaigns $CAMPAIGNS, server env: ${SERVER_ENV:-default}, cores $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg), ulimit -n $(ulimit -n)"
start_bench_server

set +e
timeout -k 10 "$SIM_TIMEOUT" node --expose-gc "$BUNDLE" --http "$HTTP_URL" --grpc "$GRPC_ADDR" --fingerprint "$FINGERPRINT" \
  --data-dir "$WORK/data" --server-pid "$SERVER_PID" --agents "$N" --concurrency "$CONCURRENCY" --processes "$PROCESSES" \
  --campaigns "$CAMPAIGNS" --phase-timeout "$PHASE_TIMEOUT" --campaign-timeout "$CAMPAIGN_TIMEOUT" --idle-seconds "${IDLE_SECONDS:-10}" \
  ${DB:+--pg-db "$DB"} ${QUERY_STATS_ARGS[@]+"${QUERY_STATS_ARGS[@]}"} $HEARTBEATS_FLAG | tee "$WORK/sim.log"
SIM_RC=${PIPESTATUS[0]}
set -e
[ "$SIM_RC" -eq 124 ] && echo "simulator did not finish within $SIM_TIMEOUT s" >&2
echo "METRIC breakglass_database_is_postgres $POSTGRES"
echo "server log: $(grep -c . "$WORK/server.log") lines; warnings/errors (first 5):"
grep -Ei 'error|warn' "$WORK/server.log" | grep -v 'fleet CA' | grep -v 'break-glass campaign' | head -5 || true
if [ "$PROFILE" = 1 ]; then
  kill -TERM "$SERVER_PID"; for _ in $(seq 1 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  PROF=$(ls -t "$PROFILE_DIR"/*.cpuprofile 2>/dev/null | head -1)
  echo "server CPU profile: $PROF"
  if [ -n "$PROF" ]; then
    # The simulator logs "profile window NAME: FROM TO" (CLOCK_MONOTONIC us) for each phase.
    sed -n 's/.*profile window \([^:]*\): \([0-9]*\) \([0-9]*\).*/\1 \2 \3/p' "$WORK/sim.log" |
      while read -r NAME FROM TO; do
        echo "---- server profile: $NAME ----"
        node tools/bench/fleet-ingest/profile.js "$PROF" "$FROM" "$TO" "${PROFILE_TOP:-25}" || true
      done
    cp "$WORK/sim.log" "${PROF%.cpuprofile}.sim.log"
  fi
fi
exit "$SIM_RC"
