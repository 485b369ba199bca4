#!/usr/bin/env bash
# `npm run conformance`: runs what asgard compiled on the real tools (Spark, dbt, Feast,
# scikit-learn + MLflow) over the same data as the embedded run, and prints one table:
# check | engine@version | rows compared | result. Exit 1 when any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json   # bin/asgard.js runs dist/: build it as npm test does
bash scripts/setup-python.sh
source scripts/services.sh
services_up
exec node --import tsx test/conformance/run.ts "$@"
