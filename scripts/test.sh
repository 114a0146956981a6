#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the clients the tests drive, makes sure
# PostgreSQL answers on 127.0.0.1:5432, builds every binary, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v pg_isready >/dev/null 2>&1 || need+=(postgresql-client)
# TLS and HTTP/2 tests drive openssl s_client and h2load.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v h2load >/dev/null 2>&1 || need+=(nghttp2-client)
# scripts/schemathesis.sh installs schemathesis (PyPI) into a virtualenv.
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

pg_host=127.0.0.1
if [ -n "${DATABASE_URL:-}" ]; then
  echo "PostgreSQL: using DATABASE_URL"
elif ! pg_isready -h "$pg_host" -p 5432 -q; then
  echo "PostgreSQL is down; starting the local cluster"
  if [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -h "$pg_host" -p 5432 -q && break; sleep 1; done
  pg_isready -h "$pg_host" -p 5432 || { echo "PostgreSQL did not come up on $pg_host:5432"; exit 1; }
fi

# The end-to-end tests run the real binaries (dataplane, controlplane, demo-backend).
cargo build --workspace --bins
cargo test --workspace "$@"

# The control plane's OpenAPI document against the running binary (bounded, zero failures).
bash scripts/schemathesis.sh
