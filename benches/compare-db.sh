#!/usr/bin/env bash
# Database backup and restore side by side with pg_dump / pg_restore, on a pgbench database
# (scale ${SCALE:-20}). Starts its own throwaway PostgreSQL. Median seconds of 5 runs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh
continuum_install_missing
trap continuum_stop_services EXIT
continuum_start_postgres >/dev/null
cargo build --quiet --release -p continuum-cli
bin=$PWD/target/release/continuum-backup
work=$(mktemp -d "${BENCH_DIR:-$PWD/target}/compare-db.XXXXXX")
trap 'rm -rf "$work"; continuum_stop_services' EXIT
createdb bench
"$CONTINUUM_PG_BIN/pgbench" -q -i -s "${SCALE:-20}" bench >/dev/null 2>&1
size=$(psql -XAtc "select pg_size_pretty(pg_database_size('bench'))" postgres)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
seconds() { local setup=$1; shift
  for _ in 1 2 3 4 5; do eval "$setup"; local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; done | median; }
ours_backup() { $bin db backup --database bench --to "$work/store" --no-globals; }
fc() { pg_dump -Fc -f "$work/bench.dump" bench; }
zst() { pg_dump bench | zstd -q -T0 -o "$work/bench.sql.zst"; }
fcz0() { pg_dump -Fc -Z0 bench | zstd -q -T0 -o "$work/bench.fc.zst"; }
t_ours=$(seconds 'rm -rf "$work/store"' ours_backup)
t_fc=$(seconds 'rm -f "$work/bench.dump"' fc)
t_zst=$(seconds 'rm -f "$work/bench.sql.zst"' zst)
t_fcz0=$(seconds 'rm -f "$work/bench.fc.zst"' fcz0)
ours_backup >/dev/null
set_id=$($bin sets list "$work/store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sets"][0]["set_id"])')
ours_restore() { $bin db restore --from "$work/store" --set "$set_id" --database bench --as bench_copy --force; }
pgr() { pg_restore -d bench_copy2 "$work/bench.dump"; }
psqlf() { zstd -dc "$work/bench.sql.zst" | psql -X -q -d bench_copy3; }
t_restore=$(seconds 'dropdb --if-exists bench_copy' ours_restore)
t_pgr=$(seconds 'dropdb --if-exists bench_copy2; createdb bench_copy2' pgr)
t_psql=$(seconds 'dropdb --if-exists bench_copy3; createdb bench_copy3' psqlf)
row() { printf '%-52s %8.2f s\n' "$1" "$2"; }
echo "pgbench scale ${SCALE:-20} ($size), median of 5 runs"
row "continuum-backup db backup (zstd, SHA-256, row counts)" "$t_ours"
row "pg_dump -Fc -f" "$t_fc"
row "pg_dump | zstd -T0" "$t_zst"
row "pg_dump -Fc -Z0 | zstd -T0" "$t_fcz0"
row "continuum-backup db restore (create, restore, verify)" "$t_restore"
row "pg_restore -d (from -Fc)" "$t_pgr"
row "zstd -dc | psql (plain SQL)" "$t_psql"
