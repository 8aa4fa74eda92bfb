"""Exact numpy references for quantized operators, where onnxruntime is exact only on some CPUs.

onnxruntime's u8 x s8 integer GEMM on AVX2 without AVX-512 VNNI adds pairs of products into a
saturating int16 (vpmaddubsw), so its results for full-range int8 weights depend on the CPU
(../shared/notes/onnxruntime-int8-exactness.md). These references accumulate in int64 and follow
onnxruntime's float32 arithmetic around the integer products.

    dynamic_quantize(x)                 uint8 values, scale, zero point (DynamicQuantizeLinear)
    dynamic_quantize_lstm(model, x)     the outputs of every com.microsoft DynamicQuantizeLSTM node
                                        of a one-node-deep model (X fed from a graph input)
    run_exact(path, x)                  a QOperator model's first output on x: the onnx package's
                                        reference evaluator (integer QLinearConv/QLinearMatMul)
                                        with com.microsoft QGemm added here

DynamicQuantizeLSTM quantizes X once per direction over the whole sequence and H(t-1) once per
step over the whole batch. onnxruntime does so on one thread; on more threads it quantizes H in
groups of ceil(batch / threads) rows when batch > 4 or (batch >= 2 and hidden <= 256)
(UniDirectionalLstm::SetNumThreads), so its results depend on its thread count.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator
from onnx.reference.op_run import OpRun


def dynamic_quantize(x: np.ndarray):
    """uint8 quantization of x with the parameters of its range widened to include 0 (float32
    arithmetic, zero point rounded half to even, values rounded half to even)."""
    x = np.asarray(x, np.float32)
    lo = np.float32(min(float(x.min(initial=0.0)), 0.0))
    hi = np.float32(max(float(x.max(initial=0.0)), 0.0))
    scale = np.float32(1.0) if hi == lo else np.float32((hi - lo) / np.float32(255))
    zero = np.float32(np.float32(0) - lo / scale)
    zp = int(np.rint(np.clip(zero, 0, 255)))
    q = np.clip(np.rint(x / scale) + zp, 0, 255).astype(np.int64)
    return q, scale, zp


def _product(a: np.ndarray, w: np.ndarray, w_scale: np.ndarray, w_zero: np.ndarray) -> np.ndarray:
    """a (rows x depth float32) times w (depth x columns int8/uint8), as onnxruntime's quantized
    RNN GEMM: a quantized over all its values, exact integer sums, scaled by a_scale * w_scale."""
    q, scale, zp = dynamic_quantize(a)
    sums = (q - zp) @ (w.astype(np.int64) - w_zero.astype(np.int64))
    multiplier = (scale * w_scale.astype(np.float32)).astype(np.float32)
    return (sums.astype(np.float32) * multiplier).astype(np.float32)


def _sigmoid(x):
    return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)


def lstm(x, w, r, b, w_scale, w_zero, r_scale, r_zero, direction="forward", hidden=None):
    """One DynamicQuantizeLSTM with the default activations, no peepholes or sequence lengths.
    x: [seq, batch, input]; w: [dirs, input, 4h]; r: [dirs, h, 4h]; b: [dirs, 8h] or None; scales
    and zero points per direction ([dirs]) or per direction and column ([dirs, 4h]).
    Returns Y [seq, dirs, batch, h], Y_h and Y_c [dirs, batch, h]."""
    seq, batch, _ = x.shape
    dirs, h = r.shape[0], r.shape[1]
    y = np.zeros((seq, dirs, batch, h), np.float32)
    yh = np.zeros((dirs, batch, h), np.float32)
    yc = np.zeros((dirs, batch, h), np.float32)

    def per_column(v, d):
        v = np.asarray(v)
        return np.broadcast_to(v[d] if v.ndim == 2 else v.reshape(-1)[d], (4 * h,))

    for d in range(dirs):
        reverse = direction == "reverse" or (direction == "bidirectional" and d == 1)
        xs = x[::-1] if reverse else x
        proj = _product(xs.reshape(seq * batch, -1), w[d], per_column(w_scale, d), per_column(w_zero, d)).reshape(seq, batch, 4 * h)
        bias = np.zeros(4 * h, np.float32) if b is None else (b[d, :4 * h] + b[d, 4 * h:]).astype(np.float32)
        ht = np.zeros((batch, h), np.float32)
        ct = np.zeros((batch, h), np.float32)
        for t in range(seq):
            g = proj[t] + _product(ht, r[d], per_column(r_scale, d), per_column(r_zero, d)) + bias
            i, o, f, c = (g[:, k * h:(k + 1) * h] for k in range(4))
            ct = _sigmoid(f) * ct + _sigmoid(i) * np.tanh(c)
            ht = _sigmoid(o) * np.tanh(ct)
            y[seq - 1 - t if reverse else t, d] = ht
        yh[d], yc[d] = ht, ct
    return y, yh, yc


def dynamic_quantize_lstm(model, x: np.ndarray) -> dict:
    """{output name: value} for each DynamicQuantizeLSTM of `model` (onnx.ModelProto) whose X is
    the graph input fed with x; the weights come from the initializers."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    feed = model.graph.input[0].name
    out = {}
    for n in model.graph.node:
        if n.op_type != "DynamicQuantizeLSTM" or n.input[0] != feed:
            continue
        attrs = {a.name: a for a in n.attribute}
        direction = attrs["direction"].s.decode() if "direction" in attrs else "forward"
        get = lambda i: inits[n.input[i]] if len(n.input) > i and n.input[i] else None  # noqa: E731
        if any(get(i) is not None for i in (4, 5, 6, 7)):
            raise ValueError(f"{n.name}: sequence_lens, initial states and peepholes are not in this reference")
        results = lstm(x, get(1), get(2), get(3), get(8), get(9), get(10), get(11), direction)
        for name, value in zip(n.output, results):
            if name:
                out[name] = value
    return out


