"""Pairwise precision / recall / F1 of duplicate finders on the set from dups_make_set.py.

- imagehash pHash and dHash (64-bit): a pair is called a duplicate when the Hamming distance is at
  most t; every t in 0..32 is tried and the best F1 is reported (the most favourable setting).
- Corral: `corral dups DIR --no-similar --format json`; a pair is called a duplicate when both are in
  one group (complete linkage: every pair in a group passed).
"""
import argparse, csv, itertools, json, os, subprocess, sys, time
import numpy as np
import imagehash
from PIL import Image

ap = argparse.ArgumentParser()
ap.add_argument("--set", required=True)
ap.add_argument("--corral")
ap.add_argument("--corral-args", default="")
args = ap.parse_args()

truth = list(csv.DictReader(open(os.path.join(args.set, "truth.csv"))))
paths = [r["path"] for r in truth]
fam = {r["path"]: r["family"] for r in truth}
ignore = {frozenset((r["a"], r["b"])) for r in csv.DictReader(open(os.path.join(args.set, "ignore.csv")))}
idx = {p: i for i, p in enumerate(paths)}
n = len(paths)
pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if frozenset((paths[i], paths[j])) not in ignore]
positive = np.array([fam[paths[i]] == fam[paths[j]] for i, j in pairs])
P = int(positive.sum())

def score(pred):
    tp = int((pred & positive).sum()); fp = int((pred & ~positive).sum()); fn = P - tp
    prec = tp / (tp + fp) if tp + fp else 1.0; rec = tp / P if P else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4), "tp": tp, "fp": fp, "fn": fn}

results = {"images": n, "pairs": len(pairs), "positive_pairs": P}
for name, fn in [("phash", imagehash.phash), ("dhash", imagehash.dhash)]:
    t0 = time.perf_counter()
    hs = np.array([np.packbits(fn(Image.open(p)).hash.flatten()) for p in paths])
    bits = np.unpackbits(hs, axis=1).astype(np.int16)
    I = np.array([p[0] for p in pairs]); J = np.array([p[1] for p in pairs])
    dist = (bits[I] != bits[J]).sum(axis=1)
    best = max(({"threshold": t, **score(dist <= t)} for t in range(0, 33)), key=lambda s: s["f1"])
    best["seconds"] = round(time.perf_counter() - t0, 2)
    results[name] = best

if args.corral:
    t0 = time.perf_counter()
    cmd = [args.corral, "dups", args.set, "--no-similar", "--format", "json", "--quiet"] + args.corral_args.split()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode not in (0, 2): sys.exit(f"corral failed: {out.stderr}")
    groups = json.loads(out.stdout)["groups"]
    gid = {}
    for g, grp in enumerate(groups):
        for im in grp["images"]: gid[im["path"]] = g
    pred = np.array([paths[i] in gid and gid.get(paths[i]) == gid.get(paths[j]) for i, j in pairs])
    results["corral"] = {**score(pred), "seconds": round(time.perf_counter() - t0, 2), "groups": len(groups)}
    # Which copy kinds are missed (recall per variant kind against the family's original).
    miss = {}
    for p in paths:
        base = os.path.basename(p)
        if "__" in base:
            kind = base.split("__")[1].rsplit(".", 1)[0]
            orig = os.path.join(os.path.abspath(args.set), base.split("__")[0] + ".jpg")
            hit = p in gid and gid.get(orig) == gid[p]
            miss.setdefault(kind, [0, 0]); miss[kind][0] += hit; miss[kind][1] += 1
    results["corral_recall_by_kind_vs_original"] = {k: f"{v[0]}/{v[1]}" for k, v in sorted(miss.items())}
print(json.dumps(results, indent=1))
