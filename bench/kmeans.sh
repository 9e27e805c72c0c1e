#!/usr/bin/env bash
# k-means benchmark (bench/kmeans_sklearn.py) in its own venv with numpy + scikit-learn from PyPI.
# Usage: bench/kmeans.sh [path/to/corral] [extra args for kmeans_sklearn.py]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../.build/release/corral}"; shift || true
venv="$here/.venv-grouping"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q numpy scikit-learn threadpoolctl imagehash pillow
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
"$venv/bin/python" "$here/kmeans_sklearn.py" --corral "$(realpath "$bin")" "$@"
