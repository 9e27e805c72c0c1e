"""Dev-only reader for PyTorch checkpoints (legacy and zip format) without torch.

Why here: the numpy reference (tools/reference.py) must not share code with Corral's Swift loader,
and torch is not available, so this reads the pickle itself. Only the globals a state dict needs are
resolved; anything else is refused.
"""
import io
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np

_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class _Rebuild:
    """Records a tensor (storage key, offset, size, stride); materialised once storages are read."""
    def __init__(self, storage, offset, size, stride, *rest):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def materialise(self, storages):
        flat = storages[self.storage]
        if not self.size:
            return flat[self.offset:self.offset + 1].reshape(())
        item = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(flat[self.offset:], shape=self.size,
                                               strides=tuple(s * item for s in self.stride))
        return np.array(view)


class _Unpickler(pickle.Unpickler):
    def __init__(self, f):
        super().__init__(f)
        self.requests = {}

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _Rebuild
        if module == "torch" and name in _DTYPES:
            return name
        raise pickle.UnpicklingError(f"refused global {module}.{name}")

    def persistent_load(self, pid):
        # ('storage', storage type, key, location, element count)
        _, stype, key, _location, numel = pid[:5]
        self.requests[str(key)] = (_DTYPES[stype], numel)
        return str(key)


def load(path):
    """Returns an OrderedDict name -> numpy array."""
    storages = {}
    if zipfile.is_zipfile(path):
        z = zipfile.ZipFile(path)
        prefix = z.namelist()[0].split("/")[0]
        up = _Unpickler(io.BytesIO(z.read(f"{prefix}/data.pkl")))
        sd = up.load()
        for key, (dtype, numel) in up.requests.items():
            storages[key] = np.frombuffer(z.read(f"{prefix}/data/{key}"), dtype=dtype, count=numel)
    else:
        with open(path, "rb") as f:
            pickle.load(f)  # magic number
            pickle.load(f)  # protocol version
            pickle.load(f)  # sys info
            up = _Unpickler(f)
            sd = up.load()
            keys = pickle.load(f)
            for key in keys:
                dtype, _ = up.requests[str(key)]
                (n,) = struct.unpack("<q", f.read(8))
                storages[str(key)] = np.frombuffer(f.read(n * np.dtype(dtype).itemsize), dtype=dtype)
    return OrderedDict((k, v.materialise(storages)) for k, v in sd.items())


if __name__ == "__main__":
    import sys
    for k, v in load(sys.argv[1]).items():
        print(k, v.dtype, list(v.shape))
