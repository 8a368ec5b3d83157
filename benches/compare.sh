#!/usr/bin/env bash
# continuum-backup side by side with the standard tools, on the same data, the same machine,
# in one go. Writes benches/REPORT.md (tables, goals), benches/throughput.svg (throughput
# against data size, drawn by benches/plot.py) and benches/results.tsv (every run).
#
#   bash benches/compare.sh                                   # the full run
#   BENCH_SIZES="1 16" BENCH_RUNS=1 bash benches/compare.sh   # a quick check of the script (1 min)
#   BENCH_AREAS="store cntmp" bash benches/compare.sh         # some areas only
#
# The full run takes about half an hour on 2 CPUs (35 min estimated on a busy 2-CPU VM: cntmp
# 10, orchestrator 8, S3 6, database 6, store 5); run it on an otherwise idle machine. The 4
# GiB points need about 18 GiB free where the work folder is.
#
# Areas (BENCH_AREAS; all by default):
#   store         folder store: `sets create` vs cp + sync; `sets verify` vs cat, sha256sum
#   s3            S3 store (moto): `sets create` vs `aws s3 cp` up; `sets verify` vs `aws s3 cp` down
#   cntmp         `export all` / `import` of a job-data registry of incompressible layers
#                 vs zip -0 -r / unzip and cp -r, each followed by sync
#   orchestrator  `orchestrator backup` (release bundle of the size, demo cluster.conf, the
#                 demo `orchestrator` database) vs pg_dump + tar czf and pg_dump + tar -I zstd
#   db            `db backup` / `db restore` of a pgbench database vs pg_dump -Fc / pg_restore
#                 and pg_dump | zstd -T0 / zstd -dc | psql
#   parse         `policy check` on 512 KB policy documents, `conf check` on a cluster.conf
# Settings:
#   BENCH_SIZES       data sizes in MiB                  "1 16 256 1024 4096"
#   BENCH_RUNS        runs per figure (the median)       5
#   BENCH_S3_MAX      largest S3 size (moto is slow)     1024
#   BENCH_ORCH_MAX    largest orchestrator size (gzip)   1024
#   BENCH_DB_MAX      largest pgbench database           1024
#   BENCH_POLICY_MAX  largest amount of policy text      256
#   BENCH_RATIO_SIZE  the size of the ratio tables       256
#   BENCH_DIR         where the work folder goes         target/
#   BENCH_BIN         a built continuum-backup           (built: cargo build --release -p continuum-cli)
#   BENCH_OWN_PG      1: a throwaway PostgreSQL even when CONTINUUM_TEST_PG_URL is set
# Services: CONTINUUM_TEST_S3_ENDPOINT (moto) and CONTINUUM_TEST_PG_URL (PGHOST, PGPORT,
# PGUSER) are used when set; otherwise scripts/services.sh starts throwaway ones, as it
# does when that server holds a database `orchestrator` (tests restore into it).
#
# Every case of one area and size runs once per round, in an order that rotates from round
# to round, so that a change of load on the machine weighs on every case alike. Each run is
# timed with the shell's clock and wrapped in `/usr/bin/time -f %M` for its peak RSS.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
root=$PWD
started=$EPOCHREALTIME

