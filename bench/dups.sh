#!/usr/bin/env bash
# Duplicate-finding benchmark: builds the set from real photos, then scores imagehash pHash/dHash
# (best thresholds) and `corral dups` pairwise. Own venv (numpy, pillow, imagehash from PyPI).
# Usage: bench/dups.sh [path/to/corral] [--originals N]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../.build/release/corral}"; shift || true
venv="$here/.venv-grouping"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q numpy scikit-learn threadpoolctl imagehash pillow
fi
set_dir="$here/out/dups-set"
"$venv/bin/python" "$here/dups_make_set.py" --out "$set_dir" "$@"
corral_arg=()
if [ -x "$bin" ] && "$bin" --help 2>/dev/null | grep -q " dups "; then corral_arg=(--corral "$(realpath "$bin")"); fi
CORRAL_CACHE="${CORRAL_CACHE:-$here/out/cache}" "$venv/bin/python" "$here/dups_eval.py" --set "$set_dir" "${corral_arg[@]}"
