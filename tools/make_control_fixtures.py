#!/usr/bin/env python3
"""Writes Fixtures/onnx/control/: control-flow models as PyTorch exports them, with onnxruntime's
outputs as the reference.

PyTorch's exporter nests If in If and lists branch outputs by name only (no type, no shape), and
recurrent voice-activity models pass their state through one branch unchanged. Each model here is
built with onnx.helper in that style, with seeded weights:

    nested_if        three levels of If; branch outputs untyped, made by Squeeze, ArgMax, Cast
    state_if         an If on the sample rate: one branch runs an LSTM on the state, the other
                     passes the state through (Identity); untyped outputs
    loop_untyped     a Loop whose body declares no output types: a float accumulator, an int64
                     counter and a scan output
    scan_untyped     a Scan whose body declares no output types
    branches_differ  an If whose branches return float and int64 for the same output: Ferry must
                     refuse it at plan time in one line naming both

For each model and each input set (cases.txt: `NAME SET`), NAME.SET.input_K.pb holds the inputs and
NAME.SET.output_K.pb onnxruntime's outputs. Needs onnx and onnxruntime (tools/requirements.txt).
"""
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Fixtures", "onnx", "control")
RNG = np.random.RandomState(20261206)
F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def untyped(*names):
    """Graph outputs with a name only, as PyTorch writes branch outputs."""
    return [onnx.ValueInfoProto(name=n) for n in names]


def const(name, value):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value), name))


def model(graph, opset=17):
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="ferry fixtures")


def nested_if():
    """y = a three-level decision on x's sum, max and first element; z = an int64 index."""
    def leaf(tag, op):
        # Unsqueeze then Squeeze: the exporter's way of reshaping, outputs untyped.
        nodes = [const(f"{tag}_axes", np.array([0], np.int64)),
                 helper.make_node(op, ["x"], [f"{tag}_r"], keepdims=1) if op.startswith("Reduce") else helper.make_node(op, ["x"], [f"{tag}_r"]),
                 helper.make_node("Unsqueeze", [f"{tag}_r", f"{tag}_axes"], [f"{tag}_u"]),
                 helper.make_node("Squeeze", [f"{tag}_u", f"{tag}_axes"], [f"{tag}_y"]),
                 helper.make_node("ArgMax", ["x"], [f"{tag}_i"], axis=1, keepdims=0),
                 helper.make_node("Cast", [f"{tag}_i"], [f"{tag}_z"], to=I64)]
        return helper.make_graph(nodes, f"leaf_{tag}", [], untyped(f"{tag}_y", f"{tag}_z"))

    def branch(tag, cond_nodes, cond, then_g, else_g):
        nodes = cond_nodes + [helper.make_node("If", [cond], [f"{tag}_y", f"{tag}_z"], then_branch=then_g, else_branch=else_g)]
        return helper.make_graph(nodes, f"branch_{tag}", [], untyped(f"{tag}_y", f"{tag}_z"))

    zero = [const("c3_zero", np.float32(0))]
    level3 = branch("l3", [const("c3_start", np.array([0], np.int64)), const("c3_end", np.array([1], np.int64)),
                           const("c3_axis", np.array([1], np.int64)),
                           helper.make_node("Flatten", ["x"], ["c3_flat"], axis=0),
                           helper.make_node("Slice", ["c3_flat", "c3_start", "c3_end", "c3_axis"], ["c3_first"]),
                           helper.make_node("Squeeze", ["c3_first"], ["c3_scalar"])] + zero +
                    [helper.make_node("Greater", ["c3_scalar", "c3_zero"], ["c3"])],
                    "c3", leaf("a", "Relu"), leaf("b", "Neg"))
    level2 = branch("l2", [helper.make_node("ReduceMax", ["x"], ["c2_max"], keepdims=0), const("c2_one", np.float32(1)),
                           helper.make_node("Greater", ["c2_max", "c2_one"], ["c2"])],
                    "c2", level3, leaf("c", "Abs"))
    top = [helper.make_node("ReduceSum", ["x"], ["c1_sum"], keepdims=0), const("c1_zero", np.float32(0)),
           helper.make_node("Greater", ["c1_sum", "c1_zero"], ["c1"]),
           helper.make_node("If", ["c1"], ["y", "z"], then_branch=level2, else_branch=leaf("d", "Sigmoid"))]
    g = helper.make_graph(top, "nested_if", [helper.make_tensor_value_info("x", F, [3, 4])],
                          [helper.make_tensor_value_info("y", F, None), helper.make_tensor_value_info("z", I64, None)])
    x = RNG.normal(0, 1, (3, 4)).astype(np.float32)
    sets = {"deep": [np.abs(x) + 0.5], "level2_else": [np.full((3, 4), 0.25, np.float32)],
            "level3_else": [(np.abs(x) + 0.5) * np.where(np.arange(12).reshape(3, 4) == 0, -1, 1).astype(np.float32)],
            "top_else": [-np.abs(x) - 0.1]}
    return model(g), sets