sizes=${BENCH_SIZES:-1 16 256 1024 4096}
runs=${BENCH_RUNS:-5}
s3_max=${BENCH_S3_MAX:-1024}
orch_max=${BENCH_ORCH_MAX:-1024}
db_max=${BENCH_DB_MAX:-1024}
policy_max=${BENCH_POLICY_MAX:-256}
ratio_size=${BENCH_RATIO_SIZE:-256}
areas=${BENCH_AREAS:-store s3 cntmp orchestrator db parse}
for s in $sizes $runs $s3_max $orch_max $db_max $policy_max $ratio_size; do
  [[ $s =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: \`$s\` is not a positive whole number" >&2; exit 2; }
done
for a in $areas; do
  case $a in store | s3 | cntmp | orchestrator | db | parse) ;;
    *) echo "compare.sh: unknown area \`$a\` (store s3 cntmp orchestrator db parse)" >&2; exit 2 ;;
  esac
done
wants() { [[ " $areas " == *" $1 "* ]]; }
say() { printf '[%s] %s\n' "$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {s = b - a; printf "%02d:%02d", s / 60, s % 60}')" "$*" >&2; }

# Tools.
missing=()
[ -x /usr/bin/time ] || missing+=(time)
for tool in zip unzip zstd bc; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if wants s3 && ! command -v aws >/dev/null; then python3 -m pip install -q awscli; fi

if [ -n "${BENCH_BIN:-}" ]; then
  bin=$(realpath "$BENCH_BIN")
else
  say "building continuum-backup (release)"
  cargo build --quiet --release -p continuum-cli
  bin=$root/target/release/continuum-backup
fi
demo=$root/examples/demo-cluster

mkdir -p "${BENCH_DIR:-$root/target}"
work=$(mktemp -d "${BENCH_DIR:-$root/target}/compare.XXXXXX")
results=$work/results.tsv
skipped=$work/skipped.tsv
machine=$work/machine.tsv
: >"$results"
: >"$skipped"
export bin demo work

# Services, and what to clean up on the way out.
services_started=0
bucket=""
created_dbs=()
cleanup() {
  set +e
  if [ -n "$bucket" ]; then aws --endpoint-url "$s3_endpoint" s3 rb --force "s3://$bucket" >/dev/null 2>&1; fi
  for db in "${created_dbs[@]}"; do drop_db "$db" >/dev/null 2>&1; done
  rm -rf "$work"
  if [ "$services_started" = 1 ]; then continuum_stop_services; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_s3=0 need_pg=0
wants s3 && need_s3=1
{ wants orchestrator || wants db; } && need_pg=1
start_services() { # scripts/services.sh, once
  if [ "$services_started" = 0 ]; then
    # shellcheck source=scripts/services.sh disable=SC1091
    . scripts/services.sh
    # shellcheck disable=SC2119 # everything the services need, not PostgreSQL alone
    continuum_install_missing
    services_started=1
  fi
}
use_pg() { # psql, pg_dump and the rest reach the server --dsn names
  pg_url=$CONTINUUM_TEST_PG_URL
  eval "$(python3 - "$pg_url" <<'PY'
import shlex, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
for k, v in (("PGHOST", u.hostname), ("PGPORT", u.port), ("PGUSER", u.username)):
    if v:
        print(f"export {k}={shlex.quote(str(v))}")
PY
)"
  unset PGDATABASE
  export pg_url
  psql -XAtqc 'select 1' postgres >/dev/null
}
if [ $need_s3 = 1 ] && [ -z "${CONTINUUM_TEST_S3_ENDPOINT:-}" ]; then
  start_services
  continuum_start_s3 >&2
fi
if [ $need_pg = 1 ]; then
  if [ -z "${CONTINUUM_TEST_PG_URL:-}" ] || [ "${BENCH_OWN_PG:-0}" = 1 ]; then
    start_services
    continuum_start_postgres >&2
  fi
  use_pg
  # The orchestrator backup reads the database `orchestrator`: never one that is not ours.
  if wants orchestrator &&
    [ "$(psql -XAtc "select count(*) from pg_database where datname = 'orchestrator'" postgres)" != 0 ]; then
    say "$PGHOST:$PGPORT holds a database \`orchestrator\` already: a throwaway PostgreSQL for this run"
    start_services
    continuum_start_postgres >&2
    use_pg
  fi
fi
if [ $need_s3 = 1 ]; then
  s3_endpoint=$CONTINUUM_TEST_S3_ENDPOINT
  # moto takes any key; never send real credentials to it.
  export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=us-east-1
  unset AWS_SESSION_TOKEN AWS_PROFILE CONTINUUM_S3_ENDPOINT
  bucket=continuum-bench-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
  aws --endpoint-url "$s3_endpoint" s3 mb "s3://$bucket" >/dev/null
  export s3_endpoint bucket
fi

# The machine.
{
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  printf 'host\t%s\n' "$(uname -n)"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'cpu\t%s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  printf 'memory\t%s\n' "$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  printf 'kernel\t%s\n' "$(uname -sr)"
  printf 'disk\t%s\n' "$(df -Ph "$work" | awk 'NR == 2 {print $1 ", " $4 " free of " $2}')"
  printf 'commit\t%s%s\n' "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
    "$(git status --porcelain 2>/dev/null | grep -q . && echo ' (with uncommitted changes)')"
  printf 'binary\t%s\n' "$("$bin" --version)"
  printf 'load_start\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'runs\t%s\n' "$runs"
  printf 'sizes\t%s\n' "$sizes"
  printf 'ratio_size\t%s\n' "$ratio_size"
  printf 'caps\tS3 %s MiB, orchestrator %s MiB, database %s MiB, policy text %s MiB\n' "$s3_max" "$orch_max" "$db_max" "$policy_max"
  printf 'areas\t%s\n' "$areas"
  versions="cp $(cp --version | head -n 1 | awk '{print $NF}'), zip $(zip -v | sed -n 's/^This is Zip \([^ ]*\).*/\1/p'), unzip $(unzip -v | head -n 1 | awk '{print $2}'), gzip $(gzip --version | head -n 1 | awk '{print $NF}'), tar $(tar --version | head -n 1 | awk '{print $NF}'), zstd $(zstd --version | grep -o 'v[0-9.]*' | head -n 1)"
  if [ $need_pg = 1 ]; then
    versions+=", pg_dump $(pg_dump --version | awk '{print $3}'), server $(psql -XAtc 'show server_version' postgres | awk '{print $1}') (fsync $(psql -XAtc 'show fsync' postgres))"
  fi
  if [ $need_s3 = 1 ]; then versions+=", $(aws --version 2>&1 | awk '{print $1}')"; fi
  printf 'versions\t%s\n' "$versions"
} >"$machine"

# The harness.
prelude='set -euo pipefail;'
sep=$'\x1f'
cases=()
case_add() { # op side tool setup command (setup: untimed, run before and after each run)
  cases+=("$1$sep$2$sep$3$sep$4$sep$5")
}
# Runs the cases queued with case_add in rounds, appends one line per case to results.tsv.
run_cases() { # area size_mib bytes note
  local area=$1 size=$2 bytes=$3 note=$4 n=${#cases[@]} r j k t0 t1 op side tool setup cmd
  local -a secs=() rss=()
  say "$area $size MiB${note:+ ($note)}: $n cases × $runs runs"
  for ((r = 0; r < runs; r++)); do
    for ((j = 0; j < n; j++)); do
      k=$(((j + r) % n))
      IFS=$sep read -r op side tool setup cmd <<<"${cases[k]}"
      bash -c "$prelude $setup"
      t0=$EPOCHREALTIME
      if ! /usr/bin/time -f %M -o "$work/rss" bash -c "$prelude $cmd" >/dev/null 2>"$work/stderr"; then
        echo "compare.sh: $area $size MiB: \`$tool\` failed:" >&2
        tail -n 20 "$work/stderr" >&2
        exit 1
      fi
      t1=$EPOCHREALTIME
      secs[k]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}') "
      rss[k]+="$(tail -n 1 "$work/rss") "
      bash -c "$prelude $setup" # the disk holds one output at a time
    done
  done
  for ((k = 0; k < n; k++)); do
    IFS=$sep read -r op side tool setup cmd <<<"${cases[k]}"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$area" "$op" "$side" "$tool" "$size" "$bytes" \
      "$note" "${secs[k]% }" "${rss[k]% }" >>"$results"
  done
  cases=()
}
skip() { # area size reason
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$skipped"
  say "$1 $2 MiB skipped: $3"
}
# Whether MIB mebibytes fit on the work folder's disk, 2 GiB kept free.
fits() { [ $((($(df -Pk "$work" | awk 'NR == 2 {print $4}') >> 10) - 2048)) -ge "$1" ]; }
# Incompressible bytes (AES-CTR keystream; /dev/urandom without openssl); each file its own.
random_file() { # path bytes
  if command -v openssl >/dev/null; then
    { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1 $RANDOM $RANDOM" </dev/zero 2>/dev/null || true; } |
      head -c "$2" >"$1"
  else
    head -c "$2" /dev/urandom >"$1"
  fi
  [ "$(stat -c %s "$1")" = "$2" ]
}
set_id_of() { "$bin" sets list "$1" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["sets"][0]["set_id"])'; }
aws_s3() { aws --endpoint-url "$s3_endpoint" s3 "$@"; }
drop_db() { PGOPTIONS='-c client_min_messages=warning' dropdb --if-exists "$1"; }
export -f aws_s3 drop_db

# shellcheck disable=SC2016 # the commands are expanded by the bash that runs them
bench_store() {
  local size bytes
  for size in $sizes; do
    fits $((3 * size)) || { skip store "$size" "not enough free disk for 3 copies"; continue; }
    bytes=$((size << 20))
    random_file "$work/data" "$bytes"
    store_id=$("$bin" sets create "$work/store-get" "$work/data")
    store_file=$work/store-get/sets/$store_id/artifacts/data
    [ -f "$store_file" ] || { echo "compare.sh: no artifact at $store_file" >&2; exit 1; }
    export store_id store_file
    case_add put ours "continuum-backup sets create" 'rm -rf "$work/store"' '"$bin" sets create "$work/store" "$work/data"'
    case_add put theirs "cp + sync" 'rm -f "$work/copy"' 'cp "$work/data" "$work/copy" && sync "$work/copy"'
    case_add get ours "continuum-backup sets verify" '' '"$bin" sets verify "$work/store-get" "$store_id"'
    case_add get theirs "cat > /dev/null" '' 'cat "$store_file" >/dev/null'
    case_add get theirs "sha256sum" '' 'sha256sum "$store_file"'
    run_cases store "$size" "$bytes" ""
    rm -rf "$work/data" "$work/store-get"
  done
}

# shellcheck disable=SC2016
bench_s3() {
  local size bytes
  s3_put=$(printf 's3://%s/put?endpoint=%s&region=us-east-1&path_style=true' "$bucket" "$s3_endpoint")
  s3_get=$(printf 's3://%s/get?endpoint=%s&region=us-east-1&path_style=true' "$bucket" "$s3_endpoint")
  export s3_put s3_get
  for size in $sizes; do
    if [ "$size" -gt "$s3_max" ]; then
      skip s3 "$size" "above BENCH_S3_MAX=$s3_max: moto keeps every object in one Python process and is slow at this size"
      continue
    fi
    fits $((2 * size)) || { skip s3 "$size" "not enough free disk"; continue; }
    bytes=$((size << 20))
    random_file "$work/data" "$bytes"
    s3_id=$("$bin" sets create "$s3_get" "$work/data")
    export s3_id
    case_add put ours "continuum-backup sets create (S3)" 'aws_s3 rm --quiet --recursive "s3://$bucket/put/"' \
      '"$bin" sets create "$s3_put" "$work/data"'
    case_add put theirs "aws s3 cp (upload)" 'aws_s3 rm --quiet --recursive "s3://$bucket/theirs/"' \
      'aws_s3 cp --quiet "$work/data" "s3://$bucket/theirs/data"'
    case_add get ours "continuum-backup sets verify (S3)" '' '"$bin" sets verify "$s3_get" "$s3_id"'
    case_add get theirs "aws s3 cp (download) > /dev/null" '' \
      'aws_s3 cp --quiet "s3://$bucket/get/sets/$s3_id/artifacts/data" - >/dev/null'
    run_cases s3 "$size" "$bytes" ""
    aws_s3 rm --quiet --recursive "s3://$bucket/"
    rm -f "$work/data"
  done
}

# shellcheck disable=SC2016
bench_cntmp() {
  local size layers layer_bytes half i bytes
  local -a first second
  for size in $sizes; do
    fits $((4 * size)) || { skip cntmp "$size" "not enough free disk for 4 copies"; continue; }
    # Layers of at most 256 MiB, in two packages, as a registry holds them.
    layers=$((size >= 512 ? size / 256 : 2))
    layer_bytes=$(((size << 20) / layers))
    bytes=$((layers * layer_bytes))
    half=$((layers / 2))
    first=() second=()
    mkdir -p "$work/src"
    for ((i = 1; i <= layers; i++)); do
      random_file "$work/src/layer$i.tar.gz" "$layer_bytes"
      if [ "$i" -le "$half" ]; then first+=("$work/src/layer$i.tar.gz"); else second+=("$work/src/layer$i.tar.gz"); fi
    done
    "$bin" package from-file "${first[@]}" --name a --cluster "$work/c" >/dev/null
    "$bin" package from-file "${second[@]}" --name b --cluster "$work/c" >/dev/null
    rm -rf "$work/src"
    "$bin" export all --cluster "$work/c" -o "$work/import.cntmp" >/dev/null
    (cd "$work/c" && zip -q -0 -r "$work/import.zip" jobdata)
    case_add export ours "continuum-backup export all" 'rm -f "$work/all.cntmp"' \
      '"$bin" export all --cluster "$work/c" -o "$work/all.cntmp"'
    case_add export theirs "zip -0 -r + sync" 'rm -f "$work/z.zip"' \
      'cd "$work/c" && zip -q -0 -r "$work/z.zip" jobdata && sync "$work/z.zip"'
    case_add export,import theirs "cp -r + sync" 'rm -rf "$work/cp"' \
      'cp -r "$work/c/jobdata" "$work/cp" && find "$work/cp" -type f -exec sync {} +'
    case_add import ours "continuum-backup import" 'rm -rf "$work/t"' \
      '"$bin" import "$work/import.cntmp" --cluster "$work/t"'
    case_add import theirs "unzip + sync" 'rm -rf "$work/unz"' \
      'unzip -q -o "$work/import.zip" -d "$work/unz" && find "$work/unz" -type f -exec sync {} +'
    run_cases cntmp "$size" "$bytes" "$layers layers"
    rm -rf "$work/c" "$work/import.cntmp" "$work/import.zip"
  done
}

# shellcheck disable=SC2016
bench_orchestrator() {
  local size bytes extra
  if [ "$(psql -XAtc "select count(*) from pg_database where datname = 'orchestrator'" postgres)" != 0 ]; then
    echo "compare.sh: the server $PGHOST:$PGPORT has a database \`orchestrator\` already; use another server" >&2
    exit 1
  fi
  createdb orchestrator
  created_dbs+=(orchestrator)
  psql -X -q -v ON_ERROR_STOP=1 -d orchestrator -f "$demo/seed/orchestrator.sql" >/dev/null
  # What the archive holds besides the bundle: the dump, the roles, cluster.conf.
  extra=$(($(pg_dump -Fp orchestrator | wc -c) + $(pg_dumpall --globals-only | wc -c) + $(stat -c %s "$demo/cluster.conf")))
  local dumps='mkdir "$work/orch-db" && pg_dump -Fp orchestrator >"$work/orch-db/orchestrator.sql" && pg_dumpall --globals-only >"$work/orch-db/roles.sql"'
  local members='-C "$work/orch-db" . -C "$work/orch-in" . -C "$demo" cluster.conf'
  for size in $sizes; do
    if [ "$size" -gt "$orch_max" ]; then
      skip orchestrator "$size" "above BENCH_ORCH_MAX=$orch_max: gzip-bound (the archive is a .tgz), minutes a run"
      continue
    fi
    fits $((2 * size)) || { skip orchestrator "$size" "not enough free disk"; continue; }
    mkdir -p "$work/orch-in"
    random_file "$work/orch-in/release-2.6.1.tar.gz" $((size << 20))
    bytes=$(((size << 20) + extra))
    case_add archive ours "continuum-backup orchestrator backup" 'rm -rf "$work/orch-out"' \
      '"$bin" orchestrator backup --config "$demo/cluster.conf" --dsn "$pg_url" --release 2.6.1 --release-bundle "$work/orch-in/release-2.6.1.tar.gz" --out "$work/orch-out"'
    case_add archive theirs "pg_dump + tar czf + sync" 'rm -rf "$work/orch-db" "$work/o.tgz"' \
      "$dumps"' && tar czf "$work/o.tgz" '"$members"' && sync "$work/o.tgz"'
    case_add archive theirs "pg_dump + tar -I zstd + sync" 'rm -rf "$work/orch-db" "$work/o.tar.zst"' \
      "$dumps"' && tar -I zstd -cf "$work/o.tar.zst" '"$members"' && sync "$work/o.tar.zst"'
    run_cases orchestrator "$size" "$bytes" "release bundle + demo database"
    rm -rf "$work/orch-in"
  done
}

# shellcheck disable=SC2016
bench_db() {
  local size scale bytes done_scales=" "
  created_dbs+=(bench_db bench_r_ours bench_r_fc bench_r_sql)
  for db in bench_db bench_r_ours bench_r_fc bench_r_sql; do drop_db "$db"; done
  for size in $sizes; do
    if [ "$size" -gt "$db_max" ]; then
      skip db "$size" "above BENCH_DB_MAX=$db_max: loading and restoring pgbench data takes minutes a run"
      continue
    fi
    if [ "$size" -lt 16 ]; then
      skip db "$size" "below the smallest pgbench database (scale 1, about 22 MiB)"
      continue
    fi
    # pgbench: about 15 MiB a scale step (and 7 MiB of an empty database): the nearest scale.
    scale=$((size / 15))
    [ "$scale" -ge 1 ] || scale=1
    if [[ $done_scales == *" $scale "* ]]; then
      skip db "$size" "the same pgbench scale ($scale) as a smaller size"
      continue
    fi
    done_scales+="$scale "
    fits $((8 * size)) || { skip db "$size" "not enough free disk"; continue; }
    say "db $size MiB: pgbench -i -s $scale"
    drop_db bench_db
    createdb bench_db
    pgbench -q -i -s "$scale" bench_db >/dev/null 2>&1
    psql -X -q -d bench_db -c 'vacuum analyze' >/dev/null
    bytes=$(psql -XAtc "select pg_database_size('bench_db')" postgres)
    # What the restores start from, made once.
    rm -rf "$work/dbstore-get"
    "$bin" db backup --dsn "$pg_url" --database bench_db --to "$work/dbstore-get" --no-globals >/dev/null
    db_id=$(set_id_of "$work/dbstore-get")
    export db_id
    pg_dump -Fc -f "$work/get.dump" bench_db
    pg_dump bench_db | zstd -q -T0 -f -o "$work/get.sql.zst"
    case_add backup ours "continuum-backup db backup" 'rm -rf "$work/dbstore"' \
      '"$bin" db backup --dsn "$pg_url" --database bench_db --to "$work/dbstore" --no-globals'
    case_add backup theirs "pg_dump -Fc + sync" 'rm -f "$work/b.dump"' \
      'pg_dump -Fc -f "$work/b.dump" bench_db && sync "$work/b.dump"'
    case_add backup theirs "pg_dump | zstd -T0 + sync" 'rm -f "$work/b.sql.zst"' \
      'pg_dump bench_db | zstd -q -T0 -o "$work/b.sql.zst" && sync "$work/b.sql.zst"'
    case_add restore ours "continuum-backup db restore" 'drop_db bench_r_ours' \
      '"$bin" db restore --dsn "$pg_url" --from "$work/dbstore-get" --set "$db_id" --database bench_db --as bench_r_ours'
    case_add restore theirs "createdb + pg_restore" 'drop_db bench_r_fc' \
      'createdb bench_r_fc && pg_restore -d bench_r_fc "$work/get.dump"'
    case_add restore theirs "createdb + zstd -dc | psql" 'drop_db bench_r_sql' \
      'createdb bench_r_sql && zstd -dc "$work/get.sql.zst" | psql -X -q -v ON_ERROR_STOP=1 -d bench_r_sql >/dev/null'
    run_cases db "$size" "$bytes" "pgbench scale $scale"
    rm -rf "$work/dbstore-get" "$work/get.dump" "$work/get.sql.zst"
  done
  drop_db bench_db
}

# shellcheck disable=SC2016
bench_parse() {
  local size n i bytes doc_bytes conf_sizes=""
  # One valid policy document just under the 512 KB limit: the corpus (less the two files
  # that draw warnings), each copy in realms of its own so that no rule is a duplicate.
  python3 - "$root/policy/tests/fixtures/corpus" "$work/doc.pol" <<'PY'
import pathlib, sys
corpus = []
for p in sorted(pathlib.Path(sys.argv[1]).glob("*.pol")):
    if p.name.startswith(("05-", "30-")):
        continue
    text = p.read_text(encoding="utf-8").lstrip()
    if text.startswith("<continuum-policy"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    corpus.append(text.encode())
doc = b'<continuum-policy description="benchmark: the corpus, repeated">\n\n'
k = 0
while True:
    copy = corpus[k % len(corpus)].replace(b"::/", f"::/r{k}/".encode()) + b"\n"
    if len(doc) + len(copy) > 512 * 1024:
        break
    doc += copy
    k += 1
pathlib.Path(sys.argv[2]).write_bytes(doc)
PY
  doc_bytes=$(stat -c %s "$work/doc.pol")
  "$bin" policy check "$work/doc.pol" 2>&1 | grep -q ': ok (0 warning(s))' ||
    { echo "compare.sh: the generated policy document does not check clean" >&2; exit 1; }
  for size in $sizes; do
    if [ "$size" -gt "$policy_max" ]; then
      skip parse "$size" "policy check: above BENCH_POLICY_MAX=$policy_max"
      continue
    fi
    n=$(((size << 20) / doc_bytes))
    [ "$n" -ge 1 ] || n=1
    rm -rf "$work/pol"
    mkdir "$work/pol"
    for ((i = 0; i < n; i++)); do cp "$work/doc.pol" "$work/pol/p$i.pol"; done
    bytes=$((n * doc_bytes))
    case_add "policy check" ours "continuum-backup policy check" '' '"$bin" policy check "$work"/pol/*.pol'
    run_cases parse "$size" "$bytes" "$n documents of $((doc_bytes / 1024)) KiB"
  done
  rm -rf "$work/pol"
  # cluster.conf holds at most 4 MiB (the parser's limit): the sizes below it, and 4 MiB.
  for size in $sizes; do
    if [ "$size" -lt 4 ]; then conf_sizes+="$size "; fi
    if [ "$size" -gt 4 ]; then skip parse "$size" "conf check: a cluster.conf holds at most 4 MiB (measured at 4 MiB)"; fi
  done
  for size in $conf_sizes 4; do
    # The demo cluster.conf with generated machine groups, up to just under the size.
    python3 - "$demo/cluster.conf" "$work/cluster.conf" $(((size << 20) - 4096)) <<'PY'
import sys
base = open(sys.argv[1], encoding="utf-8").read()
limit = int(sys.argv[3])
head, rest = base.split("machines: {", 1)
total = len(base.encode())
groups = []
i = 0
while True:
    g = (f"\n  group{i}: {{\n    # generated group {i}\n"
         f'    hosts: ["10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}", "10.{(i // 65536 + 1) % 256}.{i // 256 % 256}.{i % 256}"]\n'
         f'    suitable_tags: ["instance-manager", "tag-{i}", tag{i}b]\n'
         f'    settings: {{ weight: {i % 97}, zone: "zone-{i % 7}", enabled: true }}\n  }}\n')
    if total + len(g.encode()) > limit:
        break
    groups.append(g)
    total += len(g.encode())
    i += 1
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write(head + "machines: {" + "".join(groups) + rest)
PY
    "$bin" conf check "$work/cluster.conf" >/dev/null
    bytes=$(stat -c %s "$work/cluster.conf")
    case_add "conf check" ours "continuum-backup conf check" '' '"$bin" conf check "$work/cluster.conf"'
    run_cases parse "$size" "$bytes" "$(grep -c '^  group' "$work/cluster.conf") machine groups"
  done
}

say "work folder $work; sizes $sizes MiB; $runs runs; areas: $areas"
for area in $areas; do
  t0=$EPOCHREALTIME
  "bench_$area"
  printf 'time_%s\t%s\n' "$area" "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}')" >>"$machine"
done

printf 'load_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$machine"
printf 'elapsed\t%s\n' "$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}')" >>"$machine"
cp "$results" benches/results.tsv
python3 benches/plot.py benches/results.tsv benches/throughput.svg
python3 -B benches/report.py --results benches/results.tsv --skipped "$skipped" --machine "$machine" \
  --out benches/REPORT.md
say "wrote benches/REPORT.md, benches/throughput.svg, benches/results.tsv"
