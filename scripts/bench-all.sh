#!/usr/bin/env bash
# Runs every benchmark that exists so far (see README, "Benchmarks"). Each prints its own figures.
set -uo pipefail
bin=${1:-.build/release/corral}
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
for s in "$root"/bench/*.sh; do echo "== $(basename "$s")"; bash "$s" "$bin"; done
