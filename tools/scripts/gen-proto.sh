#!/usr/bin/env bash
# Generates TypeScript for the agent contract (proto/) into libs/proto/src/generated with ts-proto.
# The only way generated code is made; never edit its output by hand.
# With --check, regenerates into a temp dir and fails if the committed code is stale.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
out=libs/proto/src/generated
target=$out
if [ "${1:-}" = "--check" ]; then target=$(mktemp -d); fi
rm -rf "$target"; mkdir -p "$target"
protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out="$target" \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,env=node,forceLong=bigint,oneof=unions-value,useExactTypes=false \
  -I proto \
  $(find proto -name '*.proto' | sort)
if [ "${1:-}" = "--check" ]; then
  if ! diff -r "$target" "$out" >/dev/null; then
    diff -r "$target" "$out" | head -40 >&2
    echo "libs/proto/src/generated is stale: run 'npm run proto' and commit the result" >&2
    exit 1
  fi
  echo "generated proto code is up to date"
fi
