#!/usr/bin/env bash
# Embedder speed: `corral bench embed` for the default model and ResNeXt-50 32x4d at the two
# configurations issue 5 names (2 threads batch 8, 1 thread batch 1), with the per-kind profile,
# then the side-by-side comparison with ONNX Runtime on the same weights (bench/compare_onnxruntime.py,
# which makes its own venv). Usage: bench/embed.sh [path/to/corral] [--quick]
set -euo pipefail
bin=${1:-.build/release/corral}
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=3; rounds=5
if [[ "${2:-}" == "--quick" ]]; then seconds=1; rounds=1; fi
for model in efficientnet-lite0 resnext50_32x4d; do
  for cfg in "2 8" "1 1"; do
    set -- $cfg
    "$bin" bench embed --model "$model" --threads "$1" --batch "$2" --seconds "$seconds" --profile --format json
  done
done
python3 "$root/bench/compare_onnxruntime.py" --binary "$bin" --rounds "$rounds" --seconds "$seconds"
