#!/usr/bin/env python3
"""Ferry's low-precision casts and quantization against onnxruntime, bit for bit.

    interop_low_precision.py --ferry PATH_TO_FERRY [--work DIR]

Builds small models (float32 in, float32 out) that round-trip a sweep of values through a narrow
type: Cast to float16 / bfloat16 / each float8 (saturate 1 and 0) / int4 / uint4 and back, and
QuantizeLinear -> DequantizeLinear into float8 (per tensor and per axis) and int4 / uint4 (blocked,
opset 21). Runs each in `ferry run`, in the onnx package's reference evaluator and in onnxruntime.
Ferry must equal the reference bit for bit (NaNs of any payload equal), and onnxruntime too except
where onnxruntime is known to depart from the spec and the reference (the jobs say where; the
count of values it differs on is printed). The sweep leaves out what the spec leaves undefined
(floats out of an integer type's range). Exit 1 on any difference.
"""
import argparse
import warnings
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

FLOAT8 = ["FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ"]


class Failure(Exception):
    """A one-line reason a check failed."""


def sweep(rng: np.random.Generator) -> np.ndarray:
    """Zeros, infinities, NaN, every power of two float32 has from 2^-20 to 2^20 with its
    neighbours and midpoints, and random values of magnitudes 2^-24 .. 2^17, both signs."""
    powers = np.ldexp(np.float32(1), np.arange(-20, 21)).astype(np.float32)
    around = np.concatenate([powers, np.nextafter(powers, np.float32(np.inf)), np.nextafter(powers, np.float32(0)),
                             powers * np.float32(1.0625), powers * np.float32(1.125), powers * np.float32(1.1875),
                             powers * np.float32(1.75), powers * np.float32(1.875)])
    random = np.exp2(rng.uniform(-24, 17, 4000)).astype(np.float32)
    values = np.concatenate([[0, np.inf, np.nan], around, random, [448, 464, 465, 480, 240, 248, 57344, 61440, 65536]])
    values = values.astype(np.float32)
    return np.concatenate([values, -values]).astype(np.float32)


def cast_model(to: str, saturate: int | None, opset: int) -> onnx.ModelProto:
    attrs = {"to": getattr(TensorProto, to)}
    if saturate is not None:
        attrs["saturate"] = saturate
    nodes = [helper.make_node("Cast", ["x"], ["n"], **attrs), helper.make_node("Cast", ["n"], ["y"], to=TensorProto.FLOAT)]
    return graph_model(nodes, [], opset)


def qdq_model(to: str, x_shape, scale: np.ndarray, axis: int, block: int, saturate: int | None, opset: int):
    zero = helper.make_tensor("zero", getattr(TensorProto, to), scale.shape, np.zeros(scale.size, np.int32).tolist())
    inits = [numpy_helper.from_array(scale.astype(np.float32), "scale"), zero]
    q_attrs = {"axis": axis}
    if block:
        q_attrs["block_size"] = block
    if saturate is not None:
        q_attrs["saturate"] = saturate
    d_attrs = {"axis": axis, **({"block_size": block} if block else {})}
    nodes = [helper.make_node("QuantizeLinear", ["x", "scale", "zero"], ["q"], **q_attrs),
             helper.make_node("DequantizeLinear", ["q", "scale", "zero"], ["y"], **d_attrs)]
    return graph_model(nodes, inits, opset, x_shape)


