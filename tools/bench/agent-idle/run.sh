#!/usr/bin/env bash
# Idle-RSS benchmark of the agent (target: <= 60 MB). VmRSS is read from /proc/<pid>/status of
# the agent process itself, from outside, IDLE_SECONDS after its scan finished:
#   (a) harness: node dist/tools/bench/agent-idle/idle-harness.js loads what the agent's main.ts
#       loads, scans ROOTs (default: the agent's default roots, /etc/ssl etc.), drops the result
#       and idles;
#   (b) the real agent: a control server (node dist/apps/server/src/main.js, PGlite, loopback),
#       an enrollment token from the CLI, `certfleet-agent enroll`, then `certfleet-agent run`
#       scanning the same ROOTs; measured once its first scan is done and reported.
# Usage: tools/bench/agent-idle/run.sh [--no-server] [--no-harness] [ROOT...]
#   --no-server  skip (b); --no-harness skips (a)
#   IDLE_SECONDS (default 30: V8's memory reducer has run by then), SKIP_BUILD=1 to use dist/ as is,
#   AGENT_NODE_FLAGS: node options for the agent in (b), e.g. --heapsnapshot-signal=SIGUSR2;
#   PASSWORD: a keystore password for both scans (e.g. the corpus's "changeit").
# Prints PHASE lines (the harness's own view: heap, resident memory by mapping) and METRIC lines.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD

SERVER=1
HARNESS=1
ROOTS=()
for a in "$@"; do
  case "$a" in
    --no-server) SERVER=0 ;;
    --no-harness) HARNESS=0 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) ROOTS+=("$(realpath -m "$a")") ;;
  esac
done
IDLE_SECONDS=${IDLE_SECONDS:-30}
PASSWORD_ARGS=()
[ -n "${PASSWORD:-}" ] && PASSWORD_ARGS=(--password "$PASSWORD")

[ "${SKIP_BUILD:-0}" = 1 ] || node tools/scripts/build.js >/dev/null

WORK=$(mktemp -d /tmp/certfleet-agent-idle.XXXXXX)
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  if [ $rc -ne 0 ]; then
    for log in "$WORK"/*.log; do [ -f "$log" ] && { echo "---- $log (last 20 lines) ----" >&2; tail -n 20 "$log" >&2; }; done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

kb_to_mb() { awk -v f="$2" '$1 == f":" { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# Resident MB by kind of mapping: node binary pages, anonymous (V8 heap, thread stacks, big
# allocations), the malloc heap, other files.
resident_by_mapping() {
  awk '/^[0-9a-f]+-[0-9a-f]+ /{ k = ($6 == "") ? "anon" : ($6 == "[heap]") ? "malloc" : ($6 ~ /\/node$/) ? "node-binary" : ($6 ~ /^\//) ? "files" : "other"; next }
       /^Rss:/{ mb[k] += $2 / 1024 }
       END { for (k in mb) printf "%s %.1f, ", k, mb[k]; print "" }' "/proc/$1/smaps"
}
wait_for() { # FILE PATTERN PID SECONDS
  for _ in $(seq 1 $(($4 * 10))); do
    grep -q "$2" "$1" && return 0
    kill -0 "$3" 2>/dev/null || { echo "process $3 exited before \"$2\" (log $1)" >&2; return 1; }
    sleep 0.1
  done
  echo "no \"$2\" within $4 s (log $1)" >&2
  return 1
}

DISTS=("$ROOT/dist")
SUFFIXES=("")

echo "agent idle RSS: roots ${ROOTS[*]:-(agent defaults)}; idle ${IDLE_SECONDS}s after the scan; node $(node --version); cores $(nproc)"

# (a) the harness
for i in "${!DISTS[@]}"; do
  [ "$HARNESS" = 1 ] || break
  dist=${DISTS[$i]} sfx=${SUFFIXES[$i]}
  log="$WORK/harness$sfx.log"
  node "$dist/tools/bench/agent-idle/idle-harness.js" --idle-seconds "$IDLE_SECONDS" "${PASSWORD_ARGS[@]}" "${ROOTS[@]}" >"$log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_for "$log" '^IDLE' "$pid" $((IDLE_SECONDS + 600))
  rss=$(kb_to_mb "$pid" VmRSS) hwm=$(kb_to_mb "$pid" VmHWM)
  kill -TERM "$pid"
  echo "-- harness${sfx:+ ($sfx)} pid $pid"
  grep -E '^(PHASE|scanned)' "$log" | sed 's/^/   /'
  echo "METRIC agent_idle_harness_rss_mb$sfx $rss"
  echo "METRIC agent_idle_harness_peak_rss_mb$sfx $hwm"
done

[ "$SERVER" = 1 ] || exit 0

# (b) the real agent against a real server
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
HTTP_PORT=$(free_port)
GRPC_PORT=$(free_port)
while [ "$GRPC_PORT" = "$HTTP_PORT" ]; do GRPC_PORT=$(free_port); done
env CERTFLEET_DATA_DIR="$WORK/data" CERTFLEET_HTTP_HOST=127.0.0.1 CERTFLEET_HTTP_PORT="$HTTP_PORT" \
  CERTFLEET_GRPC_HOST=127.0.0.1 CERTFLEET_GRPC_PORT="$GRPC_PORT" DATABASE_URL= \
  node dist/apps/server/src/main.js >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
wait_for "$WORK/server.log" 'fleet CA SHA-256:' "$SERVER_PID" 90
FINGERPRINT=$(sed -n 's/.*fleet CA SHA-256:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$WORK/server.log" | head -1)

for i in "${!DISTS[@]}"; do
  dist=${DISTS[$i]} sfx=${SUFFIXES[$i]}
  state="$WORK/agent$sfx"
  token=$(CERTFLEET_URL="http://127.0.0.1:$HTTP_PORT" CERTFLEET_TOKEN_FILE="$WORK/data/admin-token" \
    node dist/apps/cli/src/main.js token create --ttl 1h 2>/dev/null)
  node "$dist/apps/agent/src/main.js" enroll --server "127.0.0.1:$GRPC_PORT" --token "$token" \
    --ca-fingerprint "$FINGERPRINT" --state-dir "$state" >"$WORK/enroll$sfx.log" 2>&1
  # An empty config file: the host's /etc/certfleet/agent.json, if any, must not change the run.
  echo '{}' >"$WORK/agent$sfx.json"
  roots=()
  for r in "${ROOTS[@]}"; do roots+=(--scan-root "$r"); done
  log="$WORK/agent-run$sfx.log"
  node ${AGENT_NODE_FLAGS:-} "$dist/apps/agent/src/main.js" run --config "$WORK/agent$sfx.json" --state-dir "$state" \
    --scan-interval 3600 "${PASSWORD_ARGS[@]}" "${roots[@]}" >"$log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_for "$log" 'connected to' "$pid" 60
  wait_for "$log" 'scan: ' "$pid" 600
  sleep "$IDLE_SECONDS"
  rss=$(kb_to_mb "$pid" VmRSS) hwm=$(kb_to_mb "$pid" VmHWM)
  echo "-- certfleet-agent run${sfx:+ ($sfx)} pid $pid: resident by mapping (MB): $(resident_by_mapping "$pid")"
  sed 's/^/   /' "$log"
  if grep -qiE 'error|refused|disconnected' "$log"; then echo "agent log shows errors" >&2; exit 1; fi
  kill -TERM "$pid"
  echo "METRIC agent_idle_run_rss_mb$sfx $rss"
  echo "METRIC agent_idle_run_peak_rss_mb$sfx $hwm"
done
