#!/usr/bin/env python3
"""`ferry prune` against tools nobody here wrote: onnx, onnxruntime, h5py and tf.keras.

    interop_prune.py --ferry PATH_TO_FERRY [--shared DIR] [--work DIR] [--only TEXT] [--keep-work]

Models: the shared PaddleOCR classifier (DIR/models/ch_ppocr_mobile_v2.0_cls_infer.onnx; skipped
with a message when absent), the light SqueezeNet and ResNet-50 of the onnx package, and the Keras
fixture Fixtures/keras/mnist_cnn.h5. For each model:
  magnitude (layer and global scope, 50%): onnx.checker full_check and onnxruntime run the output;
      the zeros read back from the file are exactly 0.5 n (rounded half up) per pruned tensor (layer) and over
      all pruned tensors together (global); Ferry's reported multiply-adds are recounted here with
      the shapes of an onnxruntime run.
  sparse storage (80%): the --sparse-storage file is smaller than the dense one (models of IR 6 or
      later; older IR versions have no sparse initializers and stay dense, as ferry reports), passes
      onnx.checker (without full_check: onnx's shape inference types sparse initializers as sparse
      tensors, which Conv/MatMul do not take) and gives onnxruntime the same outputs as the dense one.
  channels (50%): the output passes full_check, onnxruntime runs it, parameters and multiply-adds
      shrink, and the recount of multiply-adds agrees with Ferry's report.
  Keras: channel pruning written back as .h5 loads with tf.keras load_model and predicts what
      onnxruntime computes from the same pruning written as .onnx; magnitude .h5 read with h5py has
      the exact zero counts, and --sparse-storage (deflate) makes it smaller.
Prints one line per check, a table of the figures, then `N passed, M failed`; exit 1 on a failure.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks, Failure, ort_session  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
SHARED = "ch_ppocr_mobile_v2.0_cls_infer.onnx"
# Inputs whose declared shapes leave sizes open: the shape the model is pruned and checked at.
INPUT_SHAPES = {SHARED: {"x": [1, 3, 48, 192]}}
ort.set_default_logger_severity(3)
ROWS = []


def nearest(x):
    """x rounded half away from zero, as ferry rounds the number of weights to remove."""
    return math.floor(x + 0.5)


def prune(ferry, src, dst, *args, shapes=None):
    """Runs `ferry prune`; returns its JSON report."""
    report = dst + ".json"
    argv = [ferry, "prune", src, dst, "--force", "--report", report, *args]
    for name, dims in (shapes or {}).items():
        argv += ["--shape", f"{name}={','.join(map(str, dims))}"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise Failure(f"ferry prune exited {p.returncode}: {(p.stderr or p.stdout).strip()[:300]}")
    with open(report) as f:
        return json.load(f)


def onnx_inputs(model, shapes):
    rs = np.random.RandomState(0)
    inits = {t.name for t in model.graph.initializer} | {t.values.name for t in model.graph.sparse_initializer}
    feeds = {}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        dims = shapes.get(vi.name) or [d.dim_value if d.dim_value > 0 else 1 for d in vi.type.tensor_type.shape.dim]
        feeds[vi.name] = rs.uniform(-1, 1, dims).astype(np.float32)
    return feeds


def ort_run(path, feeds):
    return ort_session(path).run(None, feeds)


def recount_macs(path, shapes):
    """Multiply-adds of Conv/ConvTranspose/Gemm/MatMul with every shape taken from an
    onnxruntime run (open sizes as given or 1): an independent count of what Ferry reports."""
    m = onnx.load(path)
    ops = [n for n in m.graph.node if n.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul")]
    weights = {t.name: list(t.dims) for t in m.graph.initializer}
    weights.update({t.values.name: list(t.dims) for t in m.graph.sparse_initializer})
    declared = {o.name for o in m.graph.output}
    wanted = [v for n in ops for v in (n.input[0], n.output[0]) if v not in weights]
    for v in dict.fromkeys(wanted):
        if v not in declared and v not in {i.name for i in m.graph.input}:
            m.graph.output.append(onnx.helper.make_tensor_value_info(v, onnx.TensorProto.FLOAT, None))
    sess = ort_session(m.SerializeToString())
    feeds = onnx_inputs(m, shapes)
    known = dict(weights)
    known.update({name: list(a.shape) for name, a in feeds.items()})
    known.update({o.name: list(a.shape) for o, a in zip(sess.get_outputs(), sess.run(None, feeds))})
    total = 0
    for n in ops:
        a, w, y = known[n.input[0]], known[n.input[1]], known[n.output[0]]
        if n.op_type == "Conv":
            total += math.prod(y) * math.prod(w[1:])
        elif n.op_type == "ConvTranspose":
            total += math.prod(a) * math.prod(w[1:])
        elif n.op_type == "Gemm":
            trans_a = next((at.i for at in n.attribute if at.name == "transA"), 0)
            total += math.prod(y) * (a[0] if trans_a else a[1])
        else:
            total += math.prod(y) * a[-1]
    return total


def check_valid(path, shapes, full=True):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=full)
    return ort_run(path, onnx_inputs(model, shapes))


def pruned_tensors(report):
    return [layer["weight"] for layer in report["layers"] if layer["pruned"]]


def check_magnitude(ferry, src, work, stem, shapes, scope):
    out = os.path.join(work, f"{stem}.magnitude.{scope}.onnx")
    report = prune(ferry, src, out, "--sparsity", "0.5", "--scope", scope, shapes=shapes)
    check_valid(out, shapes)
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(out).graph.initializer}
    names = pruned_tensors(report)
    if not names:
        raise Failure("nothing was pruned")
    sizes = [inits[n].size for n in names]
    zeros = [int(np.count_nonzero(inits[n] == 0)) for n in names]
    if scope == "layer":
        bad = [(n, z, s) for n, z, s in zip(names, zeros, sizes) if z != nearest(0.5 * s)]
        if bad:
            raise Failure(f"{len(bad)} tensors without exactly half zeros, e.g. {bad[0]}")
    elif sum(zeros) != nearest(0.5 * sum(sizes)):
        raise Failure(f"{sum(zeros)} zeros over {sum(sizes)} pruned weights, expected {nearest(0.5 * sum(sizes))}")
    macs = recount_macs(out, shapes)
    if macs != report["after"]["multiply_adds"]:
        raise Failure(f"ferry reports {report['after']['multiply_adds']} multiply-adds, the recount from onnxruntime's shapes gives {macs}")
    row(stem, f"magnitude {scope} 50%", report)
    return [f"{len(names)} tensors, {sum(zeros)}/{sum(sizes)} zeros", f"{report['file_bytes_after']} bytes"]


def check_sparse(ferry, src, work, stem, shapes):
    dense, sparse = os.path.join(work, f"{stem}.m80.onnx"), os.path.join(work, f"{stem}.m80.sparse.onnx")
    prune(ferry, src, dense, "--sparsity", "0.8", shapes=shapes)
    report = prune(ferry, src, sparse, "--sparsity", "0.8", "--sparse-storage", shapes=shapes)
    a, b = os.path.getsize(dense), os.path.getsize(sparse)
    ir = onnx.load(src, load_external_data=False).ir_version
    if ir < 6:
        # No sparse_initializer before IR 6: ferry keeps the weights dense and says so.
        if a != b or not any("has no sparse initializers" in n for n in report["notes"]):
            raise Failure(f"IR {ir} model: expected the same dense file and a note, got {a} -> {b} bytes, notes {report['notes']}")
        return [f"IR {ir}: no sparse initializers before IR 6, stored dense as reported"]
    if not b < a:
        raise Failure(f"--sparse-storage file has {b} bytes, the dense one {a}")
    stored = len(onnx.load(sparse).graph.sparse_initializer)
    want, got = check_valid(dense, shapes), check_valid(sparse, shapes, full=False)
    diff = max(float(np.max(np.abs(x - y))) for x, y in zip(want, got))
    if diff > 1e-6:
        raise Failure(f"onnxruntime outputs differ by {diff:g} between dense and sparse storage")
    row(stem, "magnitude 80% sparse", report)
    return [f"{stored} sparse initializers", f"{a} -> {b} bytes", "ort same outputs"]


def check_channels(ferry, src, work, stem, shapes, extra=()):
    out = os.path.join(work, f"{stem}.channels.onnx")
    report = prune(ferry, src, out, "--method", "channels", "--sparsity", "0.5", *extra, shapes=shapes)
    check_valid(out, shapes)
    before, after = report["before"], report["after"]
    if not (after["parameters"] < before["parameters"] and after["multiply_adds"] < before["multiply_adds"]):
        raise Failure(f"parameters {before['parameters']} -> {after['parameters']}, multiply-adds {before['multiply_adds']} -> {after['multiply_adds']}")
    macs = recount_macs(out, shapes)
    if macs != after["multiply_adds"]:
        raise Failure(f"ferry reports {after['multiply_adds']} multiply-adds, the recount from onnxruntime's shapes gives {macs}")
    row(stem, "channels 50%" + (" " + " ".join(extra) if extra else ""), report)
    kept = [layer for layer in report["layers"] if layer.get("channels_kept") is not None and layer["channels_kept"] < layer["channels_before"]]
    groups = [g for g in report["groups"] if g["pruned"]]
    return [f"{len(kept)} layers lost channels", f"{len(groups)}/{len(report['groups'])} joined groups pruned"]


def check_keras_channels(ferry, work):
    import tf_keras as keras  # noqa: PLC0415 - TensorFlow is slow to import; only this check needs it
    src = os.path.join(ROOT, "Fixtures", "keras", "mnist_cnn.h5")
    h5, onnx_out = os.path.join(work, "mnist_cnn.channels.h5"), os.path.join(work, "mnist_cnn.channels.onnx")
    report = prune(ferry, src, h5, "--method", "channels", "--sparsity", "0.5")
    prune(ferry, src, onnx_out, "--method", "channels", "--sparsity", "0.5")
    model = keras.models.load_model(h5, compile=False)
    x = np.load(os.path.join(ROOT, "Fixtures", "keras", "mnist_cnn.input_0.npy"))
    got = model.predict(x, verbose=0)
    sess = ort_session(onnx_out)
    want = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    diff = float(np.max(np.abs(got - want)))
    if diff > 1e-4:
        raise Failure(f"tf.keras and onnxruntime differ by {diff:g} on the pruned model")
    if model.count_params() != report["after"]["parameters"]:
        raise Failure(f"tf.keras counts {model.count_params()} parameters, ferry {report['after']['parameters']}")
    row("mnist_cnn.h5", "channels 50% -> .h5", report)
    return [f"{model.count_params()} parameters in tf.keras", f"max diff vs ort {diff:.2g}"]


def check_keras_magnitude(ferry, work):
    import h5py  # noqa: PLC0415
    src = os.path.join(ROOT, "Fixtures", "keras", "mnist_cnn.h5")
    plain, deflated = os.path.join(work, "mnist_cnn.m50.h5"), os.path.join(work, "mnist_cnn.m50.deflate.h5")
    prune(ferry, src, plain, "--sparsity", "0.5")
    report = prune(ferry, src, deflated, "--sparsity", "0.5", "--sparse-storage")
    counts = []
    with h5py.File(deflated, "r") as f:
        kernels = []
        f["model_weights"].visititems(lambda name, obj: kernels.append(np.array(obj)) if name.endswith("kernel:0") else None)
    for k in kernels:
        if k.size >= 1024:
            counts.append((int(np.count_nonzero(k == 0)), k.size))
    bad = [c for c in counts if c[0] != nearest(0.5 * c[1])]
    if not counts or bad:
        raise Failure(f"kernels without exactly half zeros: {bad or 'none pruned'}")
    a, b = os.path.getsize(plain), os.path.getsize(deflated)
    if not b < a:
        raise Failure(f"deflated file has {b} bytes, the plain one {a}")
    row("mnist_cnn.h5", "magnitude 50% deflate", report)
    return [f"{len(counts)} kernels half zero", f"{a} -> {b} bytes"]


def row(model, what, report):
    b, a = report["before"], report["after"]
    ROWS.append((model, what, f"{b['parameters']:,} -> {a['parameters']:,}", f"{b['nonzero_parameters']:,} -> {a['nonzero_parameters']:,}",
                 f"{b.get('multiply_adds') or 0:,} -> {a.get('multiply_adds') or 0:,}",
                 f"{report['file_bytes_before']:,} -> {report['file_bytes_after']:,}"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ferry", default=os.path.join(ROOT, ".build", "debug", "ferry"))
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"),
                    help="directory holding models/ (default: ../shared next to the repository)")
    ap.add_argument("--work")
    ap.add_argument("--only", help="run only models whose name contains this text")
    ap.add_argument("--keep-work", action="store_true")
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="interop_prune_")
    os.makedirs(work, exist_ok=True)
    checks = Checks(width=44)
    models = []
    shared = os.path.join(args.shared, "models", SHARED)
    if os.path.exists(shared):
        models.append(("ppocr_cls", shared, INPUT_SHAPES[SHARED]))
    else:
        print(f"skip {shared}: not present")
    models += [(name, os.path.join(LIGHT, f"light_{name}.onnx"), {}) for name in ("squeezenet", "resnet50")]
    for stem, path, shapes in models:
        if args.only and args.only not in stem:
            continue
        for scope in ("layer", "global"):
            checks.run(f"{stem} magnitude {scope}", lambda: check_magnitude(args.ferry, path, work, stem, shapes, scope))
        checks.run(f"{stem} sparse storage", lambda: check_sparse(args.ferry, path, work, stem, shapes))
        checks.run(f"{stem} channels", lambda: check_channels(args.ferry, path, work, stem, shapes))
        if stem == "ppocr_cls":
            checks.run(f"{stem} channels --min-elements 0", lambda: check_channels(args.ferry, path, work, stem + ".all", shapes, ("--min-elements", "0")))
    if not args.only or args.only in "mnist_cnn":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
        checks.run("mnist_cnn.h5 channels -> .h5 (tf.keras)", lambda: check_keras_channels(args.ferry, work))
        checks.run("mnist_cnn.h5 magnitude -> .h5 (h5py)", lambda: check_keras_magnitude(args.ferry, work))
    if ROWS:
        head = ("model", "pruning", "parameters", "nonzero", "multiply-adds", "file bytes")
        widths = [max(len(str(r[i])) for r in ROWS + [head]) for i in range(len(head))]
        for r in [head] + ROWS:
            print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    sys.exit(checks.finish(work, args.keep_work))


if __name__ == "__main__":
    main()