def state_if():
    """VAD-style: with sr == 16000 an LSTM updates the state [2, 1, 4] from x [1, 5, 3]; otherwise the
    state passes through. The branch outputs are untyped."""
    hidden, inp = 4, 3
    w = RNG.normal(0, 0.5, (1, 4 * hidden, inp)).astype(np.float32)
    r = RNG.normal(0, 0.5, (1, 4 * hidden, hidden)).astype(np.float32)
    b = RNG.normal(0, 0.2, (1, 8 * hidden)).astype(np.float32)
    run = helper.make_graph([
        const("starts_h", np.array([0], np.int64)), const("ends_h", np.array([1], np.int64)),
        const("starts_c", np.array([1], np.int64)), const("ends_c", np.array([2], np.int64)),
        helper.make_node("Slice", ["state", "starts_h", "ends_h"], ["h0"]),
        helper.make_node("Slice", ["state", "starts_c", "ends_c"], ["c0"]),
        helper.make_node("Transpose", ["x"], ["x_tm"], perm=[1, 0, 2]),
        helper.make_node("LSTM", ["x_tm", "W", "R", "B", "", "h0", "c0"], ["lstm_y", "h1", "c1"], hidden_size=hidden),
        helper.make_node("Concat", ["h1", "c1"], ["new_state"], axis=0),
        helper.make_node("ReduceMean", ["lstm_y"], ["score_raw"], keepdims=0),
        helper.make_node("Sigmoid", ["score_raw"], ["score"]),
    ], "run_lstm", [], untyped("score", "new_state"),
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(r, "R"), numpy_helper.from_array(b, "B")])
    keep = helper.make_graph([
        helper.make_node("Identity", ["state"], ["kept_state"]),
        const("no_score", np.float32(0)),
    ], "pass_state", [], untyped("no_score", "kept_state"))
    nodes = [const("sr16k", np.array(16000, np.int64)), helper.make_node("Equal", ["sr", "sr16k"], ["is16k"]),
             helper.make_node("If", ["is16k"], ["prob", "state_out"], then_branch=run, else_branch=keep)]
    g = helper.make_graph(nodes, "state_if",
                          [helper.make_tensor_value_info("x", F, [1, 5, inp]), helper.make_tensor_value_info("state", F, [2, 1, hidden]),
                           helper.make_tensor_value_info("sr", I64, [])],
                          [helper.make_tensor_value_info("prob", F, None), helper.make_tensor_value_info("state_out", F, None)])
    x = RNG.normal(0, 1, (1, 5, inp)).astype(np.float32)
    state = RNG.normal(0, 0.5, (2, 1, hidden)).astype(np.float32)
    return model(g), {"run": [x, state, np.array(16000, np.int64)], "pass": [x, state, np.array(8000, np.int64)]}


