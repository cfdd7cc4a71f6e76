#!/usr/bin/env bash
# Installs npm dependencies from package-lock.json. `npm ci` first; when it refuses the lock file
# only because the registry cannot describe other platforms' optional native packages (a mirror
# that serves Linux builds only: "Missing: @swc/core-darwin-arm64@ from lock file"), install from
# the same lock with `npm install`, which resolves those optional packages as absent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
log=$(mktemp)
if npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
  rm -f "$log"
  exit 0
fi
# Every missing entry without a version ("name@ from lock file") is a package the registry does not know.
if grep -q 'Missing: .* from lock file' "$log" && ! grep 'Missing: ' "$log" | grep -vq '@ from lock file$'; then
  echo "npm ci refused the lock file for other platforms' optional packages this registry does not serve; installing from the lock file with npm install" >&2
  rm -f "$log"
  npm install --no-audit --no-fund --loglevel=error
  exit 0
fi
cat "$log" >&2
rm -f "$log"
exit 1