def graph_model(nodes, inits, opset: int, x_shape=None) -> onnx.ModelProto:
    shape = x_shape or ["n"]
    g = helper.make_graph(nodes, "low_precision", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 10
    onnx.checker.check_model(m)
    return m


def same_bits(a: np.ndarray, b: np.ndarray) -> str | None:
    a, b = a.astype(np.float32).ravel(), b.astype(np.float32).ravel()
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    differ = (a.view(np.uint32) != b.view(np.uint32)) & ~(np.isnan(a) & np.isnan(b))
    if differ.any():
        i = int(np.flatnonzero(differ)[0])
        return f"{int(differ.sum())} of {a.size} differ, first at {i}: ferry {a[i]!r}, onnxruntime {b[i]!r}"
    return None


def check(ferry: str, work: str, name: str, model: onnx.ModelProto, x: np.ndarray, ort_departs: str | None) -> str:
    path = os.path.join(work, name + ".onnx")
    onnx.save(model, path)
    reference = ReferenceEvaluator(model).run(None, {"x": x})[0]
    by_ort = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.save(os.path.join(work, name + "_x.npy"), x)
    out = os.path.join(work, name + "_out")
    p = subprocess.run([ferry, "run", path, "--input", "x=" + os.path.join(work, name + "_x.npy"), "--output-dir", out,
                        "--threads", "1", "--force"], capture_output=True, text=True)
    if p.returncode != 0:
        raise Failure(f"{name}: ferry run exited {p.returncode}: {p.stderr.strip()[:200]}")
    got = np.load(os.path.join(out, "y.npy"))
    problem = same_bits(got, reference)
    if problem:
        raise Failure(f"{name}: against the onnx reference: {problem}")
    problem = same_bits(got, by_ort)
    if problem and not ort_departs:
        raise Failure(f"{name}: against onnxruntime (which equals the reference: {same_bits(by_ort, reference) is None}): {problem}")
    if problem:
        return f"{x.size} values equal the reference; onnxruntime {problem.split(',')[0]} ({ort_departs})"
    return f"{x.size} values equal the reference and onnxruntime"


# Where onnxruntime 1.32 departs from the spec's tables and the onnx reference (ml_dtypes).
E4M3FN_OVERFLOW = "e4m3fn without saturation: it gives 448 for values rounding to 480, which the spec makes NaN"
E5M2_OVERFLOW = "e5m2 without saturation: it gives NaN for values rounding past 57344, which the spec makes infinite"
INT4_ROUNDING = "float to int4/uint4: it rounds to nearest; the reference truncates toward zero, as every float to integer Cast does"


def jobs(rng: np.random.Generator):
    """(name, model, input, why onnxruntime may differ or None)."""
    x = sweep(rng)
    for to in ["FLOAT16", "BFLOAT16"]:
        yield f"cast_{to}", cast_model(to, None, 21), x, None
    for to in FLOAT8:
        for sat in (1, 0):
            departs = {(0, "FLOAT8E4M3FN"): E4M3FN_OVERFLOW, (0, "FLOAT8E5M2"): E5M2_OVERFLOW}.get((sat, to))
            yield f"cast_{to}_saturate{sat}", cast_model(to, sat, 21), x, departs
    # floats within the integer types' ranges (outside, the spec leaves the result undefined)
    yield "cast_INT4", cast_model("INT4", None, 21), rng.uniform(-8.99, 7.99, 2000).astype(np.float32), INT4_ROUNDING
    yield "cast_UINT4", cast_model("UINT4", None, 21), rng.uniform(0, 15.99, 2000).astype(np.float32), INT4_ROUNDING
    m = rng.standard_normal((6, 64)).astype(np.float32) * np.exp2(rng.uniform(-6, 6, (6, 1))).astype(np.float32)
    for to in ["FLOAT8E4M3FN", "FLOAT8E5M2"]:
        for sat in (1, 0):
            departs = {"FLOAT8E4M3FN": E4M3FN_OVERFLOW, "FLOAT8E5M2": E5M2_OVERFLOW}[to] if sat == 0 else None
            yield (f"qdq_{to}_tensor_saturate{sat}", qdq_model(to, [6, 64], np.array(0.01, np.float32), 1, 0, sat, 21),
                   m, departs)
        scale = np.abs(rng.standard_normal(6)).astype(np.float32) + 0.05
        yield f"qdq_{to}_axis0", qdq_model(to, [6, 64], scale, 0, 0, 1, 21), m, None
    for to, top in [("INT4", 7), ("UINT4", 15)]:
        scale = (np.abs(m).reshape(6, 4, 16).max(axis=2) / top + 1e-3).astype(np.float32)
        x = np.abs(m) if to == "UINT4" else m
        yield f"qdq_{to}_blocked16", qdq_model(to, [6, 64], scale, 1, 16, None, 21), x, None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--work")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")  # numpy's overflow warnings inside the reference's casts
    work = args.work or tempfile.mkdtemp(prefix="ferry-lowp-")
    os.makedirs(work, exist_ok=True)
    failures = 0
    for name, model, x, departs in jobs(np.random.default_rng(7)):
        try:
            print(f"{name:<36} {check(os.path.abspath(args.ferry), work, name, model, x, departs)}")
        except Failure as e:
            failures += 1
            print(f"{name:<36} FAIL {e}")
    print(f"low-precision casts and quantization vs onnxruntime: {'all equal' if not failures else f'{failures} failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
