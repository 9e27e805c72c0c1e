"""k-means benchmark: Corral vs scikit-learn on 20,000 x 1280 float32 from 50 Gaussian clusters.

Runs the two alternately (A B A B ...), reports median times and the inertia ratio Corral/sklearn.
Corral is timed as a whole process (`corral cluster --embeddings FILE.npy`, including reading the
file and writing JSON); scikit-learn only inside KMeans.fit, so the comparison favours sklearn.
Both use k-means++ (sklearn: greedy, 2+log k local trials), n_init=1, Lloyd.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
import numpy as np
from sklearn.cluster import KMeans

ap = argparse.ArgumentParser()
ap.add_argument("--corral", required=True)
ap.add_argument("--n", type=int, default=20000)
ap.add_argument("--d", type=int, default=1280)
ap.add_argument("--k", type=int, default=50)
ap.add_argument("--rounds", type=int, default=5)
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()

rng = np.random.default_rng(0)
centres = rng.normal(0, 1.0, (args.k, args.d)).astype(np.float32)
labels = rng.integers(0, args.k, args.n)
x = (centres[labels] + rng.normal(0, 0.6, (args.n, args.d))).astype(np.float32)
tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "x.npy")
np.save(path, x)

try:
    from threadpoolctl import threadpool_limits
    limit = threadpool_limits(args.threads)
except Exception:
    pass

ct, st, ci, si, citers, sitres = [], [], [], [], [], []
for r in range(args.rounds):
    t0 = time.perf_counter()
    out = subprocess.run([args.corral, "cluster", "--embeddings", path, "--k", str(args.k), "--seed", str(r),
                          "--format", "json"], capture_output=True, text=True, check=True)
    ct.append(time.perf_counter() - t0)
    res = json.loads(out.stdout)
    ci.append(res["inertia"]); citers.append(res["iterations"])

    km = KMeans(n_clusters=args.k, init="k-means++", n_init=1, algorithm="lloyd", random_state=r)
    t0 = time.perf_counter()
    km.fit(x)
    st.append(time.perf_counter() - t0)
    si.append(km.inertia_); sitres.append(km.n_iter_)

ratios = [c / s for c, s in zip(ci, si)]
print(json.dumps({
    "n": args.n, "d": args.d, "k": args.k, "rounds": args.rounds,
    "corral_seconds_median": statistics.median(ct), "sklearn_seconds_median": statistics.median(st),
    "time_ratio_corral_over_sklearn": statistics.median(ct) / statistics.median(st),
    "inertia_ratio_median": statistics.median(ratios), "inertia_ratio_max": max(ratios),
    "corral_iterations": citers, "sklearn_iterations": sitres,
    "corral_seconds": ct, "sklearn_seconds": st,
}, indent=1))