def loop_untyped():
    """Loop M times: acc += x * i, count += 1, scan output acc; the body's outputs are untyped."""
    body = helper.make_graph([
        helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        helper.make_node("Cast", ["i"], ["i_float"], to=F),
        helper.make_node("Mul", ["x", "i_float"], ["step"]),
        helper.make_node("Add", ["acc_in", "step"], ["acc_out"]),
        const("one", np.array(1, np.int64)),
        helper.make_node("Add", ["count_in", "one"], ["count_out"]),
        helper.make_node("Identity", ["acc_out"], ["acc_scan"]),
    ], "body", [helper.make_tensor_value_info("i", I64, []), helper.make_tensor_value_info("cond_in", B, []),
                onnx.ValueInfoProto(name="acc_in"), onnx.ValueInfoProto(name="count_in")],
        untyped("cond_out", "acc_out", "count_out", "acc_scan"))
    nodes = [const("true", np.array(True)), const("acc0", np.zeros((2, 3), np.float32)), const("count0", np.array(0, np.int64)),
             helper.make_node("Loop", ["M", "true", "acc0", "count0"], ["acc", "count", "history"], body=body)]
    g = helper.make_graph(nodes, "loop_untyped", [helper.make_tensor_value_info("M", I64, []), helper.make_tensor_value_info("x", F, [2, 3])],
                          [helper.make_tensor_value_info("acc", F, None), helper.make_tensor_value_info("count", I64, None),
                           helper.make_tensor_value_info("history", F, None)])
    x = RNG.normal(0, 1, (2, 3)).astype(np.float32)
    return model(g), {"four": [np.array(4, np.int64), x], "one": [np.array(1, np.int64), x], "zero": [np.array(0, np.int64), x]}


def scan_untyped():
    """Scan over the rows of x: running sum (state) and the running maximum of each row so far."""
    body = helper.make_graph([
        helper.make_node("Add", ["sum_in", "row"], ["sum_out"]),
        helper.make_node("Max", ["sum_out", "row"], ["peak"]),
        helper.make_node("ArgMax", ["row"], ["where"], axis=0, keepdims=0),
    ], "body", [onnx.ValueInfoProto(name="sum_in"), onnx.ValueInfoProto(name="row")], untyped("sum_out", "peak", "where"))
    nodes = [const("zeros", np.zeros(4, np.float32)),
             helper.make_node("Scan", ["zeros", "x"], ["total", "peaks", "argmaxes"], body=body, num_scan_inputs=1)]
    g = helper.make_graph(nodes, "scan_untyped", [helper.make_tensor_value_info("x", F, [5, 4])],
                          [helper.make_tensor_value_info(n, t, None) for n, t in (("total", F), ("peaks", F), ("argmaxes", I64))])
    return model(g), {"rows": [RNG.normal(0, 1, (5, 4)).astype(np.float32)]}


def branches_differ():
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], ["t"])], "then", [], untyped("t"))
    else_g = helper.make_graph([helper.make_node("ArgMax", ["x"], ["e"], axis=0, keepdims=1)], "else", [], untyped("e"))
    nodes = [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0), const("z", np.float32(0)),
             helper.make_node("Greater", ["s", "z"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    g = helper.make_graph(nodes, "branches_differ", [helper.make_tensor_value_info("x", F, [2, 2])],
                          [onnx.ValueInfoProto(name="y")])
    return model(g), {}


def save_tensor(array, path):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.asarray(array)).SerializeToString())


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.remove(os.path.join(OUT, old))
    lines = ["# control-flow model, input set: tools/make_control_fixtures.py (onnxruntime's outputs)"]
    for build in (nested_if, state_if, loop_untyped, scan_untyped, branches_differ):
        name = build.__name__
        m, sets = build()
        path = os.path.join(OUT, name + ".onnx")
        onnx.save(m, path)
        if not sets:
            continue
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        for tag, inputs in sets.items():
            outs = sess.run(None, {i.name: v for i, v in zip(sess.get_inputs(), inputs)})
            for k, v in enumerate(inputs):
                save_tensor(v, os.path.join(OUT, f"{name}.{tag}.input_{k}.pb"))
            for k, v in enumerate(outs):
                save_tensor(v, os.path.join(OUT, f"{name}.{tag}.output_{k}.pb"))
            lines.append(f"{name} {tag}")
            print(f"{name} {tag}: " + ", ".join(f"{o.name} {np.asarray(v).dtype}{list(np.shape(v))}" for o, v in zip(sess.get_outputs(), outs)))
    with open(os.path.join(OUT, "cases.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
