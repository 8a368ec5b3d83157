#!/usr/bin/env bash
# The Go test: builds the C ABI (crate continuum-c) and the command line (for the
# cross-language tests), then checks and tests the Go package bindings/go: gofmt, go vet,
# `go test -race` linked to the shared library (which runs the README-style examples of
# example_test.go too), `go test` again linked to the static library, and the README's
# program built as a module of its own. No module proxy is used (GOPROXY=off): the package
# needs nothing but the standard library.
# Needs CONTINUUM_TEST_PG_URL (a PostgreSQL server whose user may create databases),
# CONTINUUM_TEST_S3_ENDPOINT (an S3-compatible server, moto) and psql, as scripts/test.sh
# provides; installs Go (Debian's golang-go, Go 1.19), gcc and psql when missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

: "${CONTINUUM_TEST_PG_URL:?CONTINUUM_TEST_PG_URL is not set: run scripts/test.sh, or start PostgreSQL and set it}"
: "${CONTINUUM_TEST_S3_ENDPOINT:?CONTINUUM_TEST_S3_ENDPOINT is not set: run scripts/test.sh, or start moto_server and set it}"

missing=()
command -v go >/dev/null || missing+=(golang-go)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
command -v psql >/dev/null || missing+=(postgresql-client)
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
go version

cargo build -q -p continuum-c -p continuum-cli
lib="${CARGO_TARGET_DIR:-$root/target}/debug"

# The package links ../../target/debug (see link_shared.go); another target folder is put in
# front, for the linker and for the loader.
export CGO_ENABLED=1
export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [[ "$lib" != "$root/target/debug" ]]; then
    export CGO_LDFLAGS="-L$lib -Wl,-rpath,$lib ${CGO_LDFLAGS:-}"
fi
export CONTINUUM_CLI="$lib/continuum-backup"
# Standard library only: no proxy, no checksum database, no toolchain download.
export GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd bindings/go
grep -q '^go 1.19$' go.mod
if grep -q '^require' go.mod; then
    echo "go.mod must not require modules" >&2
    exit 1
fi

echo "== gofmt -l"
unformatted="$(gofmt -l .)"
if [[ -n "$unformatted" ]]; then
    echo "not gofmt'ed: $unformatted" >&2
    exit 1
fi

echo "== go vet"
go vet ./...
go vet -tags continuum_static ./...

echo "== go test -race (shared library)"
# cgocheck=2: every pointer passed to C is checked (no Go pointer to Go pointers).
GODEBUG=cgocheck=2 go test -count=1 -race -v ./...

echo "== go test (static library)"
go test -c -tags continuum_static -o "$work/continuum-static.test" .
if ldd "$work/continuum-static.test" | grep -q libcontinuum_c; then
    echo "the static build depends on libcontinuum_c.so" >&2
    exit 1
fi
LD_LIBRARY_PATH= "$work/continuum-static.test" -test.count=1

echo "== the README's program"
mkdir "$work/readme"
awk '/^```go$/ {on = 1; next} /^```$/ {on = 0} on' README.md >"$work/readme/main.go"
cat >"$work/readme/go.mod" <<MOD
module example.com/readme

go 1.19

require continuum.example/continuum v0.0.0

replace continuum.example/continuum => $root/bindings/go
MOD
mkdir "$work/readme/store"
(cd "$work/readme" && go run . "$work/readme/store" "$root/README.md") >"$work/readme.out"
cat "$work/readme.out"
grep -q '^new set: ' "$work/readme.out"
grep -q 'invalid_input' "$work/readme.out"
echo "== Go: all passed"
