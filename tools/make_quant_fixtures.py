#!/usr/bin/env python3
"""Writes Fixtures/quant/: small float ONNX models quantized by onnxruntime, with inputs and
onnxruntime's outputs, for Tests/FerryRuntimeTests/QuantizedModelTests.swift.

    make_quant_fixtures.py [OUT_DIR]

Float models are built with the onnx helper API (fixed seed): `convnet` (Conv+Relu, MaxPool,
depthwise Conv+Clip, 1x1 Conv, Add residual, Concat, GlobalAveragePool, Flatten, Gemm), `mlp`
(MatMul-heavy: MatMul+Add+Relu, MatMul+Add, residual Add, MatMul, Sigmoid) and `lstm` (one
bidirectional LSTM). They are quantized with onnxruntime.quantization: quantize_static in QDQ format
per channel and per tensor (the conv net also with int8 activations) and in QOperator format, and
quantize_dynamic (the LSTM only so: DynamicQuantizeLSTM). For every quantized file NAME.onnx the
folder gets NAME.input_0.pb, NAME.output_K.pb (onnxruntime's outputs on CPU, all graph
optimizations) and a line in manifest.txt: `NAME output_index tolerance`, one quantization step of
that output (the scale of the DequantizeLinear producing it, else (max - min) / 255 of
onnxruntime's output). edge_qdq_kept_output is a hand-written QDQ model: a conv whose float output
is also a graph output (fusion must keep its Relu and QuantizeLinear) and a conv whose Clip(0, 6)
becomes the requantization range.

Fixtures/quant/ops/ holds single-op models (listed in ops/cases.txt) on random integer inputs with
onnxruntime's outputs: QLinearConv in every kernel path, ConvInteger, QLinearMatMul, MatMulInteger,
the com.microsoft ops, QuantizeLinear on special values, and data-movement ops on uint8/int8.
"""
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPSET = 17


def initializer(rng, name, shape, scale=0.3):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def convnet(rng):
    """Conv net on a 1x3x16x16 input: every conv pattern the int8 kernels have a path for (the
    depthwise conv is followed by Clip(0, 6), the others by Relu)."""
    inits = [
        initializer(rng, "w1", [8, 3, 3, 3]), initializer(rng, "b1", [8], 0.1),
        initializer(rng, "w2", [8, 1, 3, 3]), initializer(rng, "b2", [8], 0.1),
        initializer(rng, "w3", [8, 8, 1, 1]), initializer(rng, "b3", [8], 0.1),
        initializer(rng, "w4", [8, 8, 3, 3], 0.2),
        initializer(rng, "wg", [10, 16]), initializer(rng, "bg", [10], 0.1),
        numpy_helper.from_array(np.array(0, np.float32), "zero"), numpy_helper.from_array(np.array(6, np.float32), "six"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], group=8),
        helper.make_node("Clip", ["c2", "zero", "six"], ["r2"]),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"]),
        helper.make_node("Add", ["c3", "p1"], ["a1"]),
        helper.make_node("Relu", ["a1"], ["r3"]),
        helper.make_node("Conv", ["r3", "w4"], ["c4"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Concat", ["c4", "c4r"], ["cat"], axis=1),
        helper.make_node("GlobalAveragePool", ["cat"], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"]),
        helper.make_node("Gemm", ["flat", "wg", "bg"], ["y"], transB=1),
    ]
    # The Concat's second input: the strided conv's output through a Relu.
    nodes.insert(9, helper.make_node("Relu", ["c4"], ["c4r"]))
    graph = helper.make_graph(nodes, "convnet", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    return graph, [1, 3, 16, 16]


def mlp(rng):
    """MatMul-heavy model on a 1x8x32 input (a sequence of 8 vectors)."""
    inits = [
        initializer(rng, "w1", [32, 64], 0.2), initializer(rng, "b1", [64], 0.1),
        initializer(rng, "w2", [64, 32], 0.15), initializer(rng, "b2", [32], 0.1),
        initializer(rng, "w3", [32, 16], 0.2),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m1"]),
        helper.make_node("Add", ["m1", "b1"], ["a1"]),
        helper.make_node("Relu", ["a1"], ["r1"]),
        helper.make_node("MatMul", ["r1", "w2"], ["m2"]),
        helper.make_node("Add", ["m2", "b2"], ["a2"]),
        helper.make_node("Add", ["a2", "x"], ["res"]),
        helper.make_node("MatMul", ["res", "w3"], ["m3"]),
        helper.make_node("Sigmoid", ["m3"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 32])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16])], inits)
    return graph, [1, 8, 32]


