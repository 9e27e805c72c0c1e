#!/usr/bin/env bash
# Dev-only: does `corral scan` overlap decoding and inference? Compares, on the same camera-size
# JPEGs and in alternating rounds, the scan's pipeline rate with the decode-only rate
# (`corral bench decode`) and the embed-only rate (`corral bench embed`), all on 2 threads/cores.
# Target: scan >= 85% of the slower of the two. Prints per-round figures and the medians.
# Usage: bench/scan.sh [path/to/corral] [rounds]
# Inputs: $CORRAL_BENCH_SCAN_DIR (default /tmp/corral-bench-scan), made once from the dev-data photos
# with ImageMagick: 4000x3000, q90, 4:2:0, each a distinct crop/tint so no two files share content
# (identical bytes would be embedded once). Nothing is committed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/.build/release/corral}
rounds=${2:-3}
count=${BENCH_IMAGES:-48}
threads=${BENCH_THREADS:-2}
seconds=${BENCH_SECONDS:-5}
model=${BENCH_MODEL:-efficientnet-lite0}
data=${CORRAL_DEV_DATA:-$HOME/.cache/corral-dev-data}
dir=${CORRAL_BENCH_SCAN_DIR:-/tmp/corral-bench-scan}

if [ "$(ls "$dir" 2>/dev/null | wc -l)" -lt "$count" ]; then
  command -v convert >/dev/null || { echo "scan.sh: ImageMagick 'convert' is needed to make the inputs" >&2; exit 1; }
  [ -d "$data/photos" ] || { echo "scan.sh: no dev data at $data (make dev-data)" >&2; exit 1; }
  mkdir -p "$dir"
  mapfile -t srcs < <(find "$data/photos" -type f -name '*.jpg' -size +300k | sort | head -n 12)
  for i in $(seq 0 $((count - 1))); do
    src=${srcs[$((i % ${#srcs[@]}))]}
    crop=$((100 - (i / ${#srcs[@]}) * 7))   # 100%, 93%, 86%, ... of the frame: distinct content
    convert "$src" -auto-orient -gravity center -crop "${crop}%x${crop}%+0+0" +repage \
      -resize '4000x3000^' -extent 4000x3000 -modulate 100,100,$((95 + i % 10)) \
      -quality 90 -sampling-factor 2x2 "$dir/camera_$(printf %03d "$i").jpg" 2>/dev/null
  done
fi
files=("$dir"/*.jpg)
has_embed=0
"$bin" bench embed --help >/dev/null 2>&1 && has_embed=1

field() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "inputs: ${#files[@]} JPEGs in $dir ($(identify -format '%wx%h' "${files[0]}" 2>/dev/null || echo '?')), model $model, $threads threads, $rounds rounds; load: $(uptime | sed 's/.*load average: //')"
# Per round, alternating: decode-only (what `embed` does per image), the scan's whole decode stage
# (hash, decode, model input, thumbnail, signature, thumbnail JPEG), embed-only, then the scan with
# decode workers niced by 5 (the default) and at equal priority (--decode-nice 0).
d=(); g=(); e=(); s=(); s0=(); c=(); gcs=(); sc=()
for r in $(seq "$rounds"); do
  dr=$("$bin" bench decode --threads "$threads" --model "$model" --seconds "$seconds" --format json "${files[@]}" | field images_per_second)
  gj=$("$bin" bench decode --stage scan --threads "$threads" --model "$model" --seconds "$seconds" --format json "${files[@]}")
  gr=$(echo "$gj" | field images_per_second); gc=$(echo "$gj" | field cpu_ms_per_image)
  if [ $has_embed = 1 ]; then
    er=$("$bin" bench embed --threads "$threads" --model "$model" --batch 16 --seconds "$seconds" --format json | field images_per_second)
  else er=0; fi
  for nice in default 0; do
    cache=$(mktemp -d)
    extra=(); [ "$nice" = 0 ] && extra=(--decode-nice 0)
    out=$("$bin" scan "$dir" --cache "$cache" --model "$model" --threads "$threads" --decode-threads "$threads" "${extra[@]}" --format json --quiet)
    if [ "$nice" = default ]; then
      "$bin" cache prune --cache "$cache" --model "$model" >/dev/null   # checkpoint + VACUUM: the size at rest
      bytes=$("$bin" cache info --cache "$cache" --model "$model" --format json | field bytes)
      c+=("$(awk -v b="$bytes" -v n="${#files[@]}" 'BEGIN {printf "%.1f", b / n / 1024}')")
      s+=("$(echo "$out" | field pipeline_images_per_second)"); sc+=("$(echo "$out" | field pipeline_cpu_ms_per_image)")
    else
      s0+=("$(echo "$out" | field pipeline_images_per_second)")
    fi
    rm -rf "$cache"
  done
  echo "round $r: decode-only $dr img/s, decode stage $gr img/s, embed-only $er img/s, scan ${s[-1]} img/s (decode workers at equal priority: ${s0[-1]} img/s), cache ${c[-1]} KB/image"
  echo "         CPU per image: decode stage $gc ms, whole scan ${sc[-1]} ms"
  d+=("$dr"); g+=("$gr"); e+=("$er"); gcs+=("$gc")
done
dm=$(median "${d[@]}"); gm=$(median "${g[@]}"); em=$(median "${e[@]}"); sm=$(median "${s[@]}"); s0m=$(median "${s0[@]}"); gcm=$(median "${gcs[@]}"); scm=$(median "${sc[@]}")
awk -v gc="$gcm" -v sc="$scm" -v cores="$threads" -v d="$dm" -v g="$gm" -v e="$em" -v s="$sm" -v s0="$s0m" 'BEGIN {
  slow = (e > 0 && e < d) ? e : d
  printf "median: decode-only %.1f img/s, decode stage %.1f img/s, embed-only %s img/s, scan %.1f img/s (equal priority %.1f)\n", d, g, (e > 0 ? sprintf("%.1f", e) : "n/a"), s, s0
  printf "scan / slower stage = %.0f%% (target >= 85%%)\n", 100 * s / slow
  if (e > 0) {
    sd = 1 / (1/d + 1/e); sg = 1 / (1/g + 1/e)
    printf "serial-sum ceiling 1/(1/decode + 1/embed): %.1f img/s with decode-only (scan at %.0f%%), %.1f img/s with the decode stage (scan at %.0f%%)\n", sd, 100 * s / sd, sg, 100 * s / sg
    printf "85%% of the slower stage needs the cheaper stage to cost <= 17.6%% of the dearer; here decode stage / embed cost = %.2f\n", e / g
  }
  ec = sc - gc
  printf "CPU per image (load-independent): decode stage %.1f ms + embed %.1f ms (scan minus decode stage) = scan %.1f ms\n", gc, ec, sc
  hi = (gc > ec) ? gc : ec; lo = (gc > ec) ? ec : gc
  printf "so on %d cores: scan <= %.1f img/s, slower stage alone %.1f img/s, bound on scan / slower stage = %.0f%%\n", cores, 1000 * cores / sc, 1000 * cores / hi, 100 * hi / sc
}'
