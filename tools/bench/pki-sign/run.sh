#!/usr/bin/env bash
# Issuing-CA benchmark: end-entity certificates per second from a P-256 issuing CA on one core
# (pinned with taskset), for issueLeafCertificate alone and for verifyCsrFast + issueLeafCertificate,
# with the older verifyCsr / @peculiar/x509 paths, asn1js encoding and P-384 / RSA CAs for comparison.
# Prints figures and METRIC lines; asserts nothing about time.
# Usage: tools/bench/pki-sign/run.sh [ITERATIONS]   (default 5000)
#   CPU=n pins to another core (default 0); BUNDLE=/path for the esbuild output.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ITERATIONS=${1:-5000}
BUNDLE=${BUNDLE:-/tmp/certfleet-pki-sign-bench.js}
npx --no-install esbuild tools/bench/pki-sign/pki-sign.ts --bundle --platform=node --target=node20 \
  --outfile="$BUNDLE" --tsconfig=tsconfig.base.json --log-level=warning
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (figures are wall time on one core; CPU time is shown beside them)"
taskset -c "${CPU:-0}" node "$BUNDLE" "$ITERATIONS"
