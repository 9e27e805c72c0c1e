#!/usr/bin/env python3
"""Corral's embedder vs ONNX Runtime on the same network, same weights, same machine, side by side.

Dev-only. Makes its own venv (bench/.venv-ort: onnx, onnxruntime, numpy from PyPI) on first run.

For each model it
  1. builds the network as an ONNX graph with onnx.helper from the very tensors Corral loads:
     EfficientNet-Lite0 from assets/weights/efficientnet-lite0-*.pth (read with pickle +
     persistent_load, no torch), ResNeXt-50 32x4d from seeded random weights (no pretrained
     weights can be fetched here); batch norm is folded the same way Corral folds it;
  2. writes those tensors as <model>.safetensors into a temporary model folder (CORRAL_MODELS);
  3. runs `corral bench embed --dump DIR` once and checks that ONNX Runtime's logits on Corral's
     dumped input agree with Corral's logits;
  4. alternates ONNX Runtime and `corral bench embed` for several rounds (same threads, same batch,
     same measuring time), and prints the medians and the ratio corral / ORT.

Usage (from the repository root, after `make build`):
  python3 bench/compare_onnxruntime.py                       # lite0 and resnext50, 2 threads batch 8 and 1 thread batch 1
  python3 bench/compare_onnxruntime.py --models efficientnet-lite0 --configs 2x8 --rounds 5 --seconds 3
  python3 bench/compare_onnxruntime.py --fresh-ort    # each ORT round in a new process, like Corral's
"""
import argparse
import json
import os
import pickle
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(HERE, ".venv-ort")


def ensure_venv():
    """Re-executes inside bench/.venv-ort, creating it (onnx, onnxruntime, numpy) if needed."""
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(py):
        print("creating", VENV, file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([py, "-m", "pip", "install", "-q", "onnx", "onnxruntime", "numpy"])
    os.execv(py, [py] + sys.argv)


ensure_venv()

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


# ---------------------------------------------------------------- weights

class _Tensor:
    """What torch._utils._rebuild_tensor_v2 would build, recorded until the storages are read."""
    def __init__(self, storage, offset, size, stride, *_):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


_STORAGE_DTYPES = {"FloatStorage": "<f4", "LongStorage": "<i8", "IntStorage": "<i4", "DoubleStorage": "<f8"}


class _StateDictUnpickler(pickle.Unpickler):
    """Only what a state dict needs; any other global is refused."""
    def __init__(self, f):
        super().__init__(f)
        self.dtypes = {}

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _Tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        raise pickle.UnpicklingError(f"refused global {module}.{name}")

    def persistent_load(self, pid):
        # ('storage', storage type, key, location, element count)
        self.dtypes[str(pid[2])] = _STORAGE_DTYPES[pid[1]]
        return str(pid[2])


def read_legacy_pth(path):
    """PyTorch's legacy format: magic, protocol, sys info, the state dict pickle, the storage key
    list, then each storage as an 8-byte element count and raw little-endian data."""
    with open(path, "rb") as f:
        for _ in range(3):
            pickle.load(f)
        up = _StateDictUnpickler(f)
        sd = up.load()
        keys = pickle.load(f)
        storages = {}
        for key in keys:
            (n,) = struct.unpack("<q", f.read(8))
            dtype = np.dtype(up.dtypes[str(key)])
            storages[str(key)] = np.frombuffer(f.read(dtype.itemsize * n), dtype=dtype)
    out = OrderedDict()
    for name, t in sd.items():
        # Float tensors only: batch norm's num_batches_tracked counters play no part in inference.
        if not isinstance(t, _Tensor) or storages[t.storage].dtype != np.float32:
            continue
        flat = storages[t.storage]
        view = np.lib.stride_tricks.as_strided(flat[t.offset:], shape=t.size, strides=tuple(4 * s for s in t.stride))
        out[name] = np.array(view, dtype=np.float32)
    return out


def write_safetensors(tensors, path, metadata):
    header, offset = {}, 0
    for name, a in tensors.items():
        n = a.size * 4
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + n]}
        offset += n
    header["__metadata__"] = metadata
    blob = json.dumps(header).encode()
    blob += b" " * (-len(blob) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for a in tensors.values():
            f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())
    os.replace(tmp, path)


