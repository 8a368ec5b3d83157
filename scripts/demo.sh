#!/usr/bin/env bash
# The main job: plan, back up, verify, restore and compare the demo cluster
# (examples/demo-cluster) on the embedded defaults: a local store, and a throwaway PostgreSQL
# that this script installs (when missing), starts and stops.
#   bash scripts/demo.sh [WORKDIR]     (default target/demo; an earlier run's is replaced)
# Exits non-zero when anything does not come back equal.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/demo}
. scripts/services.sh
# The demo needs no S3 server: only PostgreSQL (and the programs it runs) are installed.
continuum_install_missing postgres
trap continuum_stop_services EXIT
echo "== building the demo"
cargo build --release --quiet -p continuum-examples --example demo
continuum_start_postgres
CONTINUUM_DEMO_PG_URL=$CONTINUUM_TEST_PG_URL \
  cargo run --release --quiet -p continuum-examples --example demo -- "$work"
