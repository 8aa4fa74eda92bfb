#!/usr/bin/env python3
"""The structure fuzz's reproducers of issue 15 part 5, written as ONNX files.

    make_structure_reproducers.py OUT

Each model parses but is damaged the way a structure-mutating fuzz of `ferry` found it trapped:
(a) nodes without the inputs their op needs, (b) ReduceMax of a rank-1 tensor exported to Keras,
(c) a Gemm whose weight rows do not match the flattened input, (d) a Conv left with only its X
input before a BatchNormalization, (e) Shape of an input declared with dims of 2^31, (f) a Loop of
2^62 iterations gathering a scan output. The files are committed in Fixtures/fuzz/onnx-structure
(make test replays them through every path ferry-fuzz's onnx-structure target takes;
Tests/FerryCLITests/StructureReproducerTests.swift checks each command's one-line error).
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def model(name, nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="make_structure_reproducers")
    m.ir_version = 8
    return m


def value(name, dims, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, dims)


def main() -> int:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    x = value("x", [1, 4, 3, 3])
    y = value("y", None)
    models = {
        "a_matmul_no_inputs": model("a", [helper.make_node("MatMul", [], ["y"])], [x], [y]),
        "a_relu_no_inputs": model("a", [helper.make_node("Relu", [], ["y"])], [x], [y]),
        "a_reshape_one_input": model("a", [helper.make_node("Reshape", ["x"], ["y"])], [x], [y]),
        "b_reduce_max_rank1": model(
            "b", [helper.make_node("ReduceMax", ["v"], ["y"], keepdims=0)], [value("v", [5])], [y]),
        "c_gemm_rows_mismatch": model(
            "c",
            [helper.make_node("Flatten", ["x"], ["f"]), helper.make_node("Gemm", ["f", "w"], ["y"])],
            [x], [y], [numpy_helper.from_array(np.ones((7, 5), np.float32), "w")]),
        "d_conv_x_only_batchnorm": model(
            "d",
            [
                helper.make_node("Conv", ["x"], ["c"], name="conv"),
                helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["y"], name="bn"),
            ],
            [x], [y],
            [numpy_helper.from_array(np.full(4, k, np.float32), n) for n, k in (("s", 1), ("b", 0), ("m", 0), ("v", 1))]),
        "e_shape_of_huge_dims": model(
            "e", [helper.make_node("Shape", ["h"], ["y"])], [value("h", [1 << 31, 1 << 31, 1 << 31])],
            [value("y", [3], TensorProto.INT64)]),
    }
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Neg", ["x_in"], ["x_out"]),
            helper.make_node("Identity", ["i"], ["i_out"]),
        ],
        "body",
        [value("i", [], TensorProto.INT64), value("cond_in", [], TensorProto.BOOL), value("x_in", None)],
        [value("cond_out", [], TensorProto.BOOL), value("x_out", None), value("i_out", [], TensorProto.INT64)])
    models["f_loop_2_62_scan"] = model(
        "f",
        [helper.make_node("Loop", ["M", "", "x0"], ["x_final", "counts"], name="endless", body=body)],
        [], [value("x_final", None), value("counts", None, TensorProto.INT64)],
        [
            numpy_helper.from_array(np.array(1 << 62, np.int64), "M"),
            numpy_helper.from_array(np.arange(1, 5, dtype=np.float32), "x0"),
        ])
    for name, m in models.items():
        onnx.save(m, f"{out}/{name}.onnx")
    print(f"{len(models)} reproducers in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
