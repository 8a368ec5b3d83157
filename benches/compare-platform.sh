#!/usr/bin/env bash
# The whole-platform backup (`continuum-backup backup`) of the demo cluster, its artifacts
# produced one after the other (--parallel 1) or several at once (--parallel 2, 4), beside
# the standard tools: `pg_dump -Fc -Z0 | zstd` of the same databases one after the other,
# and all four at once. Each run writes into a fresh store / folder.
#
# The four demo databases are seeded (examples/demo-cluster/seed) and enlarged with a
# table of event rows, at each scale of ROWS (rows added to each database; default
# "50000 800000": about 25 MB and 200 MB a database, the larger 1-3 s a dump). Starts its
# own throwaway PostgreSQL. Release build. hyperfine when installed (installed with apt
# when missing, if it can be), otherwise (or with INTERLEAVE=1) rounds that run every case
# once, in turn: on a shared machine whose load changes, every case bears it alike. Median
# of RUNS (5) runs after a warm-up. CPU: user + system seconds of our side (the backup, or
# pg_dump and zstd), not the server's.
#   bash benches/compare-platform.sh     ROWS=200000 RUNS=3 INTERLEAVE=1 bash benches/compare-platform.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh
continuum_install_missing
hyperfine=${HYPERFINE:-hyperfine}
command -v "$hyperfine" >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null 2>&1 || true
trap continuum_stop_services EXIT
continuum_start_postgres >/dev/null
cargo build --quiet --release -p continuum-cli
bin=$PWD/target/release/continuum-backup
work=$(mktemp -d "${BENCH_DIR:-$PWD/target}/compare-platform.XXXXXX")
trap 'rm -rf "$work"; continuum_stop_services' EXIT
scales=${ROWS:-50000 800000}
runs=${RUNS:-5}
demo=$PWD/examples/demo-cluster
databases=(component_database auditlog_database monitoring orchestrator)

for db in "${databases[@]}"; do
  createdb "$db"
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$demo/seed/$db.sql"
done
enlarge() { # ROWS
  for db in "${databases[@]}"; do
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v rows="$1" <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_events;
CREATE TABLE bench_events AS
SELECT i AS id,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '7 seconds' AS at,
       md5(i::text)::uuid AS subject,
       (ARRAY['create', 'update', 'delete', 'start', 'stop'])[i % 5 + 1] AS action,
       jsonb_build_object('job', 'job::/demo/team' || (i % 20) || '::app-' || (i % 1200),
                          'n', i, 'host', '10.20.1.' || (11 + i % 3)) AS details,
       repeat(md5((i * 31)::text), 2) || ' ' || i AS message
FROM generate_series(1, :rows) AS i;
CREATE INDEX ON bench_events (at);
VACUUM ANALYZE bench_events;
SQL
  done
  psql -XAt -d postgres -c "SELECT string_agg(datname || ' ' || pg_size_pretty(pg_database_size(datname)), ', ' ORDER BY datname) FROM pg_database WHERE datname IN ('component_database', 'auditlog_database', 'monitoring', 'orchestrator')"
}

backup() { # PARALLEL STORE
  "$bin" backup --config "$demo/cluster.conf" --cluster "$demo" --to "$2" --parallel "$1" \
    --database component-database=component_database --database auditlog-database=auditlog_database \
    --database monitoring=monitoring --database orchestrator=orchestrator --json >/dev/null
}
one_by_one() {
  for db in "${databases[@]}"; do
    pg_dump -Fc -Z0 "$db" | zstd -q -T0 -o "$work/plain/$db.dump.zst" || return 1
  done
}
all_at_once() {
  local pids=()
  for db in "${databases[@]}"; do
    (set -o pipefail; pg_dump -Fc -Z0 "$db" | zstd -q -T0 -o "$work/plain/$db.dump.zst") &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || return 1; done
}
export -f backup one_by_one all_at_once
export bin demo work
export databases_list="${databases[*]}"

