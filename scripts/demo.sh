#!/usr/bin/env bash
# The main job: a full backup and restore of a demo cluster on the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet -p continuum-examples --example store_round_trip -- "${1:-target/demo}"
