#!/usr/bin/env bash
# ACME server benchmark (see acme-bench.ts): orders/s by an in-process acme-client with instant
# HTTP-01 answers on loopback, and the wall time of one certbot issuance.
# Usage: tools/bench/acme/run.sh [--postgres] [--seconds N] [--concurrency N]
#   --postgres   a fresh database on TEST_DATABASE_URL's server (default
#                postgres://postgres@127.0.0.1:5432/test), dropped afterwards, instead of PGlite
# Prints METRIC lines; asserts nothing about time. Bounded by the timeout below.
set -euo pipefail
cd "$(dirname "$0")/../../.."
case "${1:-}" in -h|--help) sed -n '2,7p' "$0"; exit 0 ;; esac
bash tools/scripts/ensure-built.sh
timeout -k 10 600 node dist/tools/bench/acme/acme-bench.js "$@"