def resnext50_weights(seed=20261129):
    """torchvision resnext50_32x4d key names and shapes, seeded values with He-scaled convolutions
    and near-identity batch norms (last BN of each block damped so depth does not blow up)."""
    rng = np.random.default_rng(seed)
    sd = OrderedDict()

    def conv(name, o, i, k):
        sd[name] = (rng.uniform(-1, 1, (o, i, k, k)) * np.sqrt(6 / (i * k * k))).astype(np.float32)

    def bn(name, c, gamma=1.0):
        sd[name + ".weight"] = (gamma * rng.uniform(0.75, 1.0, c)).astype(np.float32)
        sd[name + ".bias"] = rng.uniform(-0.1, 0.1, c).astype(np.float32)
        sd[name + ".running_mean"] = rng.uniform(-0.1, 0.1, c).astype(np.float32)
        sd[name + ".running_var"] = rng.uniform(1.0, 1.25, c).astype(np.float32)

    conv("conv1.weight", 64, 3, 7)
    bn("bn1", 64)
    inplanes = 64
    for li, (planes, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
        width = planes * 2  # planes * (4 / 64) * 32
        for b in range(blocks):
            p = f"layer{li + 1}.{b}"
            conv(p + ".conv1.weight", width, inplanes, 1)
            bn(p + ".bn1", width)
            conv(p + ".conv2.weight", width, width // 32, 3)
            bn(p + ".bn2", width)
            conv(p + ".conv3.weight", planes * 4, width, 1)
            bn(p + ".bn3", planes * 4, gamma=0.3)
            if b == 0:
                conv(p + ".downsample.0.weight", planes * 4, inplanes, 1)
                bn(p + ".downsample.1", planes * 4)
            inplanes = planes * 4
    sd["fc.weight"] = (rng.uniform(-1, 1, (1000, 2048)) * np.sqrt(6 / 2048)).astype(np.float32)
    sd["fc.bias"] = rng.uniform(-0.1, 0.1, 1000).astype(np.float32)
    return sd


# ---------------------------------------------------------------- ONNX graphs

class GraphBuilder:
    def __init__(self, sd, eps):
        self.sd, self.eps = sd, eps
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, base, array):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), n))
        return n

    def conv(self, x, weight, bn, stride, pads, groups, bias=None):
        """Conv with batch norm folded in (in float64, like Corral's loader). pads: top, left, bottom, right."""
        w = self.sd[weight].astype(np.float64)
        b = self.sd[bias].astype(np.float64) if bias else np.zeros(w.shape[0])
        if bn:
            g, beta = self.sd[bn + ".weight"].astype(np.float64), self.sd[bn + ".bias"].astype(np.float64)
            mean, var = self.sd[bn + ".running_mean"].astype(np.float64), self.sd[bn + ".running_var"].astype(np.float64)
            scale = g / np.sqrt(var + self.eps)
            w = w * scale[:, None, None, None]
            b = (b - mean) * scale + beta
        y = self.name("conv")
        self.nodes.append(helper.make_node(
            "Conv", [x, self.const("w", w), self.const("b", b)], [y], strides=[stride, stride],
            pads=[pads[0], pads[1], pads[2], pads[3]], group=groups, kernel_shape=list(w.shape[2:])))
        return y

    def op(self, kind, inputs, **attrs):
        y = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [y], **attrs))
        return y

    def relu6(self, x):
        return self.op("Clip", [x, self.const("lo", np.array(0.0)), self.const("hi", np.array(6.0))])

    def head(self, x, fc):
        pooled = self.op("GlobalAveragePool", [x])
        flat = self.op("Flatten", [pooled], axis=1)
        return self.op("Gemm", [flat, self.const("fcw", self.sd[fc + ".weight"]), self.const("fcb", self.sd[fc + ".bias"])],
                       transB=1)

    def model(self, x, y, size):
        graph = helper.make_graph(self.nodes, "corral_compare",
                                  [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["N", 3, size, size])],
                                  [helper.make_tensor_value_info(y, TensorProto.FLOAT, ["N", 1000])],
                                  initializer=self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2, out


