#!/usr/bin/env bash
# The C test: builds the C ABI (crate continuum-c), compiles tests/c/test.c with gcc against
# the committed include/continuum.h, and runs it twice: linked to the shared library under
# valgrind (no leak, no invalid access allowed), and linked to the static library.
# Needs CONTINUUM_TEST_PG_URL (a PostgreSQL server whose user may create databases) and psql,
# as scripts/test.sh provides; installs gcc and valgrind when missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

: "${CONTINUUM_TEST_PG_URL:?CONTINUUM_TEST_PG_URL is not set: run scripts/test.sh, or start PostgreSQL and set it}"

missing=()
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
command -v valgrind >/dev/null || missing+=(valgrind)
command -v psql >/dev/null || missing+=(postgresql-client)
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo build -q -p continuum-c
lib="${CARGO_TARGET_DIR:-$root/target}/debug"

work="$(mktemp -d)"
db="continuum_c_test_$$_${RANDOM}"
rows=25

# The server's URL with another database (a query string kept).
url="$CONTINUUM_TEST_PG_URL"
query=""
if [[ "$url" == *\?* ]]; then
    query="?${url#*\?}"
    url="${url%%\?*}"
fi
db_url="${url%/*}/$db$query"

cleanup() {
    for name in "$db" "${db}_valgrind" "${db}_static"; do
        psql "$CONTINUUM_TEST_PG_URL" -q -X -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

psql "$CONTINUUM_TEST_PG_URL" -q -X -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\""
psql "$db_url" -q -X -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE items (id serial PRIMARY KEY, label text NOT NULL);
INSERT INTO items (label) SELECT 'item-' || i FROM generate_series(1, $rows) i;
SQL

cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -I bindings/c/include)
gcc "${cflags[@]}" bindings/c/tests/c/test.c -o "$work/test-shared" \
    -L "$lib" -l:libcontinuum_c.so -Wl,-rpath,"$lib" -lpthread
# The system libraries a Rust static library needs on Linux (`--print native-static-libs`).
gcc "${cflags[@]}" bindings/c/tests/c/test.c -o "$work/test-static" \
    "$lib/libcontinuum_c.a" -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
# The README's example, as written there.
awk '/^```c$/ {on = 1; next} /^```$/ {on = 0} on' bindings/c/README.md >"$work/example.c"
gcc "${cflags[@]}" "$work/example.c" -o "$work/example" \
    -L "$lib" -l:libcontinuum_c.so -Wl,-rpath,"$lib"
# The header is valid C++ too.
if command -v g++ >/dev/null; then
    echo '#include "continuum.h"' | g++ -std=c++17 -Wall -Werror -fsyntax-only -I bindings/c/include -x c++ -
fi

export CONTINUUM_C_TEST_DB="$db" CONTINUUM_C_TEST_ROWS="$rows" TMPDIR="$work"

echo "== C test, static library"
"$work/test-static" static

echo "== C test, shared library, under valgrind"
# Leaks (definite or possible) and invalid accesses fail the run; the suppressions are the
# Rust runtime's documented false positives (see the file).
valgrind --leak-check=full --show-leak-kinds=definite,possible \
    --errors-for-leak-kinds=definite,possible --error-exitcode=1 \
    --suppressions=bindings/c/tests/c/valgrind.supp \
    "$work/test-shared" valgrind

echo "== the README's example, under valgrind"
mkdir "$work/example-store"
valgrind --quiet --leak-check=full --show-leak-kinds=definite,possible \
    --errors-for-leak-kinds=definite,possible --error-exitcode=1 \
    --suppressions=bindings/c/tests/c/valgrind.supp \
    "$work/example" "$work/example-store" bindings/c/README.md >"$work/example.out"
grep -q '"set_id"' "$work/example.out"
grep -q 'status -2: invalid FQN' "$work/example.out"
echo "example: ok"