def qtensor(rng, name, shape, dtype):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)


def op_cases(rng):
    """Single-op models (name, node, inputs as (name, array, constant)) covering the int8 kernels' paths."""
    f32 = np.float32
    cases = []

    def scale(*shape):
        return (rng.uniform(0.002, 0.02, size=shape)).astype(f32)

    def conv(name, x_shape, w_shape, x_type=np.uint8, w_type=np.int8, per_channel=True, bias=True, const_w=True, **attrs):
        m = w_shape[0]
        ins = [("x", qtensor(rng, "x", x_shape, x_type), False), ("x_scale", f32(0.05), True),
               ("x_zero_point", np.array(rng.integers(0, 20) if x_type == np.uint8 else rng.integers(-10, 10), dtype=x_type), True),
               ("w", qtensor(rng, "w", w_shape, w_type), const_w), ("w_scale", scale(m) if per_channel else f32(0.01), True),
               ("w_zero_point", np.zeros(m if per_channel else (), dtype=w_type) if w_type == np.int8
                else rng.integers(100, 150, size=m if per_channel else ()).astype(w_type), True),
               ("y_scale", f32(rng.uniform(0.5, 2.0)), True), ("y_zero_point", np.array(128 if x_type == np.uint8 else 0, dtype=x_type), True)]
        if bias:
            ins.append(("B", rng.integers(-5000, 5000, size=m).astype(np.int32), True))
        cases.append((name, helper.make_node("QLinearConv", [i[0] for i in ins], ["y"], **attrs), ins))

    conv("qlinearconv_3x3_pad", [1, 8, 9, 10], [6, 8, 3, 3], pads=[1, 1, 1, 1])
    conv("qlinearconv_group_stride_dilation", [2, 6, 11, 12], [4, 3, 3, 3], group=2, strides=[2, 2], dilations=[2, 2], pads=[2, 1, 2, 1])
    conv("qlinearconv_same_upper", [1, 4, 7, 8], [5, 4, 2, 3], auto_pad="SAME_UPPER", strides=[2, 1], per_channel=False)
    conv("qlinearconv_pointwise", [1, 16, 6, 7], [24, 16, 1, 1], bias=False)
    conv("qlinearconv_depthwise", [1, 12, 10, 9], [12, 1, 3, 3], group=12, pads=[1, 1, 1, 1], strides=[2, 2])
    conv("qlinearconv_1d", [2, 5, 17], [7, 5, 3], pads=[1, 2])
    conv("qlinearconv_s8s8", [1, 6, 8, 8], [8, 6, 3, 3], x_type=np.int8, pads=[1, 1, 1, 1])
    conv("qlinearconv_u8u8", [1, 6, 8, 8], [8, 6, 3, 3], w_type=np.uint8, pads=[0, 1, 1, 0])
    conv("qlinearconv_tiles", [1, 128, 32, 32], [16, 128, 3, 3], pads=[1, 1, 1, 1])
    conv("qlinearconv_runtime_weights", [1, 4, 6, 6], [3, 4, 3, 3], const_w=False)

    ins = [("x", qtensor(rng, "x", [1, 5, 9, 8], np.uint8), False), ("w", qtensor(rng, "w", [4, 5, 3, 3], np.uint8), True),
           ("x_zero_point", np.array(7, dtype=np.uint8), True), ("w_zero_point", np.array(130, dtype=np.uint8), True)]
    cases.append(("convinteger_strided", helper.make_node("ConvInteger", [i[0] for i in ins], ["y"], strides=[2, 2], pads=[1, 0, 1, 0]), ins))

    def matmul(name, a_shape, b_shape, a_type=np.uint8, b_type=np.int8, per_column=True):
        n = b_shape[-1]
        ins = [("a", qtensor(rng, "a", a_shape, a_type), False), ("a_scale", f32(0.03), True),
               ("a_zero_point", np.array(3 if a_type == np.uint8 else -2, dtype=a_type), True),
               ("b", qtensor(rng, "b", b_shape, b_type), True), ("b_scale", scale(n) if per_column else f32(0.01), True),
               ("b_zero_point", (np.zeros(n, dtype=b_type) if b_type == np.int8 else rng.integers(120, 136, size=n).astype(b_type))
                if per_column else np.array(0 if b_type == np.int8 else 128, dtype=b_type), True),
               ("y_scale", f32(0.8), True), ("y_zero_point", np.array(120 if a_type == np.uint8 else 5, dtype=a_type), True)]
        cases.append((name, helper.make_node("QLinearMatMul", [i[0] for i in ins], ["y"]), ins))

    matmul("qlinearmatmul_batched", [2, 3, 7, 20], [20, 9])
    matmul("qlinearmatmul_u8u8", [5, 33], [33, 17], b_type=np.uint8)
    matmul("qlinearmatmul_s8s8_per_tensor", [4, 12], [12, 6], a_type=np.int8, per_column=False)

    ins = [("A", qtensor(rng, "A", [3, 6, 10], np.uint8), False), ("B", qtensor(rng, "B", [10, 7], np.int8), True),
           ("a_zero_point", np.array(9, dtype=np.uint8), True), ("b_zero_point", rng.integers(-3, 3, size=7).astype(np.int8), True)]
    cases.append(("matmulinteger_per_column", helper.make_node("MatMulInteger", [i[0] for i in ins], ["y"]), ins))

    def ms(name, op, ins, **attrs):
        cases.append((name, helper.make_node(op, [i[0] for i in ins], ["y"], domain="com.microsoft", **attrs), ins))

    a = qtensor(rng, "a", [2, 12], np.uint8)
    ms("qgemm_float_output", "QGemm", [("A", a, False), ("a_scale", f32(0.02), True), ("a_zero_point", np.array(100, np.uint8), True),
                                       ("B", qtensor(rng, "B", [5, 12], np.int8), True), ("b_scale", scale(5), True),
                                       ("b_zero_point", np.zeros(5, np.int8), True), ("C", rng.integers(-300, 300, size=5).astype(np.int32), True)],
       transB=1, alpha=0.5)
    ms("qgemm_requantized", "QGemm", [("A", a, False), ("a_scale", f32(0.02), True), ("a_zero_point", np.array(100, np.uint8), True),
                                      ("B", qtensor(rng, "B", [12, 5], np.int8), True), ("b_scale", f32(0.01), True),
                                      ("b_zero_point", np.array(0, np.int8), True), ("C", rng.integers(-300, 300, size=5).astype(np.int32), True),
                                      ("y_scale", f32(0.05), True), ("y_zero_point", np.array(128, np.uint8), True)])
    ms("matmulintegertofloat", "MatMulIntegerToFloat", [("A", qtensor(rng, "A", [4, 9], np.uint8), False), ("B", qtensor(rng, "B", [9, 6], np.int8), True),
                                                         ("a_scale", f32(0.02), True), ("b_scale", scale(6), True),
                                                         ("a_zero_point", np.array(12, np.uint8), True), ("b_zero_point", np.zeros(6, np.int8), True),
                                                         ("bias", rng.standard_normal(6).astype(f32), True)])
    ms("dynamicquantizematmul", "DynamicQuantizeMatMul", [("A", rng.standard_normal([3, 11]).astype(f32), False),
                                                          ("B", qtensor(rng, "B", [11, 4], np.int8), True), ("b_scale", scale(4), True),
                                                          ("b_zero_point", np.zeros(4, np.int8), True), ("bias", rng.standard_normal(4).astype(f32), True)])
    x4 = qtensor(rng, "x", [1, 6, 5, 7], np.uint8)
    ms("qlinearadd_broadcast", "QLinearAdd", [("A", x4, False), ("A_scale", f32(0.04), True), ("A_zero_point", np.array(120, np.uint8), True),
                                              ("B", qtensor(rng, "B", [1, 6, 1, 1], np.uint8), True), ("B_scale", f32(0.02), True),
                                              ("B_zero_point", np.array(128, np.uint8), True), ("C_scale", f32(0.05), True),
                                              ("C_zero_point", np.array(110, np.uint8), True)])
    ms("qlinearmul_int8", "QLinearMul", [("A", qtensor(rng, "A", [3, 8], np.int8), False), ("A_scale", f32(0.04), True),
                                         ("A_zero_point", np.array(1, np.int8), True), ("B", qtensor(rng, "B", [3, 8], np.int8), False),
                                         ("B_scale", f32(0.03), True), ("B_zero_point", np.array(-2, np.int8), True),
                                         ("C_scale", f32(0.09), True), ("C_zero_point", np.array(3, np.int8), True)])
    unary = [("X", x4, False), ("X_scale", f32(0.05), True), ("X_zero_point", np.array(128, np.uint8), True),
             ("Y_scale", f32(0.004), True), ("Y_zero_point", np.array(0, np.uint8), True)]
    ms("qlinearsigmoid", "QLinearSigmoid", unary)
    ms("qlinearleakyrelu", "QLinearLeakyRelu", unary[:3] + [("Y_scale", f32(0.03), True), ("Y_zero_point", np.array(100, np.uint8), True)], alpha=0.2)
    ms("qlinearconcat", "QLinearConcat", [("Y_scale", f32(0.06), True), ("Y_zero_point", np.array(125, np.uint8), True),
                                          ("X1", x4, False), ("X1_scale", f32(0.05), True), ("X1_zero_point", np.array(128, np.uint8), True),
                                          ("X2", qtensor(rng, "X2", [1, 3, 5, 7], np.uint8), False), ("X2_scale", f32(0.06), True),
                                          ("X2_zero_point", np.array(125, np.uint8), True)], axis=1)
    pool = [("X", x4, False), ("x_scale", f32(0.05), True), ("x_zero_point", np.array(128, np.uint8), True),
            ("y_scale", f32(0.03), True), ("y_zero_point", np.array(120, np.uint8), True)]
    ms("qlinearglobalaveragepool", "QLinearGlobalAveragePool", pool, channels_last=0)
    ms("qlinearglobalaveragepool_channels_last", "QLinearGlobalAveragePool", pool, channels_last=1)
    ms("qlinearaveragepool", "QLinearAveragePool", pool, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)

    # Rounding halves to even, saturation of large and infinite values, NaN (to the low bound).
    special = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, 1e9, -1e9, np.inf, -np.inf, np.nan] * 2, f32).reshape(2, 12)
    for dtype, zero in [(np.uint8, 10), (np.int8, -3), (np.uint16, 1000), (np.int16, 7)]:
        ins = [("x", special, False), ("y_scale", np.array([1.0, 0.5], f32), True), ("y_zero_point", np.array([zero, zero + 2], dtype), True)]
        cases.append((f"quantizelinear_special_{np.dtype(dtype).name}", helper.make_node("QuantizeLinear", [i[0] for i in ins], ["y"], axis=0), ins))

    # Data movement on 1-byte tensors, as quantized models use it.
    def byte_op(name, op, dtype, extra=(), **attrs):
        ins = [("x", qtensor(rng, "x", [1, 4, 6, 6], dtype), False)] + [(n, np.asarray(v), True) for n, v in extra]
        cases.append((name, helper.make_node(op, [i[0] for i in ins], ["y"], **attrs), ins))

    i64 = np.int64
    byte_op("uint8_reshape", "Reshape", np.uint8, [("shape", np.array([1, 24, 6], i64))])
    byte_op("int8_transpose", "Transpose", np.int8, perm=[0, 2, 3, 1])
    byte_op("uint8_flatten", "Flatten", np.uint8, axis=2)
    byte_op("int8_slice", "Slice", np.int8, [("starts", np.array([1, 0], i64)), ("ends", np.array([4, 5], i64)), ("axes", np.array([1, 3], i64)),
                                             ("steps", np.array([2, 2], i64))])
    byte_op("uint8_squeeze", "Squeeze", np.uint8, [("axes", np.array([0], i64))])
    byte_op("uint8_unsqueeze", "Unsqueeze", np.uint8, [("axes", np.array([2], i64))])
    byte_op("uint8_pad", "Pad", np.uint8, [("pads", np.array([0, 0, 1, 2, 0, 0, 2, 1], i64)), ("value", np.array(7, np.uint8))])
    byte_op("int8_maxpool", "MaxPool", np.int8, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    byte_op("uint8_resize_nearest", "Resize", np.uint8, [("roi", np.array([], np.float32)), ("scales", np.array([1, 1, 2, 1.5], np.float32))],
            mode="nearest")
    byte_op("uint8_gather", "Gather", np.uint8, [("indices", np.array([3, 0, 5], i64))], axis=2)
    byte_op("int8_tile", "Tile", np.int8, [("repeats", np.array([1, 2, 1, 2], i64))])
    byte_op("uint8_expand", "Expand", np.uint8, [("shape", np.array([2, 4, 6, 6], i64))])
    byte_op("uint8_depthtospace", "DepthToSpace", np.uint8, blocksize=2, mode="CRD")
    byte_op("int8_spacetodepth", "SpaceToDepth", np.int8, blocksize=2)
    byte_op("uint8_concat", "Concat", np.uint8, [("other", qtensor(rng, "o", [1, 2, 6, 6], np.uint8))], axis=1)
    return cases


def write_op_cases(rng, out_dir, ort):
    """Each single-op case: NAME.onnx, NAME.input_K.pb for its runtime inputs, NAME.output_0.pb."""
    os.makedirs(out_dir, exist_ok=True)
    names = []
    for name, node, ins in op_cases(rng):
        inits = [numpy_helper.from_array(np.asarray(a), n) for n, a, const in ins if const]
        inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape) for n, a, const in ins if not const]
        graph = helper.make_graph([node], name, inputs, [helper.make_value_info("y", onnx.TypeProto())], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)])
        model.ir_version = 10
        path = os.path.join(out_dir, name + ".onnx")
        onnx.save(model, path)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        feeds = {n: a for n, a, const in ins if not const}
        y = session.run(None, feeds)[0]
        for k, (n, a, const) in enumerate([i for i in ins if not i[2]]):
            save_tensor(a, os.path.join(out_dir, f"{name}.input_{k}.pb"))
        save_tensor(y, os.path.join(out_dir, f"{name}.output_0.pb"))
        names.append(name)
    with open(os.path.join(out_dir, "cases.txt"), "w", encoding="utf-8") as f:
        f.write("# single-op cases (tools/make_quant_fixtures.py): NAME.onnx, NAME.input_K.pb, onnxruntime's NAME.output_0.pb\n")
        f.write("\n".join(names) + "\n")
    print(f"{out_dir}: {len(names)} single-op cases")


