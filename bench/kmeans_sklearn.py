"""k-means benchmark: Corral vs scikit-learn on 20,000 x 1280 float32 from 50 Gaussian clusters.

Runs the two alternately (A B A B ..., one seed per round), reports a per-seed table, median times
and the inertia ratio Corral/sklearn. Corral is timed as a whole process (`corral cluster
--embeddings FILE.npy`, including reading the file and writing JSON); scikit-learn only inside
KMeans.fit, so the comparison favours sklearn. Both use k-means++ (sklearn: greedy, 2+log k local
trials), n_init=1, Lloyd. Corral's default adds split/merge repairs after Lloyd; --no-repair-too
also runs Corral with --repairs 0 (the plain algorithm) in every round. The inertia of the true
partition (the generating blobs, centres = member means) is printed for reference.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
import numpy as np
from sklearn.cluster import KMeans

ap = argparse.ArgumentParser()
ap.add_argument("--corral", required=True)
ap.add_argument("--n", type=int, default=20000)
ap.add_argument("--d", type=int, default=1280)
ap.add_argument("--k", type=int, default=50)
ap.add_argument("--rounds", type=int, default=5, help="seeds 0..rounds-1 (first seed: --first-seed)")
ap.add_argument("--first-seed", type=int, default=0)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--corral-args", default="", help="extra arguments for corral cluster")
ap.add_argument("--no-repair-too", action="store_true", help="also run corral --repairs 0 each round")
args = ap.parse_args()

rng = np.random.default_rng(0)
centres = rng.normal(0, 1.0, (args.k, args.d)).astype(np.float32)
labels = rng.integers(0, args.k, args.n)
x = (centres[labels] + rng.normal(0, 0.6, (args.n, args.d))).astype(np.float32)
truth = sum(float(((x[labels == c] - x[labels == c].mean(0)) ** 2).sum()) for c in range(args.k))
tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "x.npy")
np.save(path, x)

try:
    from threadpoolctl import threadpool_limits
    limit = threadpool_limits(args.threads)
except Exception:
    pass

def corral(seed, extra):
    t0 = time.perf_counter()
    out = subprocess.run([args.corral, "cluster", "--embeddings", path, "--k", str(args.k), "--seed", str(seed),
                          "--format", "json"] + extra, capture_output=True, text=True, check=True)
    dt = time.perf_counter() - t0
    res = json.loads(out.stdout)
    return dt, res["inertia"], res["iterations"], res.get("repairs", 0)

rows = []
for r in range(args.first_seed, args.first_seed + args.rounds):
    row = {"seed": r}
    row["corral_s"], row["corral_inertia"], row["corral_iter"], row["corral_repairs"] = corral(r, args.corral_args.split())
    km = KMeans(n_clusters=args.k, init="k-means++", n_init=1, algorithm="lloyd", random_state=r)
    t0 = time.perf_counter()
    km.fit(x)
    row["sklearn_s"] = time.perf_counter() - t0
    row["sklearn_inertia"], row["sklearn_iter"] = float(km.inertia_), int(km.n_iter_)
    if args.no_repair_too:
        row["plain_s"], row["plain_inertia"], _, _ = corral(r, args.corral_args.split() + ["--repairs", "0"])
    rows.append(row)
    print(f"seed {r}: corral {row['corral_s']:.2f}s x{row['corral_inertia'] / truth:.4f} (repairs {row['corral_repairs']})"
          f"  sklearn {row['sklearn_s']:.2f}s x{row['sklearn_inertia'] / truth:.4f}"
          + (f"  corral --repairs 0 {row['plain_s']:.2f}s x{row['plain_inertia'] / truth:.4f}" if args.no_repair_too else "")
          + f"  ratio {row['corral_inertia'] / row['sklearn_inertia']:.4f}", file=sys.stderr, flush=True)

ratios = [r["corral_inertia"] / r["sklearn_inertia"] for r in rows]
ct = [r["corral_s"] for r in rows]; st = [r["sklearn_s"] for r in rows]
summary = {
    "n": args.n, "d": args.d, "k": args.k, "rounds": args.rounds, "truth_inertia": truth,
    "corral_seconds_median": statistics.median(ct), "sklearn_seconds_median": statistics.median(st),
    "time_ratio_corral_over_sklearn": statistics.median(ct) / statistics.median(st),
    "inertia_ratio_median": statistics.median(ratios), "inertia_ratio_max": max(ratios),
    "corral_over_truth_max": max(r["corral_inertia"] for r in rows) / truth,
    "sklearn_over_truth_max": max(r["sklearn_inertia"] for r in rows) / truth,
    "rows": rows,
}
if args.no_repair_too:
    summary["plain_over_truth_max"] = max(r["plain_inertia"] for r in rows) / truth
    summary["plain_seconds_median"] = statistics.median(r["plain_s"] for r in rows)
print(json.dumps(summary, indent=1))
