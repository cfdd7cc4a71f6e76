#!/usr/bin/env bash
# Discovery benchmark: scan a 20,000-leaf corpus on one core and print files/s, certificates/s,
# peak RSS and idle RSS (after the scan, results dropped, GC'd) as METRIC lines.
# Usage: tools/bench/discovery/run.sh [LEAVES] ; CORPUS=/path to reuse another corpus.
set -euo pipefail
cd "$(dirname "$0")/../../.."
LEAVES=${1:-20000}
CORPUS=${CORPUS:-/tmp/certfleet-bench-corpus}
[ "$LEAVES" = 20000 ] || CORPUS=${CORPUS}-$LEAVES
BUNDLE=${BUNDLE:-/tmp/certfleet-discovery-bench.js}

# The corpus generator lives in shared/, checked out beside the repository (CI, other machines).
CORPUS_GEN=${CORPUS_GEN:-$PWD/../shared/tools/cert-corpus.sh}
if [ ! -f "$CORPUS.manifest.json" ] || [ ! -d "$CORPUS" ]; then
  if [ ! -f "$CORPUS_GEN" ]; then
    echo "run.sh: corpus generator not found at $CORPUS_GEN (expected shared/ beside the checkout; set CORPUS_GEN=/path/to/cert-corpus.sh)" >&2
    exit 1
  fi
  bash "$CORPUS_GEN" "$LEAVES" "$CORPUS" >&2
fi
npx --no-install esbuild tools/bench/discovery/scan-bench.ts --bundle --platform=node --target=node20 \
  --outfile="$BUNDLE" --tsconfig=tsconfig.base.json --log-level=warning
PASSWORD=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['p12_password'])" "$CORPUS.manifest.json")
sync; cat "$CORPUS.manifest.json" >/dev/null
# One warm-up pass fills the page cache so the figure measures parsing, not the disk.
taskset -c 0 node "$BUNDLE" "$CORPUS" "$PASSWORD" >/dev/null
taskset -c 0 node --expose-gc "$BUNDLE" "$CORPUS" "$PASSWORD"
