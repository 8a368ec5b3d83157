#!/usr/bin/env bash
# The kill and fault tests, for humans: kill `continuum-backup backup`, `sets prune`, `export`
# and `import` at random points, many times, and check that nothing listed is damaged and a
# rerun completes (cli/tests/kill.rs); then the faults from outside: the S3 endpoint cut
# mid-upload, a full disk, pg_dump/psql/pg_restore killed mid-stream (cli/tests/faults.rs,
# needs root for its tmpfs mounts). CI runs both as part of `cargo test`, with the defaults.
#   bash scripts/kill-test.sh              backup 20 (folder) + 4 (S3), prune 10 + 4,
#                                          export 10, import 10 trials
#   CONTINUUM_KILL_TRIALS=200 CONTINUUM_KILL_PRUNE_TRIALS=100 bash scripts/kill-test.sh
#   CONTINUUM_KILL_EXPORT_TRIALS=50 CONTINUUM_KILL_IMPORT_TRIALS=50 bash scripts/kill-test.sh
#   CONTINUUM_KILL_SEED=12345 bash scripts/kill-test.sh        (replay the delays of a run)
# Uses the servers named by CONTINUUM_TEST_PG_URL, CONTINUUM_TEST_PG_EMPTY_URL and
# CONTINUUM_TEST_S3_ENDPOINT when set; otherwise starts throwaway ones (and stops them).
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTINUUM_KILL_TRIALS=${CONTINUUM_KILL_TRIALS:-20}
export CONTINUUM_KILL_S3_TRIALS=${CONTINUUM_KILL_S3_TRIALS:-4}
if [ -z "${CONTINUUM_TEST_PG_URL:-}" ] || [ -z "${CONTINUUM_TEST_S3_ENDPOINT:-}" ] ||
  [ -z "${CONTINUUM_TEST_PG_EMPTY_URL:-}" ]; then
  . scripts/services.sh
  continuum_install_missing
  trap continuum_stop_services EXIT
  continuum_start_s3
  continuum_start_postgres
  continuum_start_empty_postgres
fi
echo "== kill test: backup $CONTINUUM_KILL_TRIALS trials (folder store), $CONTINUUM_KILL_S3_TRIALS (S3)"
cargo test --quiet -p continuum-cli --test kill --test faults -- --nocapture
