#!/usr/bin/env bash
# Makes node_modules match package-lock.json: `npm ci` when node_modules is missing or older than the
# lockfile. Shared by `npm test` and `npm run demo`, so neither needs a prior `npm install`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
