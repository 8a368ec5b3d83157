#!/usr/bin/env bash
# cntmp export and import side by side with zip -0 / unzip and cp, on the same 1 GiB of
# package resources (4 layers of 256 MiB, incompressible). Every tool's output is fsynced
# (ours fsyncs by itself). Prints seconds and MiB/s, the median of 5 runs, and ours ÷ cp.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p continuum-cli
bin=$PWD/target/release/continuum-backup
work=$(mktemp -d "${BENCH_DIR:-$PWD/target}/compare-cntmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir src
for i in 1 2 3 4; do head -c $((256 << 20)) /dev/urandom >"src/layer$i.tar.gz"; done
$bin package from-file src/layer1.tar.gz src/layer2.tar.gz --name a --cluster c >/dev/null
$bin package from-file src/layer3.tar.gz src/layer4.tar.gz --name b --cluster c >/dev/null
mib=1024

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
seconds() { # command… → median seconds of 5 runs; the setup of each run is not timed
  local setup=$1; shift
  for _ in 1 2 3 4 5; do
    eval "$setup"
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
  done | median
}
cp_all() { mkdir -p cpdst; cp src/*.tar.gz cpdst/; sync cpdst/*; }
zip_all() { (cd src && zip -q -0 -r ../z.zip .); sync z.zip; }
unzip_all() { unzip -q -o z.zip -d unz; sync unz/*; }
export_all() { $bin export all --cluster c -o all.cntmp; }
import_all() { $bin import all.cntmp --cluster t; }

t_cp=$(seconds 'rm -rf cpdst' cp_all)
t_zip=$(seconds 'rm -f z.zip' zip_all)
t_unzip=$(seconds 'rm -rf unz' unzip_all)
t_export=$(seconds 'rm -f all.cntmp' export_all)
t_import=$(seconds 'rm -rf t' import_all)
row() { printf '%-36s %8.2f s %8.0f MiB/s %8.2f × cp\n' "$1" "$2" "$(echo "$mib / $2" | bc -l)" "$(echo "$t_cp / $2" | bc -l)"; }
echo "1 GiB of package resources, median of 5 runs"
row "cp + fsync" "$t_cp"
row "zip -0 -r + fsync" "$t_zip"
row "unzip + fsync" "$t_unzip"
row "continuum-backup export all" "$t_export"
row "continuum-backup import" "$t_import"
