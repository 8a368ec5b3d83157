#!/usr/bin/env bash
# The kill test, for humans: kill `continuum-backup backup` at random points, many times,
# and check that `sets list` never shows a partial set and `sets prune` cleans the rest
# (cli/tests/kill.rs; CI runs it with 20 trials as part of `cargo test`).
#   bash scripts/kill-test.sh                        20 trials into a folder store, 4 into S3
#   CONTINUUM_KILL_TRIALS=200 bash scripts/kill-test.sh
#   CONTINUUM_KILL_S3_TRIALS=20 CONTINUUM_KILL_SEED=12345 bash scripts/kill-test.sh   (replay)
# Uses the servers named by CONTINUUM_TEST_PG_URL and CONTINUUM_TEST_S3_ENDPOINT when both
# are set; otherwise starts throwaway ones (and stops them at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTINUUM_KILL_TRIALS=${CONTINUUM_KILL_TRIALS:-20}
export CONTINUUM_KILL_S3_TRIALS=${CONTINUUM_KILL_S3_TRIALS:-4}
if [ -z "${CONTINUUM_TEST_PG_URL:-}" ] || [ -z "${CONTINUUM_TEST_S3_ENDPOINT:-}" ]; then
  . scripts/services.sh
  continuum_install_missing
  trap continuum_stop_services EXIT
  continuum_start_s3
  continuum_start_postgres
fi
echo "== kill test: $CONTINUUM_KILL_TRIALS trials (folder store), $CONTINUUM_KILL_S3_TRIALS (S3)"
cargo test --quiet -p continuum-cli --test kill -- --nocapture
