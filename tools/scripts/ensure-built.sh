#!/usr/bin/env bash
# Installs npm dependencies when missing and compiles to dist/ when a source file is newer than
# the last build, so the bin/ commands work on a fresh clone. Quiet when there is nothing to do.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
if [ ! -d node_modules/@nestjs/core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm dependencies..." >&2
  bash tools/scripts/install-deps.sh >&2
fi
stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find apps libs tools/bench tools/scripts -name '*.ts' -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  node tools/scripts/build.js >&2
  touch "$stamp"
fi
