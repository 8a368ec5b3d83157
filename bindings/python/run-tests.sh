#!/usr/bin/env bash
# Builds the Python module into a venv and runs its tests and the stub check.
# Needs CONTINUUM_TEST_S3_ENDPOINT (an S3-compatible server, e.g. moto_server) and
# CONTINUUM_TEST_PG_URL (a PostgreSQL server whose user may create databases, with psql,
# pg_dump and pg_restore on the PATH) set by the caller; the tests fail without them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

venv="$root/target/python-venv"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
py="$venv/bin/python"

# Each of these packages is imported under its own name.
missing=()
for package in maturin pytest mypy boto3; do
    if ! "$py" -c "import $package" >/dev/null 2>&1; then
        missing+=("$package")
    fi
done
if ((${#missing[@]})); then
    "$py" -m pip install -q "${missing[@]}"
fi

# maturin develop installs into the active virtualenv.
export VIRTUAL_ENV="$venv"
export PATH="$venv/bin:$PATH"

(cd bindings/python && "$py" -m maturin develop -q)

"$py" -m pytest -q bindings/python/tests
# From target/, so that mypy's cache lands there and not in the work tree.
(cd target && "$py" -m mypy.stubtest continuum_backup)
