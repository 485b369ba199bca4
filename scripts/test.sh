#!/usr/bin/env bash
# `npm test`: build, start every service the tests need (PostgreSQL, MariaDB, the demo ticket API
# are started by the test setup itself through scripts/services.sh), then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
if [ -x scripts/services.sh ]; then
  source scripts/services.sh
  services_up
fi
npx vitest run "$@"
