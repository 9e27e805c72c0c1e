#!/usr/bin/env bash
# Scale benchmark: clustering and near-duplicate groups of 100,000 synthetic embeddings
# (`corral bench group`, 1280-d, L2-normalised, topics/scenes/planted copy families), each phase
# in its own process under /usr/bin/time -v for wall time and peak RSS.
# Usage: bench/scale.sh [path/to/corral] [extra args for every phase, e.g. --n 20000]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(realpath "${1:-$here/../.build/release/corral}")"; shift || true
out="$here/out/scale"; mkdir -p "$out"
run() {   # name, args...
  local name="$1"; shift
  echo "load before $name: $(uptime | sed 's/.*load average: //')" >&2
  /usr/bin/time -v "$bin" bench group --format json "$@" > "$out/$name.json" 2> "$out/$name.time"
  local rss wall
  rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$out/$name.time")
  wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$out/$name.time")
  echo "{\"run\": \"$name\", \"args\": \"$*\", \"wall\": \"$wall\", \"peak_rss_mb\": $((rss / 1024)), \"result\": $(cat "$out/$name.json")}"
}
run cluster --phase cluster "$@"
run dups --phase dups --recall-sample 1000 "$@"
