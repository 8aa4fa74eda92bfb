#!/usr/bin/env python3
"""Checks `ferry optimize` against onnxruntime: optimized models must be valid ONNX that
onnxruntime runs, with the outputs of the model they came from.

    interop_optimize.py --ferry PATH_TO_FERRY [--shared DIR] [--work DIR] [--only TEXT]

Models:
  light        the ONNX "light" zoo models of the onnx package (weights are ConstantOfShape fills;
               the optimizer's fold limit keeps large fills as they are, so files stay small).
  light+fold   ResNet-50, SqueezeNet and ShuffleNet again with `--fold-limit 1073741824`: every
               fill becomes an initializer, so batch norms fold into the materialised weights.
  light+random ResNet-50, ShuffleNet, SqueezeNet, Inception v2 and DenseNet-121 with every
               ConstantOfShape fill v replaced by an initializer of v * uniform(-1.5, 1.5) (seed 0;
               uniform(0.5, 1.5) for batch-norm variances): the fills make the zoo models' outputs
               nearly constant, which would hide numeric mistakes.
  shared       DIR/models/ch_ppocr_mobile_v2.0_cls_infer.onnx (DIR defaults to ../shared next to the
               repository; skipped with a message when absent).
  ops          small models built here with onnx.helper, one per rewrite: Conv + each activation
               FusedConv takes (Clip at opsets 6 and 13, Tanh), batch norms after
               Conv, grouped ConvTranspose, Gemm (transB 0/1) and MatMul, Keras-style Mul + Add,
               Transpose pairs, Reshape chains, Identity/Dropout, duplicate initializers.
  keras        every Fixtures/keras/manifest.json model with an .h5 file: the reference is
               `ferry convert NAME.h5 ref.onnx`, the candidate `ferry optimize NAME.h5 opt.onnx`,
               fed the fixture's Keras inputs.
For each: `ferry optimize IN OUT --json`, onnx.checker.check_model(full_check=True) on both files,
then onnxruntime (graph optimizations off, CPU) on both with the same inputs (fixed seed 0, uniform
in [-1, 1], or the Keras fixture inputs). The difference measure, over every element of every
output, is  max |a - b| / max |a|  per output (a from the original, b from the optimized model: the
largest difference relative to the output's largest magnitude, 0 when both are all zeros); it must
be <= 1e-5 for every output. `ferry run` on the
optimized file must also match onnxruntime's outputs for it within check_models.py's tolerance
(|ferry - ort| <= 1e-4 + 1e-3 |ort|). One line per model with node counts before -> after, the
difference, Ferry's largest absolute difference and the rewrites per pass, then `N passed, M failed`;
exit 1 on a failure.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

sys.dont_write_bytecode = True  # no __pycache__ in tools/ from the imports below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks, Failure, ort_run  # noqa: E402
from check_models import ATOL, KERAS, LIGHT, ROOT, RTOL, compare, ferry_run, first_line, graph_inputs, safe, shared_inputs  # noqa: E402

TOLERANCE = 1e-5
SHARED_MODEL = "ch_ppocr_mobile_v2.0_cls_infer.onnx"
MATERIALISED = ["light_resnet50", "light_squeezenet", "light_shufflenet"]
RANDOMISED = ["light_resnet50", "light_shufflenet", "light_squeezenet", "light_inception_v2", "light_densenet121"]
ort.set_default_logger_severity(3)


def run(argv, timeout):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise Failure(f"{os.path.basename(argv[0])} {argv[1]} exited {p.returncode}: {first_line(p.stderr)}")
    return p.stdout


def difference(want, got):
    """The largest max |a - b| / max |a| over the outputs (a: original, b: optimized); names and shapes must match."""
    if [n for n, _ in want] != [n for n, _ in got]:
        raise Failure(f"outputs {[n for n, _ in got]} differ from the original's {[n for n, _ in want]}")
    worst = 0.0
    for (name, a), (_, b) in zip(want, got):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise Failure(f"output {name!r}: {b.dtype}{list(b.shape)} instead of {a.dtype}{list(a.shape)}")
        if a.size == 0:
            continue
        if not np.issubdtype(a.dtype, np.floating):
            if not np.array_equal(a, b):
                raise Failure(f"output {name!r} ({a.dtype}) differs")
            continue
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        same_nan = np.isnan(a64) & np.isnan(b64)
        if (np.isnan(a64) != np.isnan(b64)).any():
            raise Failure(f"output {name!r}: NaN in one model's output only")
        d = float(np.where(same_nan, 0.0, np.abs(a64 - b64)).max())
        scale = float(np.nan_to_num(np.abs(a64), nan=0.0).max())
        worst = max(worst, 0.0 if d == 0 else d / scale if scale > 0 else np.inf)
    return worst


def check(ferry, original, source, feeds_of, work, timeout, extra=()):
    """Optimizes `source` into work/opt.onnx; `original` is the ONNX file it is compared with."""
    os.makedirs(work, exist_ok=True)
    out = os.path.join(work, "opt.onnx")
    summary = json.loads(run([ferry, "optimize", source, out, "--force", "--json", *extra], timeout))
    for path in (original, out):
        onnx.checker.check_model(path, full_check=True)
    feeds = feeds_of(onnx.load(original, load_external_data=False))
    optimized = ort_run(out, feeds, optimization="none")
    worst = difference(ort_run(original, feeds, optimization="none"), optimized)
    if worst > TOLERANCE:
        raise Failure(f"outputs differ by {worst:.3g} (> {TOLERANCE})")
    # Ferry runs the optimized file too (FusedConv included), within check_models.py's tolerance.
    ferry_diff, _ = compare(ferry_run(ferry, out, feeds, os.path.join(work, "run"), timeout), optimized, RTOL, ATOL)
    changed = ", ".join(f"{p['name']} {p['rewrites']}" for p in summary["passes"] if p["rewrites"])
    return [f"nodes {summary['nodes_before']} -> {summary['nodes_after']}", f"max diff {worst:.2e}",
            f"ferry vs ort {ferry_diff:.1e}", changed or "no rewrites"]


def randomised(path, out):
    """Writes `path` with its ConstantOfShape fills replaced by random initializers (see the top)."""
    model = onnx.load(path)
    g = model.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    variances = {n.input[4] for n in g.node if n.op_type == "BatchNormalization" and len(n.input) > 4}
    rs = np.random.RandomState(0)
    kept = []
    for n in g.node:
        if n.op_type != "ConstantOfShape" or n.input[0] not in inits:
            kept.append(n)
            continue
        value = next((numpy_helper.to_array(a.t) for a in n.attribute if a.name == "value"), np.zeros(1, np.float32))
        shape = tuple(int(d) for d in inits[n.input[0]])
        low, high = (0.5, 1.5) if n.output[0] in variances else (-1.5, 1.5)
        data = (value.reshape(()) * rs.uniform(low, high, shape)).astype(value.dtype)
        g.initializer.append(numpy_helper.from_array(data, n.output[0]))
        if model.ir_version < 4:
            g.input.append(helper.make_tensor_value_info(n.output[0], helper.np_dtype_to_tensor_dtype(data.dtype), shape))
    del g.node[:]
    g.node.extend(kept)
    onnx.save(model, out)
    return out


def op_models():
    """(name, ModelProto) for the `ops` checks; weights are seeded random."""
    rs = np.random.RandomState(0)
    T = onnx.TensorProto.FLOAT

    def init(name, *shape, low=-1.0, high=1.0):
        return numpy_helper.from_array(rs.uniform(low, high, shape).astype(np.float32), name)

    def model(nodes, inits, x_shape, opset=17):
        graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", T, x_shape)],
                                  [helper.make_tensor_value_info("y", T, None)], inits)
        return onnx.shape_inference.infer_shapes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8))

    def bn(x, m, y="y"):
        return (helper.make_node("BatchNormalization", [x, "s", "b", "mu", "var"], [y], epsilon=1e-3),
                [init("s", m), init("b", m), init("mu", m), init("var", m, low=0.5, high=1.5)])

    conv = helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1])
    conv_w = lambda: [init("W", 4, 3, 3, 3), init("B", 4)]  # noqa: E731
    activations = [
        ("relu", helper.make_node("Relu", ["c"], ["y"]), [], 17),
        ("leaky_relu", helper.make_node("LeakyRelu", ["c"], ["y"], alpha=0.3), [], 17),
        ("hard_sigmoid", helper.make_node("HardSigmoid", ["c"], ["y"], alpha=0.3, beta=0.4), [], 17),
        ("sigmoid", helper.make_node("Sigmoid", ["c"], ["y"]), [], 17),
        ("clip13", helper.make_node("Clip", ["c", "lo", "hi"], ["y"]),
         [numpy_helper.from_array(np.array(-0.5, np.float32), "lo"), numpy_helper.from_array(np.array(0.7, np.float32), "hi")], 13),
        ("clip6", helper.make_node("Clip", ["c"], ["y"], min=-0.5, max=0.7), [], 6),
        ("tanh", helper.make_node("Tanh", ["c"], ["y"]), [], 17),
    ]
    for name, act, extra, opset in activations:
        yield f"conv+{name}", model([conv, act], conv_w() + extra, [1, 3, 7, 7], opset)
    node, params = bn("c", 4)
    yield "conv+bn", model([helper.make_node("Conv", ["x", "W"], ["c"], strides=[2, 2]), node], [init("W", 4, 3, 3, 3)] + params, [1, 3, 9, 9])
    node, params = bn("c", 6)
    yield "conv_transpose(group 2)+bn", model([helper.make_node("ConvTranspose", ["x", "W", "B"], ["c"], group=2, strides=[2, 2]), node],
                                              [init("W", 4, 3, 3, 3), init("B", 6)] + params, [1, 4, 5, 5])
    for trans_b in (0, 1):
        node, params = bn("g", 5)
        yield f"gemm(transB {trans_b})+bn", model(
            [helper.make_node("Gemm", ["x", "W", "C"], ["g"], transB=trans_b, alpha=0.5, beta=2.0), node],
            [init("W", *((5, 3) if trans_b else (3, 5))), init("C", 5)] + params, [4, 3])
    node, params = bn("p", 5)
    yield "matmul+bn", model([helper.make_node("MatMul", ["x", "W"], ["p"]), node], [init("W", 3, 5)] + params, [4, 3])
    yield "conv+mul+add", model([helper.make_node("Conv", ["x", "W"], ["c"]), helper.make_node("Mul", ["k", "c"], ["m"]),
                                 helper.make_node("Add", ["m", "t"], ["y"])],
                                [init("W", 4, 3, 1, 1), init("k", 1, 4, 1, 1), init("t", 4, 1, 1)], [1, 3, 5, 5])
    yield "transposes", model([helper.make_node("Transpose", ["x"], ["a"], perm=[0, 2, 3, 1]),
                               helper.make_node("Transpose", ["a"], ["b"], perm=[0, 3, 1, 2]),
                               helper.make_node("Transpose", ["b"], ["d"], perm=[1, 0, 2, 3]),
                               helper.make_node("Transpose", ["d"], ["y"], perm=[0, 1, 3, 2])], [], [2, 3, 4, 5])
    yield "reshapes+identity+dropout", model(
        [helper.make_node("Reshape", ["x", "s1"], ["a"]), helper.make_node("Identity", ["a"], ["i"]),
         helper.make_node("Reshape", ["i", "s2"], ["b"]), helper.make_node("Dropout", ["b"], ["y"])],
        [numpy_helper.from_array(np.array([6, 4], np.int64), "s1"), numpy_helper.from_array(np.array([3, -1, 2], np.int64), "s2")],
        [2, 3, 4])
    w = rs.uniform(-1, 1, (8,)).astype(np.float32)
    yield "duplicate initializers", model([helper.make_node("Add", ["x", "w1"], ["a"]), helper.make_node("Mul", ["a", "w2"], ["y"])],
                                          [numpy_helper.from_array(w, "w1"), numpy_helper.from_array(w, "w2")], [8])


def keras_feeds(entry):
    def feeds(model):
        result = {}
        for vi, spec in zip(graph_inputs(model), entry["inputs"]):
            dtype = helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)
            result[vi.name] = np.load(os.path.join(KERAS, spec["file"])).astype(dtype)
        return result
    return feeds


def check_keras(ferry, entry, work, timeout):
    os.makedirs(work, exist_ok=True)
    h5 = os.path.join(KERAS, entry["files"]["h5"])
    ref = os.path.join(work, "ref.onnx")
    run([ferry, "convert", h5, ref, "--force"], timeout)
    return check(ferry, ref, h5, keras_feeds(entry), work, timeout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True, help="path to the ferry binary")
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"),
                    help="directory holding models/ (default: ../shared next to the repository)")
    ap.add_argument("--work", help="scratch directory (default: a temporary one, removed when all pass)")
    ap.add_argument("--only", help="run only the checks whose label contains this text")
    ap.add_argument("--timeout", type=float, default=900, help="seconds allowed per ferry command (default 900)")
    args = ap.parse_args()
    ferry = os.path.abspath(args.ferry)
    if not os.access(ferry, os.X_OK):
        print(f"error: {args.ferry}: no such executable", file=sys.stderr)
        return 1
    work = args.work or tempfile.mkdtemp(prefix="ferry-optimize-")

    jobs = []
    for path in sorted(glob.glob(os.path.join(LIGHT, "light_*.onnx"))):
        stem = os.path.basename(path)[:-len(".onnx")]
        feeds = lambda m, s=stem: shared_inputs(m, s)  # noqa: E731
        jobs.append((f"light/{stem}", lambda p=path, s=stem, f=feeds: check(ferry, p, p, f, os.path.join(work, s), args.timeout)))
        if stem in MATERIALISED:
            jobs.append((f"light+fold/{stem}", lambda p=path, s=stem, f=feeds: check(
                ferry, p, p, f, os.path.join(work, s + ".fold"), args.timeout, ("--fold-limit", str(1 << 30)))))
        if stem in RANDOMISED:
            def job(p=path, s=stem, f=feeds):
                folder = os.path.join(work, s + ".random")
                os.makedirs(folder, exist_ok=True)
                source = randomised(p, os.path.join(folder, "random.onnx"))
                return check(ferry, source, source, f, folder, args.timeout)
            jobs.append((f"light+random/{stem}", job))
    shared = os.path.join(args.shared, "models", SHARED_MODEL)
    if os.path.exists(shared):
        stem = SHARED_MODEL[:-len(".onnx")]
        jobs.append((f"shared/{stem}", lambda: check(ferry, shared, shared, lambda m: shared_inputs(m, stem),
                                                     os.path.join(work, "shared"), args.timeout)))
    else:
        print(f"shared model: skipped ({shared} does not exist)")
    for name, proto in op_models():
        def job(n=name, m=proto):
            folder = os.path.join(work, "op." + safe(n))
            os.makedirs(folder, exist_ok=True)
            source = os.path.join(folder, "model.onnx")
            onnx.save(m, source)
            return check(ferry, source, source, lambda mm: shared_inputs(mm, ""), folder, args.timeout)
        jobs.append((f"ops/{name}", job))
    with open(os.path.join(KERAS, "manifest.json"), encoding="utf-8") as f:
        for entry in json.load(f):
            if "h5" in entry["files"]:
                jobs.append((f"keras/{entry['name']}", lambda e=entry: check_keras(
                    ferry, e, os.path.join(work, "keras." + safe(e["name"])), args.timeout)))

    jobs = [(label, fn) for label, fn in jobs if not args.only or args.only in label]
    checks = Checks(width=max((len(label) for label, _ in jobs), default=10))
    for label, fn in jobs:
        checks.run(label, fn)
    return checks.finish(work, keep_work=bool(args.work))


if __name__ == "__main__":
    sys.exit(main())
