#!/usr/bin/env python3
"""Writes Fixtures/quant/: small float ONNX models quantized by onnxruntime, with inputs and
onnxruntime's outputs, for Tests/FerryRuntimeTests/QuantizedModelTests.swift.

    make_quant_fixtures.py [OUT_DIR]

Two float models are built with the onnx helper API (fixed seed): `convnet` (Conv+Relu, MaxPool,
depthwise Conv+Relu, 1x1 Conv, Add residual, Concat, GlobalAveragePool, Flatten, Gemm) and `mlp`
(MatMul-heavy: MatMul+Add+Relu, MatMul+Add, residual Add, MatMul, Sigmoid). Each is quantized with
onnxruntime.quantization: quantize_static in QDQ format per channel and per tensor, in QOperator
format, and quantize_dynamic. For every quantized file NAME.onnx the folder gets NAME.input_0.pb,
NAME.output_K.pb (onnxruntime's outputs on CPU, all graph optimizations) and a line in
manifest.txt: `NAME output_index tolerance`, one quantization step of that output (the scale of the
DequantizeLinear producing it, else (max - min) / 255 of onnxruntime's output).
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
    """Conv net on a 1x3x16x16 input: every conv pattern the int8 kernels have a path for."""
    inits = [
        initializer(rng, "w1", [8, 3, 3, 3]), initializer(rng, "b1", [8], 0.1),
        initializer(rng, "w2", [8, 1, 3, 3]), initializer(rng, "b2", [8], 0.1),
        initializer(rng, "w3", [8, 8, 1, 1]), initializer(rng, "b3", [8], 0.1),
        initializer(rng, "w4", [8, 8, 3, 3], 0.2),
        initializer(rng, "wg", [10, 16]), initializer(rng, "bg", [10], 0.1),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], group=8),
        helper.make_node("Relu", ["c2"], ["r2"]),
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
        for build in (convnet, mlp):
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
                "qoperator": lambda src, dst: quantize_static(src, dst, Reader(), quant_format=QuantFormat.QOperator, per_channel=False,
                                                              activation_type=QuantType.QUInt8, weight_type=QuantType.QUInt8),
                "dynamic": lambda src, dst: quantize_dynamic(src, dst, weight_type=QuantType.QInt8),
            }
            x = rng.standard_normal(shape).astype(np.float32)
            for variant, quantize in variants.items():
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
    with open(os.path.join(out_dir, "manifest.txt"), "w", encoding="utf-8") as f:
        f.write("# quantized model, output index, tolerance (one quantization step): tools/make_quant_fixtures.py\n")
        f.write("\n".join(manifest) + "\n")
    total = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    print(f"{out_dir}: {len(manifest)} outputs, {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
