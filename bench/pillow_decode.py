#!/usr/bin/env python3
"""Pillow's best pipeline for the same job as `corral bench decode` (dev-only comparison).

Per file: Image.open on bytes already in memory, draft() so libjpeg decodes at a reduced DCT scale,
exif_transpose, then the model preprocessing (EfficientNet-Lite: centre crop + bicubic resize via
resize(box=...), which avoids a separate crop copy; torchvision: bilinear short-side resize + crop),
then conversion to a float32 NHWC array normalised as the model expects.
"""
import argparse, io, json, sys, time
import numpy as np
from PIL import Image, ImageOps

def prepare(data, model):
    im = Image.open(io.BytesIO(data))
    if model.startswith("efficientnet-lite"):
        s = {"efficientnet-lite0": 224, "efficientnet-lite1": 240, "efficientnet-lite2": 260}[model]
        im.draft("RGB", (2 * (s + 32), 2 * (s + 32)))  # the same decode size as Corral (Preprocessing.decodeShortSide)
        im = ImageOps.exif_transpose(im)
        if im.mode != "RGB":
            im = im.convert("RGB")
        w, h = im.size
        c = s * min(w, h) // (s + 32)
        top, left = (h - c + 1) // 2, (w - c + 1) // 2
        im = im.resize((s, s), Image.BICUBIC, box=(left, top, left + c, top + c))
        x = np.asarray(im, dtype=np.float32)
        return (x - 127.0) / 128.0
    im.draft("RGB", (512, 512))  # the same decode size as Corral
    im = ImageOps.exif_transpose(im)
    if im.mode != "RGB":
        im = im.convert("RGB")
    w, h = im.size
    nw, nh = (256, 256 * h // w) if w <= h else (256 * w // h, 256)
    top, left = int(round((nh - 224) / 2.0)), int(round((nw - 224) / 2.0))
    im = im.resize((224, 224), Image.BILINEAR, box=(left * w / nw, top * h / nh, (left + 224) * w / nw, (top + 224) * h / nh))
    x = np.asarray(im, dtype=np.float32) / 255.0
    return (x - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--model", default="efficientnet-lite0")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--format", default="text", choices=["json", "text"])
    a = ap.parse_args()
    inputs = [open(p, "rb").read() for p in a.paths]
    for d in inputs:  # warm-up
        prepare(d, a.model)
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while True:
        for d in inputs:
            prepare(d, a.model)
        n += len(inputs)
        el = time.perf_counter() - t0
        if el >= a.seconds:
            break
    rate = n / el
    cpu_ms = (time.process_time() - c0) * 1000 / n  # robust to other processes competing for cores
    if a.format == "json":
        print(json.dumps({"images": len(inputs), "images_per_second": round(rate, 2), "cpu_ms_per_image": round(cpu_ms, 3)}))
    else:
        print(f"{len(inputs)} images, {rate:.1f} images/s ({cpu_ms:.2f} ms CPU per image), Pillow {Image.__version__}")

if __name__ == "__main__":
    sys.exit(main())
