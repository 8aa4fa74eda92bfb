#!/usr/bin/env python3
"""Writes float models and their onnxruntime QDQ quantizations for benchmarking the int8 kernels.

    make_quant_bench_models.py OUT_DIR

Writes OUT_DIR/models/{resnet50,mlp}_{float,qdq}.onnx (about 230 MB; not for the repository), to be
timed with `tools/bench_vs_ort.py --ferry FERRY --shared OUT_DIR --models resnet50_float,resnet50_qdq,...`.

- resnet50: the onnx package's light ResNet-50 (check_models.py's LIGHT) with its constant-fill
  weights replaced by fixed-seed He-initialised ones (batch norms: scale 0.5, variance 1), opset 13,
  onnxruntime's quant_pre_process (folds the batch norms), then quantize_static QDQ per channel
  (uint8 activations, int8 weights) calibrated on 4 fixed-seed random inputs.
- mlp: four transformer-style feed-forward blocks on a 1x128x768 input (MatMul 768->3072, bias,
  Relu, MatMul 3072->768, bias, residual Add), quantized the same way.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def resnet50(rng):
    """The light ResNet-50 with random weights as initializers."""
    from check_models import LIGHT
    model = onnx.load(os.path.join(LIGHT, "light_resnet50.onnx"))
    shapes = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    nodes, weights = [], []
    for n in model.graph.node:
        if n.op_type != "ConstantOfShape":
            nodes.append(n)
            continue
        shape, name = tuple(int(d) for d in shapes[n.input[0]]), n.output[0]
        kind = name.split("_")[-2]
        if kind == "w":
            v = rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:])) * (1.0 if "pred" in name else 0.5)
        elif kind == "s":
            v = np.full(shape, 0.5)
        elif kind == "riv":
            v = np.ones(shape)
        else:
            v = rng.standard_normal(shape) * 0.05
        weights.append(numpy_helper.from_array(v.astype(np.float32), name))
    used = {i for n in nodes for i in n.input}
    kept = [t for t in model.graph.initializer if t.name in used] + weights
    names = {t.name for t in kept}
    inputs = [i for i in model.graph.input if i.name not in names and i.name in used]
    graph = helper.make_graph(nodes, "resnet50", inputs, list(model.graph.output), kept)
    out = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    out.ir_version = 7
    return out, inputs[0].name, (1, 3, 224, 224)


def mlp(rng):
    """Four feed-forward blocks of a 768-wide transformer."""
    nodes, inits, cur = [], [], "x"
    for layer in range(4):
        w1, b1, w2, b2 = (f"{p}_{layer}" for p in ("w1", "b1", "w2", "b2"))
        inits += [numpy_helper.from_array((rng.standard_normal(s) * sc).astype(np.float32), n)
                  for n, s, sc in ((w1, [768, 3072], 0.03), (b1, [3072], 0.02), (w2, [3072, 768], 0.015), (b2, [768], 0.02))]
        nodes += [helper.make_node("MatMul", [cur, w1], [f"m1_{layer}"]), helper.make_node("Add", [f"m1_{layer}", b1], [f"a1_{layer}"]),
                  helper.make_node("Relu", [f"a1_{layer}"], [f"r_{layer}"]), helper.make_node("MatMul", [f"r_{layer}", w2], [f"m2_{layer}"]),
                  helper.make_node("Add", [f"m2_{layer}", b2], [f"a2_{layer}"]), helper.make_node("Add", [f"a2_{layer}", cur], [f"o_{layer}"])]
        cur = f"o_{layer}"
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 128, 768])],
                              [helper.make_tensor_value_info(cur, TensorProto.FLOAT, [1, 128, 768])], inits)
    out = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    out.ir_version = 8
    return out, "x", (1, 128, 768)


def main():
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    out_dir = os.path.join(sys.argv[1], "models")
    os.makedirs(out_dir, exist_ok=True)
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    rng = np.random.default_rng(0)
    for build in (resnet50, mlp):
        model, input_name, shape = build(rng)
        onnx.checker.check_model(model)
        name = model.graph.name
        float_path, pre_path = os.path.join(out_dir, f"{name}_float.onnx"), os.path.join(out_dir, f"{name}_pre.onnx")
        onnx.save(model, float_path)
        quant_pre_process(float_path, pre_path, skip_symbolic_shape=True)
        calibration = iter([{input_name: rng.standard_normal(shape).astype(np.float32)} for _ in range(4)])

        class Reader(CalibrationDataReader):
            def get_next(self):
                return next(calibration, None)

        quantize_static(pre_path, os.path.join(out_dir, f"{name}_qdq.onnx"), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        os.remove(pre_path)
        print(f"{out_dir}: {name}_float.onnx, {name}_qdq.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