def qdq_kept_output(rng):
    """A hand-written QDQ conv whose float output is also a graph output: the conv still runs on
    int8 (float output pass) but the Relu and QuantizeLinear after it must stay; and a second conv
    whose Clip(0, 6) before its QuantizeLinear must become the requantization range."""
    w = rng.integers(-127, 127, size=[6, 4, 3, 3]).astype(np.int8)
    w_scale = rng.uniform(0.002, 0.01, size=6).astype(np.float32)
    x_scale = np.float32(0.02)
    inits = [numpy_helper.from_array(np.array(x_scale), "x_scale"), numpy_helper.from_array(np.array(128, np.uint8), "x_zero"),
             numpy_helper.from_array(w, "w_q"), numpy_helper.from_array(w_scale, "w_scale"),
             numpy_helper.from_array(np.zeros(6, np.int8), "w_zero"),
             numpy_helper.from_array(rng.integers(-2000, 2000, size=6).astype(np.int32), "b_q"),
             numpy_helper.from_array(x_scale * w_scale, "b_scale"),
             numpy_helper.from_array(np.array(0.01, np.float32), "y_scale"), numpy_helper.from_array(np.array(0, np.uint8), "y_zero"),
             numpy_helper.from_array(np.array(0.05, np.float32), "k_scale"),
             numpy_helper.from_array(np.array(0, np.float32), "zero"), numpy_helper.from_array(np.array(6, np.float32), "six")]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zero"], ["x_q"]),
        helper.make_node("DequantizeLinear", ["x_q", "x_scale", "x_zero"], ["x_dq"]),
        helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zero"], ["w"], axis=0),
        helper.make_node("DequantizeLinear", ["b_q", "b_scale"], ["b"], axis=0),
        helper.make_node("Conv", ["x_dq", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("QuantizeLinear", ["r", "y_scale", "y_zero"], ["r_q"]),
        helper.make_node("DequantizeLinear", ["r_q", "y_scale", "y_zero"], ["y"]),
        # A second conv on the same input whose Clip(0, 6) becomes the requantization range.
        helper.make_node("Conv", ["x_dq", "w"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["c2", "zero", "six"], ["k"]),
        helper.make_node("QuantizeLinear", ["k", "k_scale", "y_zero"], ["k_q"]),
        helper.make_node("DequantizeLinear", ["k_q", "k_scale", "y_zero"], ["y2"]),
    ]
    graph = helper.make_graph(nodes, "edge", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, 8, 8]),
                               helper.make_tensor_value_info("c", TensorProto.FLOAT, [1, 6, 8, 8]),
                               helper.make_tensor_value_info("y2", TensorProto.FLOAT, [1, 6, 8, 8])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def lstm(rng):
    """A bidirectional LSTM on a 6x1x8 sequence (quantize_dynamic makes it a DynamicQuantizeLSTM)."""
    hidden = 16
    inits = [initializer(rng, "W", [2, 4 * hidden, 8], 0.3), initializer(rng, "R", [2, 4 * hidden, hidden], 0.3),
             initializer(rng, "B", [2, 8 * hidden], 0.1)]
    nodes = [helper.make_node("LSTM", ["x", "W", "R", "B"], ["y"], hidden_size=hidden, direction="bidirectional")]
    graph = helper.make_graph(nodes, "lstm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [6, 1, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [6, 2, 1, hidden])], inits)
    return graph, [6, 1, 8]


def save_tensor(array, path):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array).SerializeToString())


