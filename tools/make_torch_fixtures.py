#!/usr/bin/env python3
"""Small PyTorch checkpoints for the unit tests and the fuzz seeds, made without torch.

    make_torch_fixtures.py OUT      (Fixtures/torch)

Each is a zip laid out as torch.save writes it (archive/data.pkl in pickle protocol 2,
archive/data/N storages, byteorder, version), pickled by the standard library with stand-ins
named like torch's rebuild function and storage classes, so the pickle names exactly what a
real checkpoint names. Both hold {'epoch': 3, 'model': ..., 'lr': 0.1, 'tags': ['a', (1, 2.5)]}:

    state_dict.pt  model = OrderedDict: conv.weight [2,3] and conv.bias [2] (views of one float
                   storage at offsets 0 and 6), fc.weight [3,2] (its transpose: strides (1,3)),
                   half [2,2] float16, bn.num_batches_tracked (an int64 scalar)
    tied.pt        model = {'wte', 'lm_head'}: two names for the same [4,3] view
    legacy.pt      state_dict.pt's content in the format before torch 1.6 (five pickles, then
                   the storages)

tools/interop_torch.py checks real torch.save files against torch.load.
"""
import collections
import io
import os
import pickle
import struct
import sys
import types
import zipfile


def torch_checkpoints(out: str) -> None:
    """Checkpoints as torch.save lays them out: archive/data.pkl (protocol 2, tensors rebuilt by
    torch._utils._rebuild_tensor_v2 from persistent storage ids), archive/data/N, byteorder."""
    utils = types.ModuleType("torch._utils")
    torch = types.ModuleType("torch")

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("never called")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    storage_types = {}
    for name in ("FloatStorage", "HalfStorage", "LongStorage"):
        cls = type(name, (), {"__module__": "torch", "__qualname__": name})
        setattr(torch, name, cls)
        storage_types[name] = cls
    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules.update({"torch": torch, "torch._utils": utils})

    class Storage:
        def __init__(self, key, kind, data):
            self.key, self.kind, self.data = key, kind, data

    class Tensor:
        def __init__(self, storage, offset, size, stride):
            self.args = (storage, offset, size, stride, False, collections.OrderedDict())

        def __reduce__(self):
            return (_rebuild_tensor_v2, self.args)

    widths = {"FloatStorage": 4, "HalfStorage": 2, "LongStorage": 8}

    class Saver(pickle.Pickler):
        legacy = False

        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                pid = ("storage", storage_types[obj.kind], obj.key, "cpu", len(obj.data) // widths[obj.kind])
                return pid + (None,) if self.legacy else pid
            return None

    try:
        floats = Storage("0", "FloatStorage", struct.pack("<12f", *range(12)))
        halves = Storage("1", "HalfStorage", struct.pack("<4e", 1.0, -2.0, 0.5, 65504.0))
        counts = Storage("2", "LongStorage", struct.pack("<q", 7))
        states = {
            "state_dict": collections.OrderedDict([
                ("conv.weight", Tensor(floats, 0, (2, 3), (3, 1))),
                ("conv.bias", Tensor(floats, 6, (2,), (1,))),
                ("fc.weight", Tensor(floats, 0, (3, 2), (1, 3))),
                ("half", Tensor(halves, 0, (2, 2), (2, 1))),
                ("bn.num_batches_tracked", Tensor(counts, 0, (), ())),
            ]),
            "tied": {"wte": Tensor(floats, 0, (4, 3), (3, 1)), "lm_head": Tensor(floats, 0, (4, 3), (3, 1))},
        }
        storages = [floats, halves, counts]
        os.makedirs(out, exist_ok=True)
        for name, obj in states.items():
            data = io.BytesIO()
            Saver(data, protocol=2).dump({"epoch": 3, "model": obj, "lr": 0.1, "tags": ["a", (1, 2.5)]})
            members = [("archive/data.pkl", data.getvalue()), ("archive/byteorder", b"little")]
            members += [(f"archive/data/{s.key}", s.data) for s in storages] + [("archive/version", b"3\n")]
            with zipfile.ZipFile(f"{out}/{name}.pt", "w", zipfile.ZIP_STORED) as z:
                for member, content in members:
                    z.writestr(zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0)), content)
        # The format before torch 1.6: magic number, protocol 1001, system information, the
        # checkpoint, the storage keys, then each storage as an int64 element count and its bytes.
        data = io.BytesIO()
        for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
            pickle.dump(header, data, protocol=2)
        saver = Saver(data, protocol=2)
        saver.legacy = True
        saver.dump({"epoch": 3, "model": states["state_dict"], "lr": 0.1, "tags": ["a", (1, 2.5)]})
        pickle.dump([s.key for s in storages], data, protocol=2)
        for s in storages:
            data.write(struct.pack("<q", len(s.data) // widths[s.kind]) + s.data)
        with open(f"{out}/legacy.pt", "wb") as f:
            f.write(data.getvalue())
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def main() -> int:
    torch_checkpoints(sys.argv[1])
    print(f"torch fixtures in {sys.argv[1]}: {sorted(os.listdir(sys.argv[1]))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
