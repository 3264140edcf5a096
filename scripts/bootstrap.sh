#!/usr/bin/env bash
# Makes node_modules match package-lock.json: `npm ci` when node_modules is missing or older than the
# lockfile. Shared by `npm test` and `npm run demo`, so neither needs a prior `npm install`.
#
# Fallback: this machine's npm registry lacks some platform builds that rollup (used by the web client's
# Vite build) lists as optional, so the lockfile cannot record them and `npm ci` refuses it as "out of
# sync". `npm install` installs the same locked versions and skips the unavailable optional packages.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm packages (npm ci)"
  if ! npm ci --no-audit --no-fund --loglevel=error 2>/tmp/parley-npm-ci.log; then
    grep -q 'EUSAGE' /tmp/parley-npm-ci.log || { cat /tmp/parley-npm-ci.log >&2; exit 1; }
    echo "bootstrap: npm ci refused the lockfile (optional platform packages the registry lacks); using npm install"
    npm install --no-audit --no-fund --loglevel=error
  fi
fi