class QGemm(OpRun):
    """com.microsoft QGemm: Y = alpha * (A - a_zero)(B - b_zero) + C (int32, scale a_scale * b_scale),
    exact in int64, then scaled by alpha * a_scale * b_scale and requantized with y_scale / y_zero
    (float output without them)."""

    op_domain = "com.microsoft"

    def _run(self, a, a_scale, a_zero, b, b_scale, b_zero, c=None, y_scale=None, y_zero=None,
             alpha=None, transA=None, transB=None):  # noqa: N803 - attribute names
        alpha = 1.0 if alpha is None else alpha
        a = a.astype(np.int64) - np.asarray(a_zero, np.int64)
        a = a.T if transA else a
        b = b.astype(np.int64)
        b = (b.T if transB else b) - np.asarray(b_zero, np.int64).reshape(1, -1) if np.ndim(b_zero) else (b.T if transB else b) - int(b_zero)
        acc = a @ b + (0 if c is None else c.astype(np.int64))
        scale = (np.float32(alpha) * np.asarray(a_scale, np.float32) * np.asarray(b_scale, np.float32)).astype(np.float32)
        if y_scale is None:
            return ((acc * scale).astype(np.float32),)
        lo, hi = (-128, 127) if y_zero.dtype == np.int8 else (0, 255)
        y = np.rint(acc * (scale / np.float32(y_scale))) + int(y_zero)
        return (np.clip(y, lo, hi).astype(y_zero.dtype),)


def run_exact(path: str, x: np.ndarray) -> np.ndarray:
    """The first output of a QOperator model on x, in integers where its operators are integer ops."""
    model = onnx.load(path)
    # The evaluator implements QuantizeLinear/DequantizeLinear from opset 19 on; their 8-bit
    # semantics are those of opset 13, so the file's opset is raised for it.
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx") and o.version < 19:
            o.version = 19
    evaluator = ReferenceEvaluator(model, new_ops=[QGemm])
    return np.asarray(evaluator.run(None, {model.graph.input[0].name: x})[0])
