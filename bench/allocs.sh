#!/bin/bash
# Heap allocations per image of `corral bench embed`: two runs of different lengths under an
# LD_PRELOAD malloc counter (bench/malloc_count.c); the difference in calls over the difference in
# images excludes start-up (argument parsing, loading and packing the weights).
# usage: bench/allocs.sh [BINARY] [MODEL] [THREADS] [BATCH]
set -euo pipefail
BIN=${1:-.build/release/corral}; MODEL=${2:-efficientnet-lite0}; THREADS=${3:-1}; BATCH=${4:-1}
SHIM=$(mktemp -d)/malloc_count.so
gcc -O2 -shared -fPIC "$(dirname "$0")/malloc_count.c" -o "$SHIM" -ldl
run() {
    LD_PRELOAD=$SHIM "$BIN" bench embed --model "$MODEL" --threads "$THREADS" --batch "$BATCH" --seconds "$1" --format json 2>&1 \
        | python3 -c 'import sys, json, re
text = sys.stdin.read()
calls = int(re.search(r"malloc calls: (\d+)", text).group(1))
images = json.loads(text[text.index("{"):text.rindex("}") + 1])["images"]
print(calls, images)'
}
read -r c1 i1 < <(run 1)
read -r c2 i2 < <(run 4)
python3 -c "print(f'$MODEL, $THREADS thread(s), batch $BATCH: {($c2 - $c1) / ($i2 - $i1):.1f} heap allocations per image ({$c2 - $c1} calls over {$i2 - $i1} images)')"
