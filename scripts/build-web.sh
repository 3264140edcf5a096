#!/usr/bin/env bash
# The web client (/chat/): built when web/dist is missing or older than any file under web/.
# Shared by `npm test` and `npm run demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f web/dist/index.html ] || [ -n "$(find web -path web/dist -prune -o -type f -newer web/dist/index.html -print -quit)" ]; then
  echo "== build:web"; npm run --silent build:web
fi
