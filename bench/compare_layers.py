#!/usr/bin/env python3
"""EfficientNet-Lite0 layer by layer, Corral against ONNX Runtime, 1 thread batch 1 (dev-only).

Where a whole-network ratio cannot say which layers lose, this does: ONNX Runtime's own profiler
(SessionOptions.enable_profiling, median node time over 30 runs) next to
`corral bench embed --profile-layers` (thread CPU time per step), both on the same weights. Corral
fuses blocks 0-3, so ORT's nodes are summed into the same units (stem, b0-b3, then each 1x1 and
depthwise layer, the head). Each run's layers are scaled to that side's median total before the
medians are taken, so a run that was slower throughout does not move one layer's share.

    bench/.venv-ort/bin/python bench/compare_layers.py --binary .build-test/release/corral --runs 5

Needs bench/.venv-ort (made by compare_onnxruntime.py) and the installed Lite0 weights.
"""
import argparse, collections, json, os, re, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_onnxruntime as c  # noqa: E402


def ort_units(graph):
    import numpy as np, onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tempfile.mkdtemp(), "ort")
    s = ort.InferenceSession(graph.SerializeToString(), so, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(7).uniform(-1, 1, (1, 3, 224, 224)).astype(np.float32)
    for _ in range(35):
        s.run(None, {"input": x})
    events = json.load(open(s.end_profiling()))
    nodes = collections.OrderedDict()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            nodes.setdefault(e["name"][:-12], (e["args"].get("op_name"), []))[1].append(e["dur"])
    times = [statistics.median(d[-30:]) / 1000 for op, d in nodes.values()
             if op in ("Conv", "Gemm", "GlobalAveragePool", "ReorderOutput", "Flatten")]
    # Corral runs the stem and block 0 as one fused step.
    units = {"stem+b0": times[0] + sum(times[1:3]), "b1": sum(times[3:6]), "b2": sum(times[6:9]),
             "b3": sum(times[9:12])}
    names = [f"b{b}.{part}" for b in range(4, 16) for part in ("exp", "dw", "proj")] + ["conv_head"]
    units.update(zip(names, times[12:49]))
    units["head"] = sum(times[49:])
    return units


def corral_units(binary):
    out = subprocess.run([binary, "bench", "embed", "--model", "efficientnet-lite0", "--threads", "1", "--batch", "1",
                          "--seconds", "3", "--profile-layers"], capture_output=True, text=True, check=True).stdout
    units = {}
    for line in out.splitlines():
        m = re.match(r"\s+(\S+)(?: \(fused\))? .*?([0-9.]+) ms\s+[0-9.]+ GFLOP/s", line)
        if not m:
            continue
        name, ms = m.group(1), float(m.group(2))
        if name in ("_conv_stem", "_blocks.0", "_conv_stem+_blocks.0"):   # fused together, or (older builds) not
            units["stem+b0"] = units.get("stem+b0", 0) + ms
            continue
        if name in ("_conv_head", "head"):
            units[{"_conv_head": "conv_head", "head": "head"}[name]] = ms
            continue
        b = re.match(r"_blocks\.(\d+)(?:\._(\w+))?", name)
        part = {None: "", "expand_conv": ".exp", "depthwise_conv": ".dw", "project_conv": ".proj"}[b.group(2)]
        units[f"b{b.group(1)}{part}"] = ms
    return units


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=os.path.join(c.ROOT, ".build/release/corral"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--weights", default=os.path.join(c.ROOT, "assets/weights"))
    args = ap.parse_args()
    pth = [f for f in sorted(os.listdir(args.weights)) if f.startswith("efficientnet-lite0-") and f.endswith(".pth")]
    if not pth:
        sys.exit(f"{args.weights}: no efficientnet-lite0-*.pth; run `make weights`")
    graph = c.efficientnet_lite0_onnx(c.read_legacy_pth(os.path.join(args.weights, pth[0])))
    ort_runs, corral_runs = [], []
    for _ in range(args.runs):   # alternating, so both see the same phases of a shared machine
        ort_runs.append(ort_units(graph))
        corral_runs.append(corral_units(args.binary))
    to = [sum(u.values()) for u in ort_runs]
    tc = [sum(u.values()) for u in corral_runs]
    mo, mc = statistics.median(to), statistics.median(tc)
    print("per-run totals (ms/image): ORT", " ".join(f"{t:.2f}" for t in to), "| corral", " ".join(f"{t:.2f}" for t in tc))
    print(f"{'unit':<10} {'ORT ms':>8} {'corral':>8} {'ratio':>6} {'excess':>7}")
    for k in ort_runs[0]:
        o = statistics.median(u[k] / t * mo for u, t in zip(ort_runs, to))
        v = statistics.median(u.get(k, 0) / t * mc for u, t in zip(corral_runs, tc))
        print(f"{k:<10} {o:8.3f} {v:8.3f} {v / o if o else 0:6.2f} {v - o:7.3f}")
    print(f"total      {mo:8.2f} {mc:8.2f} {mc / mo:6.2f}")


if __name__ == "__main__":
    main()
