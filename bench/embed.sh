#!/usr/bin/env bash
# Embedder speed: `corral bench embed` for the default model and ResNeXt-50 32x4d at the two
# configurations issue 5 names (2 threads batch 8, 1 thread batch 1), with the per-kind profile,
# the per-layer profile and the design switches of Lite0, then the side-by-side comparison with ONNX Runtime on the same weights (bench/compare_onnxruntime.py,
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
# Per-layer profile at 1 thread (thread CPU time per step), then the design switches side by side:
# default, layer by layer (CORRAL_FUSE=0), pointer-table depthwise (CORRAL_DW_TILED=0), alternating.
"$bin" bench embed --model efficientnet-lite0 --threads 1 --batch 1 --seconds "$seconds" --profile-layers
for round in $(seq "$rounds"); do
  for switch in default CORRAL_FUSE=0 CORRAL_DW_TILED=0; do
    env $([[ $switch == default ]] || echo "$switch") "$bin" bench embed --model efficientnet-lite0 --threads 1 --batch 1 \
      --seconds "$seconds" --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print("round %s %-18s %6.1f img/s %6.2f CPU ms/image" % (sys.argv[1], sys.argv[2], d["images_per_second"], d["cpu_ms_per_image"]))' "$round" "$switch"
  done
done
python3 "$root/bench/compare_onnxruntime.py" --binary "$bin" --rounds "$rounds" --seconds "$seconds"
