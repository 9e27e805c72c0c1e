#!/usr/bin/env python3
"""Dev-only: read a PyTorch checkpoint without torch (numpy only) and print its tensors.

An independent reference for Corral's Swift loader: it uses Python's own pickle module with a
restricted find_class, reads legacy (pickle header + raw storages) and zip (torch >= 1.6) files,
and prints, per tensor, its shape, dtype and checksums. The Swift tests compare against sums
this script computed (Tests/ModelsTests/Fixtures/checkpoints/*.sums.json).

    python3 tools/inspect_pth.py FILE.pth                # one line per tensor
    python3 tools/inspect_pth.py FILE.pth --json OUT     # {"count": n, "tensors": {name: {...}}}
    python3 tools/inspect_pth.py FILE.pth --compare M.safetensors   # exit 1 unless every float tensor is equal
"""
import collections
import io
import json
import pickle
import struct
import sys
import zipfile

import numpy as np

DTYPES = {
    "FloatStorage": np.float32, "HalfStorage": np.float16, "DoubleStorage": np.float64,
    "BFloat16Storage": "bf16", "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype = DTYPES[name]

    def itemsize(self):
        return 2 if self.dtype == "bf16" else np.dtype(self.dtype).itemsize


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    return Tensor(storage, offset, size, stride)


def rebuild_tensor(storage, offset, size, stride):
    return Tensor(storage, offset, size, stride)


def rebuild_parameter(data, requires_grad, hooks):
    return data


class Restricted(pickle.Unpickler):
    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils":
            fn = {"_rebuild_tensor_v2": rebuild_tensor_v2, "_rebuild_tensor": rebuild_tensor,
                  "_rebuild_parameter": rebuild_parameter}.get(name)
            if fn:
                return fn
        if module == "torch" and name in DTYPES:
            return StorageType(name)
        raise pickle.UnpicklingError(f"refused global {module}.{name}")

    def persistent_load(self, pid):
        kind, stype, key, location, numel = pid[:5]
        assert kind == "storage"
        view = pid[5] if len(pid) > 5 else None
        ref = self.storages.setdefault(key, {"type": stype, "numel": numel, "data": None})
        if view is not None:
            _, off, vsize = view
            return ("view", key, off, vsize)
        return ("root", key, 0, numel)


def as_array(raw, stype):
    if stype.dtype == "bf16":
        u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return u.view(np.float32)
    return np.frombuffer(raw, dtype=np.dtype(stype.dtype).newbyteorder("<"))


def load(path):
    storages = {}
    with open(path, "rb") as fh:
        blob = fh.read()
    if blob[:4] == b"PK\x03\x04":
        z = zipfile.ZipFile(io.BytesIO(blob))
        pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        prefix = pkl[: -len("data.pkl")]
        obj = Restricted(io.BytesIO(z.read(pkl)), storages).load()
        for key, s in storages.items():
            s["data"] = as_array(z.read(prefix + "data/" + key), s["type"])
    else:
        f = io.BytesIO(blob)
        magic = pickle.load(f)
        assert magic == 0x1950A86A20F9469CFC6C, "not a legacy torch file"
        pickle.load(f)  # protocol version
        pickle.load(f)  # sys info
        obj = Restricted(f, storages).load()
        keys = pickle.load(f)
        for key in keys:
            (count,) = struct.unpack("<q", f.read(8))
            s = storages[key]
            s["data"] = as_array(f.read(count * s["type"].itemsize()), s["type"])
    out = collections.OrderedDict()
    for name, t in obj.items():
        if not isinstance(t, Tensor):
            continue
        kind, key, voff, vsize = t.storage
        data = storages[key]["data"][voff: voff + vsize]
        arr = np.lib.stride_tricks.as_strided(
            data[t.offset:], shape=t.size, strides=[s * data.itemsize for s in t.stride]
        ) if data.size else np.zeros(t.size, data.dtype)
        out[name] = np.array(arr, copy=True, order="C")  # keeps 0-d scalars 0-d
    return out


def summary(arr):
    a = arr.astype(np.float64).ravel()
    return {
        "shape": list(arr.shape),
        "dtype": str(arr.dtype),
        "sum": float(a.sum()),
        "abs_sum": float(np.abs(a).sum()),
        # Position-weighted sum: catches a transposed or shifted tensor that plain sums miss.
        "weighted_sum": float((a * (np.arange(a.size) % 97 + 1)).sum()),
        "first": [float(x) for x in a[:4]],
    }


def read_safetensors(path):
    with open(path, "rb") as fh:
        blob = fh.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", name
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(blob[8 + n + b: 8 + n + e], dtype="<f4").reshape(t["shape"])
    return out


def main():
    path = sys.argv[1]
    tensors = load(path)
    if "--compare" in sys.argv:
        other = read_safetensors(sys.argv[sys.argv.index("--compare") + 1])
        floats = {k: v for k, v in tensors.items() if v.dtype.kind == "f"}
        bad = [k for k, v in floats.items()
               if k not in other or v.shape != other[k].shape or not np.array_equal(v.astype(np.float32), other[k])]
        extra = sorted(set(other) - set(floats))
        print(f"{len(floats) - len(bad)}/{len(floats)} float tensors equal; differing {bad[:5]}; extra {extra[:5]}")
        sys.exit(1 if bad or extra else 0)
    if "--json" in sys.argv:
        out = sys.argv[sys.argv.index("--json") + 1]
        doc = {"count": len(tensors), "tensors": {k: summary(v) for k, v in tensors.items()}}
        with open(out, "w") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True)
            fh.write("\n")
    else:
        for k, v in tensors.items():
            s = summary(v)
            print(f"{k:60s} {str(s['shape']):22s} {s['dtype']:8s} sum={s['sum']:.6g}")
        print(f"{len(tensors)} tensors")


if __name__ == "__main__":
    main()
