#!/usr/bin/env bash
# `npm test`: everything a fresh Debian 12 + Node 20 machine needs, then the checks and the whole suite:
# unit, tool, integration, compat and end-to-end tests against Prosody, then the tool, integration, compat
# and end-to-end tests (the same files) against ejabberd. PARLEY_TEST_SERVER=prosody|ejabberd runs one pass only; file
# arguments run those files (on both servers unless PARLEY_TEST_SERVER says one).
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

# .mocharc.json's spec is the whole suite (unit tests included); the ejabberd pass names its files instead.
SERVER_SPECS=('test/tools/**/*.test.ts' 'test/integration/**/*.test.ts' 'test/compat/**/*.test.ts' 'test/e2e/**/*.test.ts')
pass() {
  local server=$1; shift
  local t0=$SECONDS
  echo "== mocha on $server"
  if [ "$server" = prosody ]; then
    PARLEY_TEST_SERVER=prosody npx mocha "$@"
  else
    [ $# -gt 0 ] || set -- "${SERVER_SPECS[@]}"
    PARLEY_TEST_SERVER=$server npx mocha --no-config --node-option import=tsx --require test/rig/hooks.ts \
      --timeout 20000 --exit "$@"
  fi
  echo "== mocha on $server: $((SECONDS - t0)) s"
}
case "${PARLEY_TEST_SERVER:-both}" in
  both)
    pass prosody "$@"
    pass ejabberd "$@"
    ;;
  *) pass "$PARLEY_TEST_SERVER" "$@" ;;
esac
