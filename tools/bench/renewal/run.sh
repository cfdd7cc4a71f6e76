#!/usr/bin/env bash
# Renewal benchmarks through the real server and the agent's own job runner (see renewal-sim.ts):
#   latency  1 agent, 30 rounds: due time -> renewed, installed and validated (p50, p95)
#   fleet    1,000 agents with one managed certificate each, all due at once: time until all are done
# Usage: tools/bench/renewal/run.sh [--postgres] [latency|fleet|AGENTS ROUNDS]   (default: both)
#   --postgres   a fresh database on PG_ADMIN_URL's server (dropped afterwards) instead of PGlite
# Everything listens on loopback; each run is bounded (server start 90 s, simulator SIM_TIMEOUT s).
set -euo pipefail
cd "$(dirname "$0")/../../.."
POSTGRES=0
ARGS=()
for a in "$@"; do
  case "$a" in
    --postgres) POSTGRES=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) ARGS+=("$a") ;;
  esac
done
case "${ARGS[0]:-both}" in
  latency) RUNS=("1 30") ;;
  fleet) RUNS=("1000 1") ;;
  both) RUNS=("1 30" "1000 1") ;;
  *) RUNS=("${ARGS[0]} ${ARGS[1]:-1}") ;;
esac
SIM_TIMEOUT=${SIM_TIMEOUT:-420}
BUNDLE=${BUNDLE:-/tmp/certfleet-renewal-sim.js}

bash tools/scripts/ensure-built.sh
npx --no-install esbuild tools/bench/renewal/renewal-sim.ts --bundle --platform=node --target=node20 \
  --outfile="$BUNDLE" --tsconfig=tsconfig.base.json --log-level=warning

run_one() {
  local agents=$1 rounds=$2
  (
    BENCH=renewal
    HARD_LIMIT=$((SIM_TIMEOUT + 120))
    # The scheduler wakes at due times; its polling interval is only a safety net.
    EXTRA_ENV=(CERTFLEET_SCHEDULER_SECONDS=60)
    [ -n "${SERVER_PROFILE_DIR:-}" ] && NODE_FLAGS=(--cpu-prof "--cpu-prof-dir=$SERVER_PROFILE_DIR")
    [ -n "${SERVER_NODE_FLAGS:-}" ] && read -ra NODE_FLAGS <<<"$SERVER_NODE_FLAGS"
    source tools/bench/lib/bench-server.sh
    raise_fd_limit "$agents"
    echo "renewal: $agents agent(s) x $rounds round(s), cores $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
    start_bench_server
    timeout -k 10 "$SIM_TIMEOUT" node ${SIM_NODE_FLAGS:-} "$BUNDLE" --http "$HTTP_URL" --grpc "$GRPC_ADDR" --fingerprint "$FINGERPRINT" \
      --data-dir "$WORK/data" --server-pid "$SERVER_PID" --agents "$agents" --rounds "$rounds" --phase-timeout 180
    echo "METRIC renewal_database_is_postgres $POSTGRES"
  )
}
for r in "${RUNS[@]}"; do
  # shellcheck disable=SC2086
  run_one $r
done
