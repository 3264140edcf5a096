#!/usr/bin/env bash
# `npm run demo`: npm packages and Prosody installed when missing, then Prosody + embedded Postgres + Parley.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/ensure-system.sh
bash scripts/build-web.sh
exec node --import tsx scripts/demo.ts "$@"
