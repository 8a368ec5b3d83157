#!/usr/bin/env bash
# Builds continuum-uniffi, generates its Python, Ruby, Kotlin and Swift bindings with the
# workspace's pinned uniffi-bindgen (library mode) into target/uniffi-generated/, runs the
# Python tests (pytest from target/python-venv when there, else `python3 -m unittest`) and
# the Ruby tests (minitest; Debian's ruby and ruby-ffi, installed here when missing), and
# checks that the Kotlin and Swift sources exist and hold the main functions (they cannot
# be compiled on this machine).
# Needs CONTINUUM_TEST_PG_URL (a PostgreSQL server whose user may create databases, with
# psql, pg_dump and pg_restore on the PATH) and CONTINUUM_TEST_S3_ENDPOINT (an S3-compatible
# server, e.g. moto_server) set by the caller; the tests fail without them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

if ! command -v ruby >/dev/null || ! ruby -e 'require "ffi"; require "minitest"' >/dev/null 2>&1; then
    echo "installing ruby ruby-ffi (apt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ruby ruby-ffi >/dev/null
fi

cargo build -q -p continuum-uniffi -p continuum-uniffi-bindgen
target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
lib="$target_dir/debug/libcontinuum_uniffi.so"
out="$target_dir/uniffi-generated"
rm -rf "$out"
for language in python ruby kotlin swift; do
    "$target_dir/debug/uniffi-bindgen" generate --no-format --library "$lib" \
        --language "$language" --out-dir "$out/$language" >/dev/null
done
# The generated Python module loads the library from its own folder; Ruby's ffi finds it
# on LD_LIBRARY_PATH.
cp "$lib" "$out/python/"
cp "$lib" "$out/ruby/"

echo "== uniffi: Kotlin and Swift sources"
kotlin="$out/kotlin/uniffi/continuum_uniffi/continuum_uniffi.kt"
swift="$out/swift/continuum_uniffi.swift"
for file in "$kotlin" "$swift" "$out/swift/continuum_uniffiFFI.h" "$out/swift/continuum_uniffiFFI.modulemap"; do
    [[ -s "$file" ]] || { echo "missing: $file" >&2; exit 1; }
done
checked=0
for name in platformBackup platformRestore platformPlanRestore platformPlan policyCheck \
    policyFormat policyParse policyExport policyImport cntmpExport cntmpImport cntmpInspect \
    cntmpVerify clusterConfLoad databaseBackup databaseRestore orchestratorBackup \
    orchestratorVerify orchestratorRestore; do
    grep -q "fun \`\?$name\`\?(" "$kotlin" || { echo "Kotlin lacks $name" >&2; exit 1; }
    grep -q "func $name(" "$swift" || { echo "Swift lacks $name" >&2; exit 1; }
    checked=$((checked + 1))
done
for name in "class Fqn" "class Store" "interface ProgressListener" "class ContinuumException"; do
    grep -q "$name" "$kotlin" || { echo "Kotlin lacks $name" >&2; exit 1; }
    checked=$((checked + 1))
done
for name in "class Fqn" "class Store" "protocol ProgressListener" "enum ContinuumError"; do
    grep -q "$name" "$swift" || { echo "Swift lacks $name" >&2; exit 1; }
    checked=$((checked + 1))
done
echo "uniffi-generated: $checked passed, 0 failed"

echo "== uniffi: Python"
export CONTINUUM_UNIFFI_GENERATED="$out"
# No __pycache__ in the work tree.
export PYTHONDONTWRITEBYTECODE=1
venv="$target_dir/python-venv"
if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import pytest' >/dev/null 2>&1; then
    # From target/, so that pytest's cache lands there and not in the work tree.
    (cd "$target_dir" && "$venv/bin/python" -m pytest -q -p no:cacheprovider "$root/bindings/uniffi/tests/test_uniffi.py")
else
    python3 bindings/uniffi/tests/test_uniffi.py -v
fi

echo "== uniffi: Ruby"
LD_LIBRARY_PATH="$out/ruby${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ruby bindings/uniffi/tests/test_uniffi.rb
