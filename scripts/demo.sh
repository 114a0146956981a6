#!/usr/bin/env bash
# Runs the whole product on one machine, no external service needed:
#   - a demo backend           127.0.0.1:9001
#   - the control plane        REST 127.0.0.1:8000 (embedded SQLite in .data/), gRPC 127.0.0.1:9090
#   - one managed data plane   HTTP 127.0.0.1:8080, admin 127.0.0.1:8421
# On first start the control plane gets a demo tenant and cluster (examples/demo-seed.json).
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
export BFE_BOOTSTRAP_TOKEN="${BFE_BOOTSTRAP_TOKEN:-demo-admin-token}"
export BFE_NODE_TOKEN="${BFE_NODE_TOKEN:-demo-node-token}"
DATA="${BFE_DEMO_DATA:-.data/demo}"
mkdir -p "$DATA"

cargo build --release --bins
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT INT TERM

wait_file() {
  for _ in $(seq 1 100); do [ -s "$1" ] && return 0; sleep 0.1; done
  echo "timed out waiting for $1" >&2; return 1
}

./target/release/demo-backend --listen 127.0.0.1:9001 --name demo &

rm -f "$DATA/cp.ready"
./target/release/controlplane --listen 127.0.0.1:8000 --grpc-listen 127.0.0.1:9090 \
  --data-dir "$DATA/controlplane" --ready-file "$DATA/cp.ready" &
wait_file "$DATA/cp.ready"

api() { curl -fsS -H "Authorization: Bearer $BFE_BOOTSTRAP_TOKEN" -H 'Content-Type: application/json' "$@"; }
if api http://127.0.0.1:8000/api/v1/versions | grep -q '"items":\[\]'; then
  echo "seeding the demo configuration"
  api -X POST --data @examples/demo-seed.json http://127.0.0.1:8000/api/v1/changes >/dev/null
fi

rm -f "$DATA/dp.ready"
./target/release/dataplane --control-plane http://127.0.0.1:9090 --node-id demo-node --label env=demo \
  --listen 127.0.0.1:8080 --admin 127.0.0.1:8421 --cache-dir "$DATA/dataplane" \
  --ready-file "$DATA/dp.ready" &
wait_file "$DATA/dp.ready"

cat <<MSG

  data plane      curl -H 'Host: localhost' http://127.0.0.1:8080/hello
  node admin      http://127.0.0.1:8421/metrics  /config  /healthz  /readyz
  control plane   curl -H 'Authorization: Bearer $BFE_BOOTSTRAP_TOKEN' http://127.0.0.1:8000/api/v1/nodes
                  OpenAPI: http://127.0.0.1:8000/api/v1/openapi.json   metrics: http://127.0.0.1:8000/metrics
  standalone      ./target/release/dataplane --config examples/standalone.yaml (no control plane)

MSG
wait