def efficientnet_lite0_onnx(sd, size=224):
    """Stem 3x3/2 -> MBConv blocks (expand 1x1, depthwise kxk, project 1x1; ReLU6 except after the
    projection; residual when stride 1 and in == out) -> head 1x1 to 1280 -> pool -> fc. TF 'SAME'."""
    g = GraphBuilder(sd, 1e-3)
    strides = []
    for repeats, stride in [(1, 1), (2, 2), (2, 2), (3, 2), (3, 1), (4, 2), (1, 1)]:
        strides += [stride] + [1] * (repeats - 1)

    def conv_same(x, h, weight, bn, stride, groups=1):
        k = sd[weight].shape[2]
        a, b, out = same_pads(h, k, stride)
        return g.conv(x, weight, bn, stride, (a, a, b, b), groups), out

    x, h = conv_same("input", size, "_conv_stem.weight", "_bn0", 2)
    x = g.relu6(x)
    channels = 32
    for i, stride in enumerate(strides):
        p = f"_blocks.{i}."
        inp = x
        if p + "_expand_conv.weight" in sd:
            x, _ = conv_same(x, h, p + "_expand_conv.weight", p + "_bn0", 1)
            x = g.relu6(x)
        dw = sd[p + "_depthwise_conv.weight"].shape[0]
        x, h2 = conv_same(x, h, p + "_depthwise_conv.weight", p + "_bn1", stride, groups=dw)
        x = g.relu6(x)
        x, _ = conv_same(x, h2, p + "_project_conv.weight", p + "_bn2", 1)
        out = sd[p + "_project_conv.weight"].shape[0]
        if stride == 1 and out == channels:
            x = g.op("Add", [x, inp])
        channels, h = out, h2
    x, _ = conv_same(x, h, "_conv_head.weight", "_bn1", 1)
    x = g.relu6(x)
    return g.model("input", g.head(x, "_fc"), size)


def resnext50_onnx(sd, size=224):
    g = GraphBuilder(sd, 1e-5)
    x = g.op("Relu", [g.conv("input", "conv1.weight", "bn1", 2, (3, 3, 3, 3), 1)])
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    for li, blocks in enumerate([3, 4, 6, 3]):
        for b in range(blocks):
            p = f"layer{li + 1}.{b}."
            stride = 2 if b == 0 and li > 0 else 1
            y = g.op("Relu", [g.conv(x, p + "conv1.weight", p + "bn1", 1, (0, 0, 0, 0), 1)])
            y = g.op("Relu", [g.conv(y, p + "conv2.weight", p + "bn2", stride, (1, 1, 1, 1), 32)])
            y = g.conv(y, p + "conv3.weight", p + "bn3", 1, (0, 0, 0, 0), 1)
            shortcut = g.conv(x, p + "downsample.0.weight", p + "downsample.1", stride, (0, 0, 0, 0), 1) if b == 0 else x
            x = g.op("Relu", [g.op("Add", [y, shortcut])])
    return g.model("input", g.head(x, "fc"), size)


# ---------------------------------------------------------------- runs

def corral_bench(binary, env, model, threads, batch, seconds, dump=None):
    cmd = [binary, "bench", "embed", "--model", model, "--threads", str(threads), "--batch", str(batch),
           "--seconds", str(seconds), "--format", "json"]
    if dump:
        cmd += ["--dump", dump]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"corral failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return json.loads(r.stdout)


