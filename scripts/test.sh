#!/usr/bin/env bash
# `npm test`: everything a fresh Debian 12 + Node 20 machine needs, then the checks and the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/ensure-system.sh
bash scripts/build-web.sh
echo "== format"; npx prettier --check . --log-level warn
echo "== lint"; npx eslint .
echo "== typecheck"; npx tsc --noEmit -p .
echo "== OpenAPI lint"; npm run --silent lint:api
echo "== ansible"; bash scripts/ansible-check.sh
echo "== mocha"; npx mocha "$@"
