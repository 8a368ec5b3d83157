#!/usr/bin/env bash
# Side by side with the standard tools, on the same 256 MiB: sha256sum vs our streaming
# SHA-256, cp vs the folder store's put (temp file + fsync + link), cat vs its get.
# Prints MiB/s, the median of 5 runs each. Run from anywhere; needs hyperfine-free bash only.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${BENCH_DIR:-$PWD/target}/compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
size_mib=256
head -c $((size_mib << 20)) /dev/urandom >"$work/data"
cargo build --quiet --release -p continuum-cli
bin=target/release/continuum-backup

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rate() { # command… → MiB/s (median of 5)
  for _ in 1 2 3 4 5; do
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
    echo "$size_mib / ($t1 - $t0)" | bc -l
  done | median
}
run_cp() { rm -f "$work/copy"; cp "$work/data" "$work/copy"; sync "$work/copy"; }
run_put() { rm -rf "$work/store"; $bin sets create "$work/store" "$work/data" >/dev/null; }
printf '%-44s %10s\n' "operation" "MiB/s"
printf '%-44s %10.0f\n' "sha256sum" "$(rate sha256sum "$work/data")"
printf '%-44s %10.0f\n' "cp + sync" "$(rate run_cp)"
printf '%-44s %10.0f\n' "continuum-backup sets create (put+sha256+fsync)" "$(rate run_put)"
printf '%-44s %10.0f\n' "cat (read)" "$(rate cat "$work/data")"
set_id=$($bin sets create "$work/store2" "$work/data")
printf '%-44s %10.0f\n' "continuum-backup sets verify (get+sha256)" "$(rate $bin sets verify "$work/store2" "$set_id")"
echo "criterion: cargo bench -p continuum-benches (sha256_stream, folder_store_put/get)"
