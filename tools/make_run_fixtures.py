#!/usr/bin/env python3
"""Writes the fixtures of the `ferry run` / `ferry bench` end-to-end tests: an input for
Fixtures/onnx/valid/small_cnn.onnx and onnxruntime's output for it (the reference), a NumPy
object array that `ferry run` must refuse without unpickling it, and symbolic_pool.onnx, whose
symbolic height and width cannot be 1 (a 2x2 max pool, upsampled and concatenated with its input),
shape_reshape.onnx for `ferry optimize --shape`, opset_modern.onnx and opset_mish.onnx for
`ferry edit --opset`, and small_cnn_edited.onnx for `ferry diff`: small_cnn with conv2's bias moved by 0.01, the Relu
after conv1 writing a renamed value, Gemm's alpha written out (1.0, its default) and an unused
initializer added."""
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Fixtures", "cli")


def main():
    model = os.path.join(ROOT, "Fixtures", "onnx", "valid", "small_cnn.onnx")
    x = np.random.default_rng(20261123).standard_normal((1, 1, 16, 16)).astype(np.float32)
    np.save(os.path.join(OUT, "small_cnn.input.npy"), x)
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"input": x})
    np.save(os.path.join(OUT, "small_cnn.ort_output.npy"), y)
    np.savez(os.path.join(OUT, "small_cnn.inputs.npz"), input=x)
    np.save(os.path.join(OUT, "object_array.npy"), np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(os.path.join(OUT, "float64_input.npy"), x.astype(np.float64))
    nodes = [helper.make_node("MaxPool", ["x"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Resize", ["pooled", "", "scales"], ["up"], mode="nearest"),
             helper.make_node("Concat", ["up", "x"], ["y"], axis=1)]
    graph = helper.make_graph(nodes, "symbolic_pool", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 6, "H", "W"])],
                              [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(OUT, "symbolic_pool.onnx"))
    edited_small_cnn(model)
    flatten_by_shape()
    modern_ops()
    print("wrote run fixtures to", OUT)


def flatten_by_shape():
    """shape_reshape.onnx: [batch, seq, 16] flattened to [batch * seq, 16] with a size computed by
    Shape, Gather, Mul and Concat, projected, and reshaped back: `optimize --shape` folds it."""
    i64 = lambda name, values: numpy_helper.from_array(np.array(values, dtype=np.int64), name)  # noqa: E731
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((16, 8)).astype(np.float32), "w")
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "zero"], ["b"], axis=0),
        helper.make_node("Gather", ["shape", "one"], ["s"], axis=0),
        helper.make_node("Mul", ["b", "s"], ["bs"]),
        helper.make_node("Concat", ["bs", "sixteen"], ["flat_shape"], axis=0),
        helper.make_node("Reshape", ["x", "flat_shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["projected"]),
        helper.make_node("Concat", ["b", "s", "eight"], ["back_shape"], axis=0),
        helper.make_node("Reshape", ["projected", "back_shape"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "shape_reshape", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", 8])],
        [w, i64("zero", [0]), i64("one", [1]), i64("sixteen", [16]), i64("eight", [8])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), os.path.join(OUT, "shape_reshape.onnx"))


def modern_ops():
    """opset_modern.onnx (opset 20): HardSwish, LayerNormalization over the last two axes and both
    forms of Gelu, ops newer than opset 13 that `ferry edit --opset 13` writes as the older ops
    defining them; opset_mish.onnx (opset 18): Mish, which it refuses below 18."""
    rng = np.random.default_rng(5)
    f = lambda name, shape: helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)  # noqa: E731
    nodes = [
        helper.make_node("HardSwish", ["x"], ["hs"]),
        helper.make_node("LayerNormalization", ["hs", "gamma", "beta"], ["ln"], axis=-2, epsilon=1e-3),
        helper.make_node("Gelu", ["ln"], ["g1"]),
        helper.make_node("Gelu", ["g1"], ["y"], approximate="tanh"),
    ]
    inits = [numpy_helper.from_array(rng.standard_normal((4, 5)).astype(np.float32), "gamma"),
             numpy_helper.from_array(rng.standard_normal((4, 5)).astype(np.float32), "beta")]
    graph = helper.make_graph(nodes, "opset_modern", [f("x", ["N", 3, 4, 5])], [f("y", ["N", 3, 4, 5])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]), os.path.join(OUT, "opset_modern.onnx"))
    graph = helper.make_graph([helper.make_node("Mish", ["x"], ["y"], name="mish")], "opset_mish", [f("x", ["N", 8])],
                              [f("y", ["N", 8])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), os.path.join(OUT, "opset_mish.onnx"))


def edited_small_cnn(model):
    m = onnx.load(model)
    for t in m.graph.initializer:
        if t.name == "conv2.bias":
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t) + np.float32(0.01), t.name))
    for n in m.graph.node:
        n.input[:] = ["relu1_out" if i == "r1" else i for i in n.input]
        n.output[:] = ["relu1_out" if o == "r1" else o for o in n.output]
        if n.op_type == "Gemm":
            n.attribute.append(helper.make_attribute("alpha", 1.0))
    m.graph.initializer.append(numpy_helper.from_array(np.zeros(3, np.float32), "unused"))
    onnx.save(m, os.path.join(OUT, "small_cnn_edited.onnx"))


if __name__ == "__main__":
    main()
