#!/bin/bash
# Two Corral variants side by side: `bench embed` CPU time per image, run in alternating order
# (A then B on odd rounds, B then A on even ones: a fixed order measured 5-10% against whichever
# side ran second on this VM), median of the per-round ratios B/A.
#   bench/ab.sh ROUNDS bin BINARY_A BINARY_B -- bench embed args...
#   bench/ab.sh ROUNDS env "VAR=a" "VAR=b" -- bench embed args...   (binary: $BIN or .build/release/corral)
# e.g. bench/ab.sh 8 env CORRAL_ROW1=0 CORRAL_ROW1=1 -- --model efficientnet-lite0 --threads 1 --batch 1 --seconds 2
# STAT=p10 compares the fastest tenth of the calls (call_ms_per_image_p10) instead of CPU time per
# image: this VM's core alternates between two speeds ~25% apart, which the CPU time averages over
# in whatever mix each run got; the fastest tenth compares both sides in the fast phase.
set -euo pipefail
rounds=$1; mode=$2; a=$3; b=$4; shift 5
bin=${BIN:-.build/release/corral}
field=cpu_ms_per_image
if [ "${STAT:-cpu}" = p10 ]; then field=call_ms_per_image_p10; fi
one() {   # one side: prints the chosen figure (ms per image)
    if [ "$mode" = bin ]; then cmd=("$1"); else cmd=(env "$1" "$bin"); fi
    shift
    "${cmd[@]}" bench embed "$@" --format json 2>/dev/null | python3 -c "import json, sys; print(json.load(sys.stdin)['$field'])"
}
for i in $(seq "$rounds"); do
    if (( i % 2 )); then x=$(one "$a" "$@"); y=$(one "$b" "$@"); else y=$(one "$b" "$@"); x=$(one "$a" "$@"); fi
    echo "$x $y"
done | python3 -c '
import statistics, sys
rows = [tuple(map(float, line.split())) for line in sys.stdin]
print("B/A per round:", " ".join(f"{b / a:.3f}" for a, b in rows))
print(f"ms/image ('"$field"'), median: A {statistics.median(a for a, _ in rows):.2f}, B {statistics.median(b for _, b in rows):.2f}; "
      f"median of per-round B/A {statistics.median(b / a for a, b in rows):.3f}")'
