#!/usr/bin/env bash
# Every test: formatting, lints, the Rust tests and the Python tests, against a real S3
# server and a real PostgreSQL that this script installs (when missing) and starts.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh
continuum_install_missing
trap continuum_stop_services EXIT
continuum_start_s3
continuum_start_postgres
continuum_start_empty_postgres

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
cargo test --workspace
echo "== python"
bash bindings/python/run-tests.sh
echo "== uniffi (Python, Ruby; Kotlin and Swift generated)"
bash bindings/uniffi/run-tests.sh
echo "== C"
bash bindings/c/run-tests.sh
echo "== Go"
bash bindings/go/run-tests.sh
echo "== all tests passed"
