#!/usr/bin/env python3
"""Checks 4-bit blockwise weights (`ferry quantize --mode weights --bits 4`) against onnxruntime.

    interop_nbits.py --ferry PATH_TO_FERRY [--work DIR]

1. onnxruntime's own quantizer (MatMulNBitsQuantizer) writes MatMulNBits models of MatMul layers
   (K x N of 64 x 48, 100 x 40 and 384 x 96; blocks of 16, 32 and 128; symmetric and asymmetric,
   so with and without zero points; 1, 3 and 7 rows of 2-D input and a 3-D input): `ferry run` on
   each must give onnxruntime's outputs within 1e-5 of their largest magnitude. Ferry's quantizer
   on the same weights must err (RMS of the outputs against the float layer's) at most 1.05x as
   much as onnxruntime's quantizer.
2. Ferry writes an MLP (MatMul -> Relu -> Gemm with bias, transB) as matmulnbits and as qdq
   (opset-21 blocked DequantizeLinear), blocks of 16, 32 and 128, symmetric and asymmetric:
   onnx.checker passes, onnxruntime runs each file and Ferry's outputs equal onnxruntime's within
   1e-5; the RMS error against the float model's outputs (relative to their RMS) at most 0.2.
   With --int8-activations (accuracy_level 4: both engines quantize rows of A to int8 per block)
   Ferry equals onnxruntime within 1e-5 too, and the float model within 0.2 (RMS).
3. A BERT/MiniLM-shaped encoder built here (2 layers, hidden 384, 6 heads, FFN 1536 with GELU,
   random weights, seed 0), 2 sequences of 128 tokens, quantized by Ferry to 4-bit blocks of 32:
   the mean-pooled sentence embeddings computed by onnxruntime on the 4-bit file keep cosine >= 0.99
   with the float model's, and Ferry's run of it equals onnxruntime's within 1e-4.
One line per check, then `N passed, M failed`; exit 1 on a failure.
"""
import argparse
import logging
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks, Failure, ort_run  # noqa: E402
from check_models import ferry_run, first_line  # noqa: E402

SAME = 1e-5


def relative(a, b):
    return float(np.abs(a.astype(np.float64) - b).max() / max(np.abs(b).max(), 1e-30))


def rms_error(a, b):
    """Root-mean-square of a - b relative to that of b (b: the float model's outputs)."""
    b = b.astype(np.float64)
    return float(np.sqrt(np.mean((a - b) ** 2)) / max(np.sqrt(np.mean(b ** 2)), 1e-30))


