#!/usr/bin/env bash
# The end of `npm run demo` (scripts/demo.sh), after `asgard apply`: the promoted model and its
# metrics, the batch predictions table, then `asgard serve` scoring the seed's two customers through
# POST /mlops/inference, stopped with SIGTERM. Usage: scripts/demo-serve.sh [SPEC]
set -euo pipefail
cd "$(dirname "$0")/.."
spec="${1:-pipelines/churn.asg}"

echo "== the model registry"
node bin/asgard.js models list "$spec"
served=$(node bin/asgard.js models show "$spec" customer_churn_predictor --format json \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);process.stdout.write(j.served===null?"":String(j.served))})')
if [ -z "$served" ]; then
  echo "no version of customer_churn_predictor passed its gate; see: asgard models show $spec customer_churn_predictor" >&2
  exit 1
fi
node bin/asgard.js models show "$spec" "customer_churn_predictor@$served"

echo "== gold.customer_churn_predictions"
node bin/asgard.js query "$spec" "SELECT risk_level, COUNT(*) AS customers, ROUND(AVG(churn_probability), 3) AS avg_probability, MIN(model_version) AS model_version FROM gold.customer_churn_predictions GROUP BY risk_level ORDER BY avg_probability DESC" || true

echo "== asgard serve: scoring the seed's two customers through POST /mlops/inference"
serve_out=$(mktemp)
node bin/asgard.js serve "$spec" --port "${ASGARD_DEMO_PORT:-0}" --format json >"$serve_out" &
serve_pid=$!
trap 'kill -TERM $serve_pid 2>/dev/null || true; rm -f "$serve_out"' EXIT
for _ in $(seq 1 200); do
  [ -s "$serve_out" ] && break
  kill -0 $serve_pid 2>/dev/null || { echo "asgard serve did not start" >&2; exit 1; }
  sleep 0.1
done
port=$(node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).port))' "$serve_out")
node -e '
const body = { model_name: "customer_churn_predictor", inputs: [
  { total_purchases: 5, customer_lifetime_value: 450.0, avg_purchase_value: 90.0, days_since_last_purchase: 75, purchase_frequency: 0.5, account_age_days: 120, support_tickets: 5, avg_support_resolution_hours: 48.0 },
  { total_purchases: 45, customer_lifetime_value: 5200.0, avg_purchase_value: 115.56, days_since_last_purchase: 3, purchase_frequency: 3.2, account_age_days: 890, support_tickets: 1, avg_support_resolution_hours: 12.0 } ] };
console.log("POST /mlops/inference " + JSON.stringify(body));
fetch(`http://127.0.0.1:${process.argv[1]}/mlops/inference`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  .then(async (r) => { const j = await r.json(); console.log(JSON.stringify(j, null, 2)); if (r.status !== 200) process.exit(1); })
  .catch((e) => { console.error(e.message); process.exit(1); });
' "$port"
kill -TERM $serve_pid
wait $serve_pid
trap - EXIT
rm -f "$serve_out"