def ort_session(model, threads):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def ort_bench(session, batch, size, seconds):
    x = np.random.default_rng(7).uniform(-1, 1, (batch, 3, size, size)).astype(np.float32)
    session.run(None, {"input": x})  # warm-up
    images, start, cpu = 0, time.perf_counter(), time.process_time()
    calls = []
    while True:
        t0 = time.perf_counter()
        session.run(None, {"input": x})
        calls.append(time.perf_counter() - t0)
        images += batch
        elapsed = t0 + calls[-1] - start
        if elapsed >= seconds and images >= 3 * batch:
            calls.sort()
            return images / elapsed, (time.process_time() - cpu) * 1000 / images, calls[len(calls) // 10] * 1000 / batch


def ort_bench_fresh(model_path, threads, batch, size, seconds):
    """Like ort_bench, in a new Python process with its own session, as each Corral round is a new
    process: both sides then meet a fresh memory layout every round (within one long-lived session ONNX
    Runtime keeps whatever layout it got first, which makes its rounds steadier than Corral's)."""
    code = (
        "import sys, json\n"
        "sys.argv = ['x']\n"
        f"sys.path.insert(0, {HERE!r})\n"
        "import compare_onnxruntime as c, onnx\n"
        f"m = onnx.load({model_path!r})\n"
        f"s = c.ort_session(m, {threads})\n"
        f"print(json.dumps(c.ort_bench(s, {batch}, {size}, {seconds})))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"onnxruntime subprocess failed: {r.stderr[-2000:]}")
    return tuple(json.loads(r.stdout.strip().splitlines()[-1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/corral"))
    ap.add_argument("--models", default="efficientnet-lite0,resnext50_32x4d")
    ap.add_argument("--configs", default="2x8,1x1", help="THREADSxBATCH list")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--weights", default=os.path.join(ROOT, "assets/weights"))
    ap.add_argument("--json", action="store_true", help="print one JSON line per model/config")
    ap.add_argument("--fresh-ort", action="store_true",
                    help="run each ONNX Runtime round in a new process with a new session, as Corral's rounds are")
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary}: not built; run `make build` first")

    with tempfile.TemporaryDirectory(prefix="corral-ort-") as tmp:
        env = dict(os.environ, CORRAL_MODELS=tmp)
        for model_name in args.models.split(","):
            if model_name == "efficientnet-lite0":
                pth = [f for f in sorted(os.listdir(args.weights)) if f.startswith("efficientnet-lite0-") and f.endswith(".pth")]
                if not pth:
                    sys.exit(f"{args.weights}: no efficientnet-lite0-*.pth; run `make weights`")
                sd = read_legacy_pth(os.path.join(args.weights, pth[0]))
                source = pth[0]
                graph = efficientnet_lite0_onnx(sd)
            elif model_name == "resnext50_32x4d":
                sd = resnext50_weights()
                source = "seeded random weights (bench/compare_onnxruntime.py)"
                graph = resnext50_onnx(sd)
            else:
                sys.exit(f"unsupported model {model_name}")
            write_safetensors(sd, os.path.join(tmp, model_name + ".safetensors"),
                              {"architecture": model_name, "source": source, "format": "pt"})
            size = 224

            for config in args.configs.split(","):
                threads, batch = (int(v) for v in config.split("x"))
                session = ort_session(graph, threads)
                model_path = os.path.join(tmp, model_name + ".onnx")
                if args.fresh_ort and not os.path.exists(model_path):
                    onnx.save(graph, model_path)

                # Agreement: ORT on Corral's own input, logits compared.
                dump = os.path.join(tmp, "dump")
                info = corral_bench(args.binary, env, model_name, threads, batch, 0, dump=dump)
                if info.get("weights") != "installed":
                    sys.exit(f"corral did not load the written weights: {info}")
                x = np.fromfile(os.path.join(dump, "input.f32"), dtype="<f4").reshape(batch, size, size, 3)
                corral_logits = np.fromfile(os.path.join(dump, "logits.f32"), dtype="<f4").reshape(batch, 1000)
                ort_logits = session.run(None, {"input": np.ascontiguousarray(x.transpose(0, 3, 1, 2))})[0]
                scale = float(np.abs(ort_logits).max())
                max_rel = float(np.abs(corral_logits - ort_logits).max() / scale)
                cos = min(float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))) for a, b in zip(corral_logits, ort_logits))
                same_top1 = int((corral_logits.argmax(1) == ort_logits.argmax(1)).sum())
                ok = max_rel < 1e-3 and cos > 0.9999
                print(f"{model_name} {threads} thread(s) batch {batch}: logits agree: max |diff|/max|logit| = {max_rel:.2e}, "
                      f"min cosine = {cos:.6f}, top-1 equal {same_top1}/{batch}" + ("" if ok else "  <-- MISMATCH"), flush=True)
                if not ok:
                    sys.exit(1)

                corral_rates, ort_rates, mems, corral_cpu, ort_cpu, corral_fast, ort_fast = [], [], [], [], [], [], []
                for r in range(args.rounds):
                    # Alternate who goes first so a slow phase of the shared machine hits both alike.
                    order = ["ort", "corral"] if r % 2 == 0 else ["corral", "ort"]
                    for who in order:
                        if who == "ort":
                            if args.fresh_ort:
                                rate, cpu, fast = ort_bench_fresh(model_path, threads, batch, size, args.seconds)
                            else:
                                rate, cpu, fast = ort_bench(session, batch, size, args.seconds)
                            ort_rates.append(rate)
                            ort_cpu.append(cpu)
                            ort_fast.append(fast)
                        else:
                            c = corral_bench(args.binary, env, model_name, threads, batch, args.seconds)
                            corral_rates.append(c["images_per_second"])
                            mems.append(c["peak_memory_mb"])
                            corral_cpu.append(c.get("cpu_ms_per_image", float("nan")))
                            corral_fast.append(c.get("call_ms_per_image_p10", float("nan")))
                    print(f"  round {r + 1}: corral {corral_rates[-1]:.1f} img/s ({corral_cpu[-1]:.2f} CPU ms/image), "
                          f"onnxruntime {ort_rates[-1]:.1f} img/s ({ort_cpu[-1]:.2f} CPU ms/image)", flush=True)
                mc, mo = statistics.median(corral_rates), statistics.median(ort_rates)
                # Each round's two runs sit next to each other in time, so their ratio is the least
                # disturbed by the neighbours' load; the median of those is the headline figure.
                ratios = [c / o for c, o in zip(corral_rates, ort_rates)]
                paired = statistics.median(ratios)
                print(f"  median: corral {mc:.1f} img/s, onnxruntime {mo:.1f} img/s, ratio of medians {mc / mo:.2f}x, "
                      f"median of per-round ratios {paired:.2f}x (rounds: {', '.join(f'{q:.2f}' for q in ratios)}; "
                      f"corral peak memory {max(mems):.0f} MB)", flush=True)
                # CPU time per image (both processes, all their threads): on a loaded machine time the
                # scheduler gives to others is not counted, so at one thread this is the steadier figure.
                cc, co = statistics.median(corral_cpu), statistics.median(ort_cpu)
                print(f"  CPU time per image: corral {cc:.2f} ms, onnxruntime {co:.2f} ms, ratio onnxruntime/corral {co / cc:.2f}x", flush=True)
                # This VM's core alternates between two speeds about 25% apart, a second or so at a time
                # (load elsewhere on the host, we presume; both runtimes show it), and the figures above
                # depend on how much of each run fell in the slow phase. The fastest tenth of each side's
                # calls (wall time per call; each round's, then the median over rounds) compares the two
                # in the same phase: like with like, and steadier from run to run.
                fc, fo = statistics.median(corral_fast), statistics.median(ort_fast)
                bc, bo = min(corral_fast), min(ort_fast)
                print(f"  fastest tenth of calls: median over rounds corral {fc:.2f} ms/image, onnxruntime {fo:.2f} ms/image, "
                      f"ratio onnxruntime/corral {fo / fc:.2f}x; best round corral {bc:.2f}, onnxruntime {bo:.2f}, "
                      f"ratio {bo / bc:.2f}x", flush=True)
                if args.json:
                    print(json.dumps({"model": model_name, "threads": threads, "batch": batch, "corral_images_per_second": mc,
                                      "onnxruntime_images_per_second": mo, "ratio": mc / mo, "paired_ratio": paired,
                                      "round_ratios": ratios, "rounds": args.rounds,
                                      "corral_cpu_ms_per_image": cc, "onnxruntime_cpu_ms_per_image": co, "cpu_ratio": co / cc,
                                      "corral_fast_call_ms_per_image": fc, "onnxruntime_fast_call_ms_per_image": fo,
                                      "fast_call_ratio": fo / fc, "best_round_fast_call_ratio": bo / bc,
                                      "logits_max_rel_diff": max_rel, "corral_peak_memory_mb": max(mems),
                                      "onnxruntime_version": ort.__version__}))


if __name__ == "__main__":
    main()
