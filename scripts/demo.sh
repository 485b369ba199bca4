#!/usr/bin/env bash
# `npm run demo`: the seed's churn workflow end to end on this machine.
#   1. local PostgreSQL, MariaDB and the ticket API on loopback (or yours, via CUSTOMER_DB_URL,
#      TRANSACTIONS_DB_URL, SUPPORT_API_URL and the *_PASSWORD variables)
#   2. the deterministic seed-scale data: 100,000 customers, 1,200,000 transactions, 45,000 tickets
#   3. asgard apply pipelines/churn.asg: bronze → silver → gold → features → model → batch predictions
#   4. asgard serve, scoring two customers
# Run it again: the services and data are reused, and apply only does what changed.
# Try an incremental sync: `node --import tsx demo/add-transactions.ts 1000` then apply again.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== building asgard"
npm run build   # the TypeScript and the site's bundle (asgard docs)

echo "== starting the demo's services"
source scripts/services.sh
services_up

echo "== loading the demo data (seed 42)"
node --import tsx demo/load.ts --customers "${DEMO_CUSTOMERS:-100000}"

echo "== asgard apply pipelines/churn.asg"
node bin/asgard.js apply pipelines/churn.asg --yes

bash scripts/demo-serve.sh pipelines/churn.asg
