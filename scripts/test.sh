#!/usr/bin/env bash
# `npm test`: everything a fresh Debian 12 + Node 20 machine needs, then the checks and the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/ensure-system.sh
# The web client (/chat/): built when web/dist is missing or older than any file under web/.
if [ ! -f web/dist/index.html ] || [ -n "$(find web -path web/dist -prune -o -type f -newer web/dist/index.html -print -quit)" ]; then
  echo "== build:web"; npm run --silent build:web
fi
echo "== typecheck"; npx tsc --noEmit -p .
echo "== OpenAPI lint"; npm run --silent lint:api
echo "== ansible"; bash scripts/ansible-check.sh
echo "== mocha"; npx mocha "$@"
