#!/usr/bin/env bash
# Runs one libFuzzer target for a given time on the stable toolchain and prints the final
# libFuzzer stats.
#
#   fuzz/run.sh TARGET SECONDS [EXTRA-LIBFUZZER-ARGS...]
#   fuzz/run.sh policy_parse 600
#   fuzz/run.sh member_path 60 -max_len=8192
#
# Targets: policy_parse fqn_parse manifest_read member_path cntmp_read dconf_parse tar_unpack
# (see fuzz/fuzz_targets/).
# Needs `cargo install cargo-fuzz`. cargo-fuzz passes nightly-only flags (-Zsanitizer=address,
# ...); RUSTC_BOOTSTRAP=1 lets the stable compiler accept them. Set SANITIZER=none for a
# faster run without AddressSanitizer.
#
# The seed corpus (policy/tests/fixtures/corpus for policy_parse, fuzz/seeds/TARGET for the
# others) is copied into fuzz/corpus/TARGET, where the corpus grows from run to run; crashes
# go to fuzz/artifacts/TARGET/ and the full log to fuzz/logs/TARGET.log; these folders are
# ignored by git. Known bugs are skipped by the targets (see the comments there); set
# FUZZ_STRICT=1 to fail on them as well. Reproduce a crash with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz TARGET fuzz/artifacts/TARGET/crash-…
# Exit status: 0 when the time ran out without a finding, libFuzzer's status otherwise.
set -euo pipefail

usage() {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[[ $# -ge 2 ]] || usage
target=$1
seconds=$2
shift 2
[[ $seconds =~ ^[0-9]+$ ]] || usage

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

case $target in
    policy_parse) seeds=$root/policy/tests/fixtures/corpus ;;
    fqn_parse | manifest_read | member_path | cntmp_read | dconf_parse | tar_unpack | archive_verify)
        seeds=$here/seeds/$target
        ;;
    *)
        echo "unknown target: $target" >&2
        usage
        ;;
esac

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2
    exit 2
fi

export RUSTC_BOOTSTRAP=1
sanitizer=${SANITIZER:-address}

corpus=$here/corpus/$target
artifacts=$here/artifacts/$target
log=$here/logs/$target.log
mkdir -p "$corpus" "$artifacts" "$here/logs"
# -n: keep what earlier runs found; seeds are copied, never written to.
cp -n "$seeds"/* "$corpus"/

dict=()
[[ -f $here/dicts/$target.dict ]] && dict=("-dict=$here/dicts/$target.dict")

cd "$root"
cargo fuzz build --fuzz-dir "$here" --sanitizer "$sanitizer" "$target"

# Targets that need files (cntmp_read, tar_unpack) make them under $TMPDIR: give the run a
# scratch one, removed afterwards.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/continuum-fuzz-$target.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

echo "fuzzing $target for ${seconds}s (corpus $corpus, log $log)" >&2
status=0
TMPDIR=$scratch cargo fuzz run --fuzz-dir "$here" --sanitizer "$sanitizer" "$target" "$corpus" -- \
    -max_total_time="$seconds" \
    -print_final_stats=1 \
    -artifact_prefix="$artifacts/" \
    "${dict[@]}" \
    "$@" >"$log" 2>&1 || status=$?

echo "--- $target: final libFuzzer stats ---"
# The last status line (`#N DONE ...`, or the last `#N pulse/NEW ...` before a crash) and
# the stat:: lines printed by -print_final_stats=1.
grep -E '^#[0-9]+' "$log" | tail -n 1 || true
grep -E '^stat::' "$log" || true
if [[ $status -ne 0 ]]; then
    echo "--- $target: libFuzzer exited with status $status; the end of the log: ---"
    grep -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY|Test unit written to|Base64:' "$log" || true
    tail -n 40 "$log"
fi
exit "$status"