def output_step(model, name, reference):
    """One quantization step of graph output `name`."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if name in node.output and node.op_type == "DequantizeLinear" and node.input[1] in inits:
            return float(np.max(inits[node.input[1]]))
    return float((reference.max() - reference.min()) / 255)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Fixtures", "quant")
    os.makedirs(out_dir, exist_ok=True)
    import onnxruntime as ort
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic,
                                          quantize_static)

    rng = np.random.default_rng(20261202)
    manifest = []
    with tempfile.TemporaryDirectory() as tmp:
        for build in (convnet, mlp, lstm):
            graph, shape = build(rng)
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
            model.ir_version = 8
            onnx.checker.check_model(model)
            float_path = os.path.join(tmp, graph.name + ".onnx")
            onnx.save(model, float_path)
            calibration = [rng.standard_normal(shape).astype(np.float32) for _ in range(8)]

            class Reader(CalibrationDataReader):
                def __init__(self):
                    self.items = iter([{"x": c} for c in calibration])

                def get_next(self):
                    return next(self.items, None)

            variants = {
                "qdq_per_channel": lambda src, dst: quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                                                                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8),
                "qdq_per_tensor": lambda src, dst: quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ, per_channel=False,
                                                                   activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8),
                "qdq_s8s8": lambda src, dst: quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                                                             activation_type=QuantType.QInt8, weight_type=QuantType.QInt8),
                "qoperator": lambda src, dst: quantize_static(src, dst, Reader(), quant_format=QuantFormat.QOperator, per_channel=False,
                                                              activation_type=QuantType.QUInt8, weight_type=QuantType.QUInt8),
                "dynamic": lambda src, dst: quantize_dynamic(src, dst, weight_type=QuantType.QInt8),
            }
            x = rng.standard_normal(shape).astype(np.float32)
            for variant, quantize in variants.items():
                if graph.name == "lstm" and variant != "dynamic" or graph.name == "mlp" and variant == "qdq_s8s8":
                    continue
                name = f"{graph.name}_{variant}"
                path = os.path.join(out_dir, name + ".onnx")
                quantize(float_path, path)
                quantized = onnx.load(path)
                session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                outputs = session.run(None, {"x": x})
                save_tensor(x, os.path.join(out_dir, f"{name}.input_0.pb"))
                for k, (info, y) in enumerate(zip(quantized.graph.output, outputs)):
                    save_tensor(y, os.path.join(out_dir, f"{name}.output_{k}.pb"))
                    manifest.append(f"{name} {k} {output_step(quantized, info.name, y):.9g}")
                ops = sorted({n.op_type for n in quantized.graph.node})
                print(f"{name}: {', '.join(ops)}")
    name = "edge_qdq_kept_output"
    path = os.path.join(out_dir, name + ".onnx")
    model = qdq_kept_output(rng)
    onnx.checker.check_model(model)
    onnx.save(model, path)
    x = rng.standard_normal([1, 4, 8, 8]).astype(np.float32)
    save_tensor(x, os.path.join(out_dir, f"{name}.input_0.pb"))
    outputs = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})
    for k, (info, y) in enumerate(zip(model.graph.output, outputs)):
        save_tensor(y, os.path.join(out_dir, f"{name}.output_{k}.pb"))
        manifest.append(f"{name} {k} {output_step(model, info.name, y):.9g}")
    write_op_cases(rng, os.path.join(out_dir, "ops"), ort)
    with open(os.path.join(out_dir, "manifest.txt"), "w", encoding="utf-8") as f:
        f.write("# quantized model, output index, tolerance (one quantization step): tools/make_quant_fixtures.py\n")
        f.write("\n".join(manifest) + "\n")
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(out_dir) for f in files)
    print(f"{out_dir}: {len(manifest)} outputs, {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
