#!/usr/bin/env bash
# Runs the product on one machine: a demo backend on 127.0.0.1:9001 and a data plane serving
# examples/standalone.yaml on 127.0.0.1:8080 (admin on 127.0.0.1:8421). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bins
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT INT TERM
./target/release/demo-backend --listen 127.0.0.1:9001 --name demo &
./target/release/dataplane --config examples/standalone.yaml --listen 127.0.0.1:8080 --admin 127.0.0.1:8421 &
sleep 1
cat <<MSG

  data plane:   http://127.0.0.1:8080/   (try: curl -H 'Host: localhost' http://127.0.0.1:8080/hello)
  admin:        http://127.0.0.1:8421/metrics  /config  /healthz  /readyz
  config:       examples/standalone.yaml (edit it: the data plane reloads on change or SIGHUP)

MSG
wait
