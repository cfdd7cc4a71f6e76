# Sourced by the benchmarks' run.sh: starts the real control server on loopback (PGlite, or a fresh
# PostgreSQL database that is dropped afterwards) and cleans everything up on exit.
#   Set before calling start_bench_server: BENCH (a name), POSTGRES (0|1), HARD_LIMIT (seconds after
#   which the server is killed whatever happens), optionally NODE_FLAGS=(...) and EXTRA_ENV=(VAR=value ...).
#   Sets: WORK (temporary directory), SERVER_PID, HTTP_URL, GRPC_ADDR, FINGERPRINT, DB (empty on
#   PGlite), DB_LABEL.
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WORK=$(mktemp -d "/tmp/certfleet-$BENCH.XXXXXX")
SERVER_PID=""
WATCHDOG_PID=""
DB=""

bench_cleanup() {
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
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

start_bench_server() {
  local http_port grpc_port
  http_port=$(free_port)
  grpc_port=$(free_port)
  while [ "$grpc_port" = "$http_port" ]; do grpc_port=$(free_port); done
  local env=(CERTFLEET_DATA_DIR="$WORK/data" CERTFLEET_HTTP_HOST=127.0.0.1 CERTFLEET_HTTP_PORT="$http_port"
             CERTFLEET_GRPC_HOST=127.0.0.1 CERTFLEET_GRPC_PORT="$grpc_port" ${EXTRA_ENV[@]+"${EXTRA_ENV[@]}"})
  DB_LABEL=pglite
  if [ "$POSTGRES" = 1 ]; then
    DB="certfleet_bench_$$_$(date +%s)"
    timeout 30 psql "$PG_ADMIN_URL" -qAt -c "CREATE DATABASE \"$DB\"" >/dev/null
    env+=(DATABASE_URL="${PG_ADMIN_URL%/*}/$DB")
    DB_LABEL=postgres
  else
    env+=(DATABASE_URL=)
  fi
  # --max-semi-space-size=32: as bin/certfleet-server runs it.
  env "${env[@]}" node --max-semi-space-size=32 ${NODE_FLAGS[@]+"${NODE_FLAGS[@]}"} dist/apps/server/src/main.js >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  # Hard bound on the whole run, whatever happens to the caller's own timeouts.
  ( sleep "$HARD_LIMIT"; kill -KILL "$SERVER_PID" 2>/dev/null ) >/dev/null 2>&1 &
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
  echo "server pid $SERVER_PID ($DB_LABEL): REST $HTTP_URL, gRPC $GRPC_ADDR, RSS at start $(awk '/VmRSS/{printf "%.1f MB", $2/1024}' /proc/$SERVER_PID/status)"
}

# Raises the descriptor limit for N agents (one TCP connection each, both ends on this machine).
raise_fd_limit() {
  local want=$((4 * $1 + 1024))
  if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ]; then
    ulimit -n "$want" 2>/dev/null || { echo "ulimit -n is $(ulimit -n); $1 agents need about $want descriptors" >&2; exit 1; }
  fi
}
