#!/usr/bin/env python3
"""Writes Fixtures/hdf5/: HDF5 files made by h5py for Ferry's HDF5 tests (deterministic content).

tree.h5            a tensor tree: nested groups, every numeric type h5py writes, big-endian data,
                   float16, bool, strings, a scalar, an empty dataset, chunked + gzip + shuffle,
                   and attributes in each string form (vlen scalar, fixed-length array, vlen array)
tree.expect.json   per dataset: dtype, shape and little-endian bytes (hex) as numpy gives them
elink.h5           an external link to other.h5 (must be refused unless allowed)
extstore.h5        a dataset whose raw storage is the file secret.bin (refused unless allowed)
vds.h5             a virtual dataset mapped onto other.h5 (refused unless allowed)
loops.h5           a soft link to itself and a hard link back to the root (must not recurse)
truncated.h5       tree.h5 cut short
"""
import json
import os

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Fixtures", "hdf5")


def main():
    os.makedirs(OUT, exist_ok=True)
    rs = np.random.RandomState(0)
    data = {
        "conv1.weight": rs.randn(4, 3, 3, 3).astype(np.float32),
        "layer1/0/bn.running_var": rs.rand(4).astype(">f4"),
        "layer1/0/big_endian_i32": np.arange(-2, 3, dtype=">i4"),
        "layer1/half": rs.randn(5).astype(np.float16),
        "layer1/f64": rs.randn(2, 2),
        "flags": np.array([True, False, True]),
        "ints/i8": np.array([-128, 0, 127], np.int8),
        "ints/u16": np.array([0, 65535], np.uint16),
        "ints/i64": np.arange(-3, 3, dtype=np.int64),
        "ints/u64": np.array([0, 2**64 - 1], np.uint64),
        "scalar": np.float32(3.5),
        "empty": np.zeros((0, 3), np.float32),
    }
    path = os.path.join(OUT, "tree.h5")
    with h5py.File(path, "w", track_order=False) as f:
        for name, value in data.items():
            f[name] = value
        zipped = rs.randn(64, 16).astype(np.float32)
        f.create_dataset("zipped", data=zipped, compression="gzip", shuffle=True, chunks=(16, 16))
        data["zipped"] = zipped
        f["names"] = np.array([b"alpha", b"beta"])  # fixed-length strings
        f.attrs["vlen_scalar"] = "h\u00e9llo"
        f.attrs["fixed_array"] = np.array([b"dense", b"dense_1"])
        f.attrs.create("vlen_array", ["a", "bb", "\u00fc"], dtype=h5py.string_dtype())
        f.attrs["empty_list"] = np.zeros((0,), np.float64)
        f.attrs["number"] = np.int64(7)
    expect = [{"name": n, "dtype": np.dtype(v.dtype).newbyteorder("<").name if np.dtype(v.dtype).byteorder == ">" else np.dtype(v.dtype).name,
               "shape": list(np.shape(v)), "hex": np.asarray(v).astype(np.asarray(v).dtype.newbyteorder("<")).tobytes().hex()}
              for n, v in sorted(data.items())]
    with open(os.path.join(OUT, "tree.expect.json"), "w") as f:
        json.dump(expect, f, indent=1)
        f.write("\n")

    with open(os.path.join(OUT, "secret.bin"), "wb") as f:
        f.write(np.arange(4, dtype=np.float32).tobytes())
    with h5py.File(os.path.join(OUT, "other.h5"), "w") as f:
        f["stolen"] = np.arange(4, dtype=np.float32)
    with h5py.File(os.path.join(OUT, "elink.h5"), "w") as f:
        f["ok"] = np.ones(2, np.float32)
        f["g/x"] = np.ones(1, np.float32)
        f["g/link"] = h5py.ExternalLink("other.h5", "/stolen")
    with h5py.File(os.path.join(OUT, "extstore.h5"), "w") as f:
        f.create_dataset("w", shape=(4,), dtype=np.float32, external=[("secret.bin", 0, 16)])
    with h5py.File(os.path.join(OUT, "vds.h5"), "w") as f:
        layout = h5py.VirtualLayout(shape=(4,), dtype=np.float32)
        layout[:] = h5py.VirtualSource("other.h5", "stolen", shape=(4,))
        f.create_virtual_dataset("v", layout)
    with h5py.File(os.path.join(OUT, "loops.h5"), "w") as f:
        f["a/b"] = np.ones(2, np.float32)
        f["self"] = h5py.SoftLink("/self")
        f["a/up"] = f["/"]
    with open(path, "rb") as f:
        whole = f.read()
    with open(os.path.join(OUT, "truncated.h5"), "wb") as f:
        f.write(whole[: len(whole) // 3])
    print("wrote", OUT)


if __name__ == "__main__":
    main()
