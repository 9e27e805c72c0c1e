#!/usr/bin/env python3
"""Dev-only: quality and speed of the EfficientNet-Lite models on the real photos (dev-data), to
choose the default model. Runs the built `corral` binary; needs numpy.

    python3 tools/model_quality.py [--bin .build/release/corral] [--rounds 3] [--models efficientnet-lite0,efficientnet-lite2]

Quality:
  - known.csv: top-1 / top-5 hits of the expected ImageNet classes (scikit-image / torchvision photos).
  - same-scene pairs: photos of one scene (stereo pairs, a re-saved copy, the same wallpaper at three
    sizes); a hit when each one's nearest neighbour (cosine, among all dev-data photos) is its partner.
  - margin: mean cosine to the partner minus mean cosine to the nearest non-partner (higher separates
    near-duplicates from the rest more cleanly).
Speed: `corral embed` over all photos (decode + preprocessing + inference), the models alternated and
the median of --rounds taken, reported as images/s and as a ratio to the first model.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEV = os.environ.get("CORRAL_DEV_DATA", os.path.expanduser("~/.cache/corral-dev-data"))

PAIRS = [
    ("opencv-doc/aloeL.jpg", "opencv-doc/aloeR.jpg"),
    ("opencv-doc/leuvenA.jpg", "opencv-doc/leuvenB.jpg"),
    ("opencv-doc/Blender_Suzanne1.jpg", "opencv-doc/Blender_Suzanne2.jpg"),
    ("opencv-doc/aero1.jpg", "opencv-doc/aero3.jpg"),
    ("opencv-doc/ela_original.jpg", "opencv-doc/ela_modified.jpg"),
    ("opencv-doc/basketball1.png", "opencv-doc/basketball2.png"),
    ("opencv-doc/graf1.png", "opencv-doc/graf3.png"),
    ("opencv-doc/rubberwhale1.png", "opencv-doc/rubberwhale2.png"),
    ("opencv-doc/left.jpg", "opencv-doc/right.jpg"),
    ("opencv-doc/imageTextN.png", "opencv-doc/imageTextR.png"),
    ("mate-backgrounds/Elephants.jpg", "mate-backgrounds/Elephants_3840x2160.jpg"),
    ("mate-backgrounds/Elephants_3840x2160.jpg", "mate-backgrounds/Elephants_5640x3172.jpg"),
]


def run(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p, time.perf_counter() - t


def embed(binary, model, threads):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "e.npy")
        # known/ and photos/ are the 152 photos of manifest.csv (x/ holds the unpacked packages,
        # with copies of the same files, which would make every nearest neighbour an exact twin).
        p, seconds = run([binary, "embed", os.path.join(DEV, "known"), os.path.join(DEV, "photos"), "--format", "npy", "--out", out, "--model", model,
                          "--quiet", "--threads", str(threads)])
        if p.returncode not in (0, 2):
            sys.exit(f"corral embed failed: {p.stderr}")
        x = np.load(out)
        paths = open(out[:-4] + ".paths.txt").read().splitlines()
    return x, paths, seconds


def known_accuracy(binary, model):
    rows = list(csv.DictReader(open(os.path.join(DEV, "known.csv"))))
    files = [os.path.join(DEV, r["path"]) for r in rows]
    p, _ = run([binary, "classify", *files, "--format", "json", "--top", "5", "--model", model, "--quiet"])
    result = {r["path"]: [t["index"] for t in r["top"]] for r in json.loads(p.stdout)}
    top1 = top5 = 0
    detail = []
    for r, f in zip(rows, files):
        expected = {int(v) for v in r["expected_any_of"].split()}
        got = result[os.path.abspath(f)]
        top1 += got[0] in expected
        top5 += bool(expected & set(got))
        detail.append(f"{r['path']}: {got[0]}{'' if got[0] in expected else ' (miss)'}")
    return top1, top5, len(rows), detail


def pair_quality(x, paths):
    index = {os.path.relpath(p, os.path.join(DEV, "photos")): i for i, p in enumerate(paths)}
    sims = x @ x.T
    np.fill_diagonal(sims, -2)
    hits = total = 0
    partner_sims, other_sims = [], []
    for a, b in PAIRS:
        if a not in index or b not in index:
            continue
        ia, ib = index[a], index[b]
        for i, j in ((ia, ib), (ib, ia)):
            total += 1
            hits += int(np.argmax(sims[i]) == j)
            partner_sims.append(sims[i, j])
            row = sims[i].copy()
            row[j] = -2
            other_sims.append(row.max())
    return hits, total, float(np.mean(partner_sims)), float(np.mean(other_sims))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release", "corral"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default="efficientnet-lite0,efficientnet-lite1,efficientnet-lite2")
    a = ap.parse_args()
    models = a.models.split(",")
    times = {m: [] for m in models}
    data = {}
    for _ in range(a.rounds):
        for m in models:   # alternate so load on the shared machine hits every model alike
            x, paths, s = embed(a.bin, m, a.threads)
            times[m].append(s)
            data[m] = (x, paths)
    print(f"| model | known top-1 | known top-5 | same-scene NN | partner cos | nearest other cos | images/s (embed, {a.threads} threads) | speed vs {models[0]} |")
    print("|---|---|---|---|---|---|---|---|")
    base = None
    for m in models:
        x, paths = data[m]
        t1, t5, n, detail = known_accuracy(a.bin, m)
        hits, total, ps, os_ = pair_quality(x, paths)
        rate = len(paths) / float(np.median(times[m]))
        base = base or rate
        print(f"| {m} | {t1}/{n} | {t5}/{n} | {hits}/{total} | {ps:.3f} | {os_:.3f} | {rate:.1f} | {rate / base:.2f} |")
        print("   ", "; ".join(detail), file=sys.stderr)
    print(f"\n{len(data[models[0]][1])} photos; embed times (s): " +
          ", ".join(f"{m}: {' '.join(f'{t:.1f}' for t in times[m])}" for m in models))


if __name__ == "__main__":
    main()