def matmul_model(k, n, rank3, rs):
    w = (rs.standard_normal((k, n)) * 0.1).astype(np.float32)
    shape = [2, 5, k] if rank3 else ["m", k]
    g = helper.make_graph([helper.make_node("MatMul", ["a", "w"], ["y"])], "matmul",
                          [helper.make_tensor_value_info("a", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape[:-1] + [n])],
                          [numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def check_ort_quantized(ferry, work, k, n, block, symmetric, rs):
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    worst, runs = 0.0, 0
    for rank3 in (False, True):
        source = matmul_model(k, n, rank3, rs)
        float_path = os.path.join(work, f"float_{k}x{n}_{rank3}.onnx")
        onnx.save(source, float_path)
        q = MatMulNBitsQuantizer(source, block_size=block, is_symmetric=symmetric)
        q.process()
        path = os.path.join(work, f"ort_{k}x{n}_{block}_{symmetric}_{rank3}.onnx")
        q.model.save_model_to_file(path)
        node = onnx.load(path).graph.node[0]
        if node.op_type != "MatMulNBits":
            raise Failure(f"onnxruntime's quantizer wrote {node.op_type}")
        for rows in ([10] if rank3 else [1, 3, 7]):
            a = rs.standard_normal([2, 5, k] if rank3 else [rows, k]).astype(np.float32)
            want = ort_run(path, {"a": a})[0][1]
            got = ferry_run(ferry, path, {"a": a}, os.path.join(work, "run"), 120)["y"]
            worst = max(worst, relative(got, want))
            runs += 1
    if worst > SAME:
        raise Failure(f"Ferry differs from onnxruntime by {worst:.2e}")
    # Ferry's quantizer on the same weights: its error against the float layer, beside onnxruntime's
    ours = os.path.join(work, f"ferry_{k}x{n}_{block}_{symmetric}.onnx")
    quantize(ferry, float_path, ours, "--block-size", str(block), *(["--symmetric"] if symmetric else []))
    a = rs.standard_normal([2, 5, k]).astype(np.float32)
    want = ort_run(float_path, {"a": a})[0][1]
    ferry_error, ort_error = rms_error(ort_run(ours, {"a": a})[0][1], want), rms_error(ort_run(path, {"a": a})[0][1], want)
    if ferry_error > 1.05 * ort_error:
        raise Failure(f"Ferry's 4-bit weights err by {ferry_error:.4f} (RMS), onnxruntime's quantizer's by {ort_error:.4f}")
    return [f"{runs} runs, zero points {'absent' if symmetric else 'packed'}", f"ferry vs ort {worst:.1e}",
            f"quantization error ferry {ferry_error:.4f} / ort {ort_error:.4f}"]


def mlp_model(path, rs):
    k, h, n = 384, 96, 64
    w1 = (rs.standard_normal((k, h)) * 0.1).astype(np.float32)
    w2t = (rs.standard_normal((n, h)) * 0.1).astype(np.float32)
    b = rs.standard_normal(n).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["a", "w1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("Gemm", ["r", "w2t", "b"], ["y"], transB=1)], "mlp",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["m", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", n])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2t, "w2t"), numpy_helper.from_array(b, "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10
    onnx.save(m, path)
    return path


def quantize(ferry, src, out, *extra):
    p = subprocess.run([ferry, "quantize", src, out, "--mode", "weights", "--bits", "4", "--force", *extra],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise Failure(f"ferry quantize exited {p.returncode}: {first_line(p.stderr)}")
    onnx.checker.check_model(out, full_check=True)


def compare_mlp_runs(ferry, src, out, row_counts, work, rs):
    """Runs the quantized MLP `out` in onnxruntime and Ferry on random inputs of each row count;
    fails when they differ by more than SAME or the quantized outputs are more than 0.2 (RMS,
    relative) from the float model's. Returns (largest difference, largest RMS error)."""
    worst, error = 0.0, 0.0
    for rows in row_counts:
        a = rs.standard_normal((rows, 384)).astype(np.float32)
        want = ort_run(out, {"a": a})[0][1]
        got = ferry_run(ferry, out, {"a": a}, os.path.join(work, "run"), 120)["y"]
        worst = max(worst, relative(got, want))
        error = max(error, rms_error(want, ort_run(src, {"a": a})[0][1]))
    if worst > SAME:
        raise Failure(f"Ferry differs from onnxruntime by {worst:.2e} (> {SAME})")
    if error > 0.2:
        raise Failure(f"the 4-bit model's outputs are {error:.3f} (RMS, relative) from the float one's")
    return worst, error


def check_ferry_quantized(ferry, work, fmt, block, symmetric, rs):
    src = mlp_model(os.path.join(work, "mlp.onnx"), rs)
    out = os.path.join(work, f"mlp_{fmt}_{block}_{symmetric}.onnx")
    quantize(ferry, src, out, "--format", fmt, "--block-size", str(block), *(["--symmetric"] if symmetric else []))
    ops = sorted({n.op_type for n in onnx.load(out).graph.node})
    worst, error = compare_mlp_runs(ferry, src, out, (1, 4, 9), work, rs)
    ratio = os.path.getsize(out) / os.path.getsize(src)
    return ["+".join(ops), f"ferry vs ort {worst:.1e}", f"vs float {error:.3f} RMS", f"size {ratio:.2f}x"]


def encoder_model(path, rs, layers=2, hidden=384, heads=6, ffn=1536, seq=128):
    """A BERT/MiniLM-shaped encoder: x [batch, seq, hidden] -> hidden states."""
    inits, nodes = [], []

    def weight(name, shape, scale):
        inits.append(numpy_helper.from_array((rs.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    def const(name, value):
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op, inputs, **attrs):
        out = f"t{len(nodes)}"
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    d = hidden // heads
    split = const("split_heads", np.array([0, seq, heads, d], np.int64))
    merge = const("merge_heads", np.array([0, seq, hidden], np.int64))
    scale = const("attention_scale", np.array(1 / np.sqrt(d), np.float32))
    x = "x"
    for i in range(layers):
        p = f"l{i}_"
        ones, zeros = const(p + "ln_g", np.ones(hidden, np.float32)), const(p + "ln_b", np.zeros(hidden, np.float32))
        qkv = []
        for name in "qkv":
            y = node("Add", [node("MatMul", [x, weight(p + name, (hidden, hidden), 0.05)]), weight(p + name + "_b", (hidden,), 0.02)])
            y = node("Transpose", [node("Reshape", [y, split])], perm=[0, 2, 1, 3])
            qkv.append(y)
        kt = node("Transpose", [qkv[1]], perm=[0, 1, 3, 2])
        attn = node("Softmax", [node("Mul", [node("MatMul", [qkv[0], kt]), scale])], axis=-1)
        ctx = node("Reshape", [node("Transpose", [node("MatMul", [attn, qkv[2]])], perm=[0, 2, 1, 3]), merge])
        o = node("Add", [node("MatMul", [ctx, weight(p + "o", (hidden, hidden), 0.05)]), weight(p + "o_b", (hidden,), 0.02)])
        x = node("LayerNormalization", [node("Add", [x, o]), ones, zeros], axis=-1)
        f = node("Add", [node("MatMul", [x, weight(p + "f1", (hidden, ffn), 0.05)]), weight(p + "f1_b", (ffn,), 0.02)])
        f = node("Gelu", [f])
        f = node("Add", [node("MatMul", [f, weight(p + "f2", (ffn, hidden), 0.05)]), weight(p + "f2_b", (hidden,), 0.02)])
        x = node("LayerNormalization", [node("Add", [x, f]), const(p + "ln2_g", np.ones(hidden, np.float32)),
                                        const(p + "ln2_b", np.zeros(hidden, np.float32))], axis=-1)
    nodes.append(helper.make_node("Identity", [x], ["hidden_states"]))
    g = helper.make_graph(nodes, "encoder", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", seq, hidden])],
                          [helper.make_tensor_value_info("hidden_states", TensorProto.FLOAT, ["batch", seq, hidden])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)
    return path


def check_int8_activations(ferry, work, rs):
    """--int8-activations (accuracy_level 4) on the MLP, one to four rows: Ferry and onnxruntime
    both quantize each row of A to int8 per block (the same way: max |a| / 127, half to even), so
    their outputs must agree within SAME; and stay within 0.2 (RMS) of the float model."""
    src = mlp_model(os.path.join(work, "mlp.onnx"), rs)
    out = os.path.join(work, "mlp_int8.onnx")
    quantize(ferry, src, out, "--int8-activations")
    if not any(a.name == "accuracy_level" and a.i == 4 for n in onnx.load(out).graph.node for a in n.attribute):
        raise Failure("no MatMulNBits with accuracy_level 4 written")
    worst, error = compare_mlp_runs(ferry, src, out, (1, 2, 4), work, rs)
    return [f"ferry vs ort {worst:.1e}", f"vs float {error:.3f} RMS"]


def check_encoder(ferry, work, rs):
    src = encoder_model(os.path.join(work, "encoder.onnx"), rs)
    out = os.path.join(work, "encoder_q4.onnx")
    quantize(ferry, src, out, "--block-size", "32")
    x = rs.standard_normal((2, 128, 384)).astype(np.float32)
    float_states = ort_run(src, {"x": x})[0][1]
    states = ort_run(out, {"x": x})[0][1]
    ferry_states = ferry_run(ferry, out, {"x": x}, os.path.join(work, "run"), 300)["hidden_states"]
    same = relative(ferry_states, states)
    if same > 1e-4:
        raise Failure(f"Ferry differs from onnxruntime by {same:.2e}")
    a, b = float_states.mean(axis=1), states.mean(axis=1)
    cosines = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    if cosines.min() < 0.99:
        raise Failure(f"sentence-embedding cosine {cosines.min():.4f} < 0.99")
    ratio = os.path.getsize(out) / os.path.getsize(src)
    return [f"embedding cosine min {cosines.min():.4f}", f"ferry vs ort {same:.1e}", f"size {ratio:.2f}x"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--work")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # onnxruntime's quantizer logs every node it quantizes
    ferry = os.path.abspath(args.ferry)
    work = args.work or tempfile.mkdtemp(prefix="ferry-nbits-")
    os.makedirs(work, exist_ok=True)
    rs = np.random.RandomState(0)
    checks = Checks(width=46)
    for k, n in [(64, 48), (100, 40), (384, 96)]:
        for block in (16, 32, 128):
            for symmetric in (False, True):
                checks.run(f"ort quantizer {k}x{n} block {block}{' symmetric' if symmetric else ''}",
                           lambda: check_ort_quantized(ferry, work, k, n, block, symmetric, rs))
    for fmt in ("matmulnbits", "qdq"):
        for block in (16, 32, 128):
            for symmetric in (False, True):
                checks.run(f"ferry {fmt} block {block}{' symmetric' if symmetric else ''}",
                           lambda: check_ferry_quantized(ferry, work, fmt, block, symmetric, rs))
    checks.run("ferry matmulnbits block 32 --int8-activations", lambda: check_int8_activations(ferry, work, rs))
    checks.run("encoder 2x384, 2 x 128 tokens, block 32", lambda: check_encoder(ferry, work, rs))
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
