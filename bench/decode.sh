#!/usr/bin/env bash
# Dev-only: Corral's `bench decode` against Pillow's best pipeline (bench/pillow_decode.py) on the
# same camera-size JPEGs, alternating the two for several rounds, at 1 thread; prints the medians
# and the ratio. Usage: bench/decode.sh [path/to/corral] [rounds]
# Camera-size inputs are made once from the dev-data photos (upscaled to 4000x3000, q90, 4:2:0 with
# ImageMagick) into $CORRAL_BENCH_DIR (default /tmp/corral-bench-decode); nothing is committed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/.build/release/corral}
rounds=${2:-5}
seconds=${BENCH_SECONDS:-3}
model=${BENCH_MODEL:-efficientnet-lite0}
data=${CORRAL_DEV_DATA:-$HOME/.cache/corral-dev-data}
dir=${CORRAL_BENCH_DIR:-/tmp/corral-bench-decode}

if [ ! -d "$dir" ] || [ -z "$(ls "$dir" 2>/dev/null)" ]; then
  command -v convert >/dev/null || { echo "decode.sh: ImageMagick 'convert' is needed to make the inputs" >&2; exit 1; }
  [ -d "$data" ] || { echo "decode.sh: no dev data at $data (make dev-data)" >&2; exit 1; }
  mkdir -p "$dir"
  i=0
  # The largest photos of the dev set, so upscaling adds as little blur as possible.
  while IFS= read -r f; do
    i=$((i + 1))
    convert "$f" -auto-orient -resize '4000x3000^' -gravity center -extent 4000x3000 \
      -quality 90 -sampling-factor 2x2 "$dir/camera_$i.jpg"
  done < <(find "$data/photos" -type f -name '*.jpg' -size +300k | sort | head -n 8)
fi
files=("$dir"/*.jpg)

venv=$root/bench/.venv-pillow
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet pillow numpy
fi
py=$venv/bin/python

echo "inputs: ${#files[@]} JPEGs in $dir ($(identify -format '%wx%h' "${files[0]}" 2>/dev/null || echo '?')), model $model, 1 thread, $rounds rounds of ${seconds}s each"
field() { sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p"; }
c=(); p=(); cc=(); pc=()
for r in $(seq "$rounds"); do
  pj=$("$py" "$root/bench/pillow_decode.py" --model "$model" --seconds "$seconds" --format json "${files[@]}")
  cj=$("$bin" bench decode --threads 1 --model "$model" --seconds "$seconds" --format json "${files[@]}")
  pr=$(field images_per_second <<<"$pj"); cr=$(field images_per_second <<<"$cj")
  pcpu=$(field cpu_ms_per_image <<<"$pj"); ccpu=$(field cpu_ms_per_image <<<"$cj")
  echo "round $r: pillow $pr img/s ($pcpu ms CPU/img), corral $cr img/s ($ccpu ms CPU/img)"
  p+=("$pr"); c+=("$cr"); pc+=("$pcpu"); cc+=("$ccpu")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
pm=$(median "${p[@]}"); cm=$(median "${c[@]}"); pcm=$(median "${pc[@]}"); ccm=$(median "${cc[@]}")
awk -v p="$pm" -v c="$cm" -v pc="$pcm" -v cc="$ccm" 'BEGIN {
  printf "median wall: pillow %.1f img/s, corral %.1f img/s -> corral/pillow = %.2fx\n", p, c, c/p
  printf "median CPU:  pillow %.2f ms/img, corral %.2f ms/img -> pillow/corral = %.2fx\n", pc, cc, pc/cc }'

# Thread scaling of Corral alone (same files).
for t in 1 2; do
  echo "corral threads=$t: $("$bin" bench decode --threads "$t" --model "$model" --seconds "$seconds" --format json "${files[@]}")"
done