# name@prepare@command
cases=(
  "continuum-backup backup --parallel 1@rm -rf $work/store@backup 1 $work/store"
  "continuum-backup backup --parallel 2@rm -rf $work/store@backup 2 $work/store"
  "continuum-backup backup --parallel 4@rm -rf $work/store@backup 4 $work/store"
  "pg_dump -Fc -Z0 | zstd, one after the other@rm -rf $work/plain; mkdir -p $work/plain@one_by_one"
  "pg_dump -Fc -Z0 | zstd, all four at once@rm -rf $work/plain; mkdir -p $work/plain@all_at_once"
)
# The functions need the array in the child shells hyperfine starts.
prelude="set -o pipefail; databases=($databases_list);"

load() { cut -d' ' -f1 /proc/loadavg; }
# Prints per case: name, median, min and max seconds, CPU seconds of our side (median; the
# server's own work is not in it), tab-separated.
measure() {
  if [ "${INTERLEAVE:-0}" = 0 ] && command -v "$hyperfine" >/dev/null; then
    for c in "${cases[@]}"; do
      IFS='@' read -r name prepare command <<<"$c"
      "$hyperfine" --style none --runs "$runs" --warmup 1 --shell bash \
        --prepare "$prepare" --export-json "$work/h.json" -n "$name" "$prelude $command" >/dev/null
      python3 - "$work/h.json" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"][0]
t = r["times"]
print(f'{r["command"]}\t{statistics.median(t)}\t{min(t)}\t{max(t)}\t{r["user"] + r["system"]}')
PY
    done
  else
    # Rounds, each running every case once (in an order that rotates): a machine whose
    # load changes weighs on every case alike.
    python3 - "$runs" "$prelude" "${cases[@]}" <<'PY'
import resource, statistics, subprocess, sys, time
runs, prelude = int(sys.argv[1]), sys.argv[2]
cases = [c.split("@", 2) for c in sys.argv[3:]]
def once(prepare, command):
    subprocess.run(["bash", "-c", prepare], check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    subprocess.run(["bash", "-c", f"{prelude} {command}"], check=True)
    wall = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
walls, cpus = {}, {}
for r in range(runs + 1):  # round 0 warms up
    k = r % len(cases)
    for name, prepare, command in cases[k:] + cases[:k]:
        wall, cpu = once(prepare, command)
        if r:
            walls.setdefault(name, []).append(wall)
            cpus.setdefault(name, []).append(cpu)
for name, _, _ in cases:
    w = walls[name]
    print(f"{name}\t{statistics.median(w)}\t{min(w)}\t{max(w)}\t{statistics.median(cpus[name])}")
PY
  fi
}
if [ "${INTERLEAVE:-0}" = 0 ] && command -v "$hyperfine" >/dev/null; then
  how="hyperfine, each case's runs in a row"
else
  how="interleaved rounds"
fi

report=""
for rows in $scales; do
  echo "== $rows more rows in each database"
  sizes=$(enlarge "$rows")
  load_before=$(load)
  results=$(measure)
  load_after=$(load)
  printf '%s\n' "$results" | awk -F'\t' '{printf "  %s: median %.2f s\n", $1, $2}'
  rm -rf "$work/store"; backup 4 "$work/store"
  stored=$(du -sb "$work/store" | cut -f1)
  base=$(printf '%s\n' "$results" | awk -F'\t' '$1 == "continuum-backup backup --parallel 1" {print $2}')
  report+=$'\n'"$rows more rows a database ($sizes); a set: $((stored / 1000000)) MB stored; load average $load_before at the start, $load_after at the end"$'\n'
  report+=$(printf '%-48s %8s %8s %8s %8s %8s' "" "median" "min" "max" "vs -p 1" "CPU")$'\n'
  while IFS=$'\t' read -r name m l h cpu; do
    report+=$(printf '%-48s %7.2fs %7.2fs %7.2fs %7.2fx %7.2fs' "$name" "$m" "$l" "$h" \
      "$(echo "$base / $m" | bc -l)" "$cpu")$'\n'
  done <<<"$results"
done
echo
echo "demo cluster: 4 databases; $(nproc) CPUs; PostgreSQL $(pg_dump --version | awk '{print $3}'); median of $runs runs ($how)"
printf '%s' "$report"
