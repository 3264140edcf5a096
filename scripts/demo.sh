#!/usr/bin/env bash
# `npm run demo`: npm packages and Prosody installed when missing, then Prosody + embedded Postgres + Parley.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/ensure-system.sh
# The web client (/chat/): built when web/dist is missing or older than any file under web/.
if [ ! -f web/dist/index.html ] || [ -n "$(find web -path web/dist -prune -o -type f -newer web/dist/index.html -print -quit)" ]; then
  echo "== build:web"; npm run --silent build:web
fi
exec node --import tsx scripts/demo.ts "$@"
