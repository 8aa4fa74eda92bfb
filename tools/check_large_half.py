#!/usr/bin/env python3
"""`ferry convert --dtype float16` and `ferry edit` on a model over 2 GiB (not part of make test: it writes 11 GiB).

    check_large_half.py --ferry PATH [--work DIR]      (make check-large)

Writes a MatMul + bias model whose float32 weights (32768 x 36000, 4.4 GiB) are ONNX external
data, converts it with --dtype float16 --keep-io-types --external-data (2.2 GiB of float16, still
over protobuf's 2 GiB limit, so it must stay external), and runs the result in onnxruntime and in
Ferry; `ferry edit --opset 13 --add-output m` of the float32 model must keep its weights in
external data (edited.onnx.data) and run in onnxruntime: all within 1e-3 of the range of a
float64 reference. Exit 1 on a failure.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper


def external(name: str, dims: list, offset: int, length: int) -> TensorProto:
    t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims, data_location=TensorProto.EXTERNAL)
    for k, v in (("location", "large.data"), ("offset", str(offset)), ("length", str(length))):
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--work")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        k, n = 32768, 36000
        rng = np.random.default_rng(0)
        w = rng.standard_normal((k, n), dtype=np.float32) * 0.01
        b = rng.standard_normal(n, dtype=np.float32)
        with open(os.path.join(work, "large.data"), "wb") as f:
            w.tofile(f)
            b.tofile(f)
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"])], "large",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])],
            [external("w", [k, n], 0, w.nbytes), external("b", [n], w.nbytes, b.nbytes)])
        source, half = os.path.join(work, "large.onnx"), os.path.join(work, "half.onnx")
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), source)
        x = rng.standard_normal((1, k), dtype=np.float32)
        want = x.astype(np.float64) @ w.astype(np.float64) + b
        del w
        r = subprocess.run([args.ferry, "convert", source, half, "--dtype", "float16", "--keep-io-types",
                            "--external-data", "half.data", "--force"], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL ferry convert: {r.stderr.strip()}")
            return 1
        gib = os.path.getsize(os.path.join(work, "half.data")) / 2**30
        onnx.checker.check_model(half)
        got = {"onnxruntime": ort.InferenceSession(half, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]}
        np.save(os.path.join(work, "x.npy"), x)
        r = subprocess.run([args.ferry, "run", half, "--input", f"x={work}/x.npy", "--output-dir", work, "--force"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL ferry run: {r.stderr.strip()}")
            return 1
        got["ferry"] = np.load(os.path.join(work, "y.npy"))
        # `ferry edit` of the 4.4 GiB model keeps its weights external (OUT.data) and runs the same
        edited = os.path.join(work, "edited.onnx")
        r = subprocess.run([args.ferry, "edit", source, edited, "--opset", "13", "--add-output", "m", "--force"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL ferry edit: {r.stderr.strip()}")
            return 1
        edited_gib = os.path.getsize(edited + ".data") / 2**30
        sess = ort.InferenceSession(edited, providers=["CPUExecutionProvider"])
        got[f"onnxruntime, after ferry edit ({edited_gib:.2f} GiB of external data)"] = sess.run(["y"], {"x": x})[0]
        del sess
        scale = float(np.abs(want).max())
        failed = 0
        for who, y in got.items():
            err = float(np.abs(y - want).max()) / scale
            ok = err <= 1e-3
            failed += not ok
            what = "float32 model" if "edit" in who else f"float16 model of {gib:.2f} GiB"
            print(f"{'ok  ' if ok else 'FAIL'} {what} in {who}: max |diff| {err:.1e} of the range")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
