#!/usr/bin/env python3
"""Checks Ferry's Keras and HDF5/safetensors conversions against the real tools.

    interop_keras.py --ferry PATH_TO_FERRY [--work DIR]

For every model in Fixtures/keras/manifest.json (made by tools/make_keras_fixtures.py with Keras
itself) and each full-model form (.h5 from tf.keras, .keras from Keras 3):
  convert        `ferry convert MODEL OUT.onnx` succeeds
  checker        onnx.checker.check_model(full_check=True) passes on OUT
  outputs        onnxruntime on the fixture's inputs matches Keras's own outputs within 1e-5
                 (relative to each output's largest magnitude)
  layout         no Transpose feeds another Transpose (layouts never bounce between layers)
And back (`ferry convert OUT.onnx BACK.h5`): the models in EXPORT_REQUIRED must be written and
load in tf.keras and in Keras 3 with Keras's original outputs (within 1e-5); every other model
must be refused with one line naming the ops that map onto no layer. The two large document
models (Embedding(10000,256)->LSTM(32)->Dense(10000) and MobileNetV2), built here by
tools/make_keras_fixtures.py, make the same trip h5 -> onnx -> h5.
For the weights-only forms: `ferry convert` to .safetensors, to .h5 and to .onnx, each read back
with the `safetensors` package, h5py and onnx: names and bytes identical to what h5py reads from
the original. For Fixtures/keras/bad: `ferry inspect` refuses each (exit 1, one stderr line
naming the file), except the plain tensor tree, which is read as tensors. 200 randomly damaged
copies of the .h5 fixtures (fixed seed) are each read or refused in one line, never a crash.
Models built at check time by tools/keras_live.py (shared and nested sub-models; hard sigmoid and
hard swish, tanh GELU, LayerNormalization over several axes and TimeDistributed convolutions,
which Ferry writes back as compositions of layers both Kerases define alike; tensor arithmetic;
sequence and Permute models for the layout rules) make the same trips, in every dialect, against
the outputs of the Keras that built them, with at most one Transpose per graph input and output,
two per recurrent layer and one per Permute or Reshape layer.
Prints one line per check and, last, `N passed, M failed`; exits 1 on a failure.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from safetensors.numpy import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks, Failure, check_damaged, ort_session  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Models whose ONNX form Ferry writes back as Keras .h5 (a regression guard; the others are refused).
EXPORT_REQUIRED = {"time_distributed", "act_hard_sigmoid", "gelu_approximate", "normalization", "activations", "conv1d", "conv2d", "conv3d", "conv_transpose", "dense_compiled", "dense_small",
                   "depthwise_separable", "embedding_rnn", "gru", "lstm", "lstm_stack", "mnist_cnn", "mnist_mlp", "multi_io",
                   "nested", "padding_resize", "pool1d", "pool2d", "reshaping", "shared", "bidirectional", "bidirectional_gru", "relu_family", "merge"}
FIXTURES = os.path.join(ROOT, "Fixtures", "keras")
TOLERANCE = 1e-5
ort.set_default_logger_severity(3)


def ferry(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=300)


def convert(binary, src, dst, *extra):
    r = ferry(binary, "convert", src, dst, "--force", *extra)
    if r.returncode != 0:
        raise Failure(f"ferry convert exited {r.returncode}: {r.stderr.strip()[:300]}")


def check_model(binary, entry, form, work):
    src = os.path.join(FIXTURES, entry["files"][form])
    out = os.path.join(work, f"{entry['name']}.{form}.onnx")
    convert(binary, src, out)
    model = onnx.load(out)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # noqa: BLE001
        raise Failure(f"checker: {str(e).splitlines()[0][:200]}") from None
    producers = {o: n for n in model.graph.node for o in n.output}
    for n in model.graph.node:
        if n.op_type == "Transpose" and any(producers.get(i) is not None and producers[i].op_type == "Transpose" for i in n.input):
            raise Failure(f"layout: Transpose {n.name} follows another Transpose")
    transposes = sum(n.op_type == "Transpose" for n in model.graph.node)

    expected = entry["outputs"]
    if form == "keras" and entry.get("keras3_outputs"):
        expected = entry["keras3_outputs"]
    sess = ort_session(out)
    feeds = {}
    for i, spec in zip(sess.get_inputs(), entry["inputs"]):
        x = np.load(os.path.join(FIXTURES, spec["file"]))
        want = {"tensor(float)": np.float32, "tensor(int32)": np.int32, "tensor(int64)": np.int64}.get(i.type, np.float32)
        feeds[i.name] = x.astype(want)
    got = sess.run(None, feeds)
    if len(got) != len(expected):
        raise Failure(f"{len(got)} outputs, Keras has {len(expected)}")
    worst = 0.0
    for g, e in zip(got, expected):
        ref = np.load(os.path.join(FIXTURES, e["file"]))
        if g.shape != ref.shape:
            raise Failure(f"output shape {g.shape}, Keras gives {ref.shape}")
        err = float(np.max(np.abs(g.astype(np.float64) - ref)) / max(float(np.max(np.abs(ref))), 1e-12)) if ref.size else 0.0
        worst = max(worst, err)
    if worst > TOLERANCE:
        raise Failure(f"outputs differ from Keras: relative error {worst:.2e} > {TOLERANCE}")
    return [f"outputs within {worst:.1e}", f"{len(model.graph.node)} nodes", f"{transposes} transposes"]


def keras_modules():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import keras
    import tf_keras
    return {"tf.keras": tf_keras, "keras 3": keras}


def predict_all(path, inputs):
    """Outputs of the .h5 at `path` in tf.keras and in Keras 3."""
    results = {}
    for label, k in keras_modules().items():
        m = k.models.load_model(path, compile=False)
        out = m.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        results[label] = out if isinstance(out, list) else [out]
    return results


def relative_error(got, ref):
    return max(float(np.max(np.abs(np.asarray(g, np.float64) - r)) / max(float(np.max(np.abs(r))), 1e-12)) for g, r in zip(got, ref))


def check_export(binary, entry, work):
    name = entry["name"]
    onnx_path = os.path.join(work, f"{name}.export.onnx")
    back = os.path.join(work, f"{name}.back.h5")
    convert(binary, os.path.join(FIXTURES, entry["files"]["h5"]), onnx_path)
    r = ferry(binary, "convert", onnx_path, back, "--force")
    if name not in EXPORT_REQUIRED:
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        if r.returncode == 0:
            raise Failure("written although it is not in EXPORT_REQUIRED: add it there")
        if r.returncode != 1 or len(lines) != 1 or "cannot write as Keras" not in lines[0]:
            raise Failure(f"refusal is not one clear line (exit {r.returncode}): {r.stderr.strip()[:200]}")
        return ["refused: " + lines[0].split("cannot write as Keras: ", 1)[-1][:80]]
    if r.returncode != 0:
        raise Failure(f"ferry convert to .h5 exited {r.returncode}: {r.stderr.strip()[:300]}")
    inputs = [np.load(os.path.join(FIXTURES, i["file"])) for i in entry["inputs"]]
    refs = [np.load(os.path.join(FIXTURES, o["file"])) for o in entry["outputs"]]
    details = []
    for label, got in predict_all(back, inputs).items():
        err = relative_error(got, refs)
        if err > TOLERANCE:
            raise Failure(f"{label} loads the written .h5 but its outputs differ: {err:.2e}")
        details.append(f"{label} within {err:.1e}")
    return details


def check_big(binary, work):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_keras_fixtures import build_big_models  # noqa: E402
    details = []
    for name, model in build_big_models().items():
        src = os.path.join(work, name + ".h5")
        model.save(src, save_format="h5")
        shape = [2] + [d for d in model.input_shape[1:]]
        rs = np.random.RandomState(0)
        x = rs.randint(0, 10000, shape).astype(np.float32) if "embedding" in name else rs.uniform(-1, 1, shape).astype(np.float32)
        ref = model.predict(x, verbose=0)
        convert(binary, src, os.path.join(work, name + ".onnx"))
        sess = ort_session(os.path.join(work, name + ".onnx"))
        declared = {"tensor(int32)": np.int32, "tensor(int64)": np.int64}.get(sess.get_inputs()[0].type, np.float32)
        got = sess.run(None, {sess.get_inputs()[0].name: x.astype(declared)})
        err = relative_error(got, [ref])
        if err > TOLERANCE:
            raise Failure(f"{name}: onnxruntime differs from Keras: {err:.2e}")
        convert(binary, os.path.join(work, name + ".onnx"), os.path.join(work, name + ".back.h5"))
        for label, back in predict_all(os.path.join(work, name + ".back.h5"), [x]).items():
            err2 = relative_error(back, [ref])
            if err2 > TOLERANCE:
                raise Failure(f"{name}: {label} on the written .h5 differs from Keras: {err2:.2e}")
        details.append(f"{name} onnx within {err:.1e}, back in both Keras")
    return details


def check_damaged_h5(binary, work):
    """200 damaged copies of the .h5 fixtures through `ferry inspect`."""
    seeds = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(FIXTURES, "*.h5")))[:12]]
    return check_damaged(binary, seeds, work, ".h5", count=200, argv_for=lambda i, case: ["inspect", case])


def h5_tensors(path):
    out = {}
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = np.asarray(obj[()])
    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return out


def same(a, b):
    if a.keys() != b.keys():
        return f"names differ: {sorted(set(a) ^ set(b))[:3]}"
    for k in a:
        x, y = np.asarray(a[k]), np.asarray(b[k])
        if x.shape != y.shape or x.dtype.newbyteorder("=") != y.dtype.newbyteorder("=") or x.astype(y.dtype).tobytes() != y.tobytes():
            return f"tensor {k} differs"
    return None


def check_weights(binary, entry, form, work):
    src = os.path.join(FIXTURES, entry["files"][form])
    want = h5_tensors(src)
    base = os.path.join(work, f"{entry['name']}.{form}")
    convert(binary, src, base + ".safetensors")
    problem = same(want, load_file(base + ".safetensors"))
    if problem:
        raise Failure(f"safetensors: {problem}")
    convert(binary, base + ".safetensors", base + ".h5", "--compress")
    problem = same(want, h5_tensors(base + ".h5"))
    if problem:
        raise Failure(f"h5 tree: {problem}")
    convert(binary, base + ".h5", base + ".onnx")
    onnx_tensors = {t.name: numpy_helper.to_array(t) for t in onnx.load(base + ".onnx").graph.initializer}
    problem = same(want, onnx_tensors)
    if problem:
        raise Failure(f"onnx initializers: {problem}")
    return [f"{len(want)} tensors bit-exact through safetensors, h5 (compressed), onnx"]


def check_bad(binary, case):
    path = os.path.join(FIXTURES, "bad", case["file"])
    r = ferry(binary, "inspect", path)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    if r.returncode < 0:
        raise Failure(f"killed by signal {-r.returncode}")
    if "valid tensor tree" in case.get("fault", ""):
        if r.returncode != 0:
            raise Failure(f"a plain tensor tree was refused: {r.stderr.strip()[:200]}")
        return ["read as a tensor tree"]
    if r.returncode != 1 or len(lines) != 1:
        raise Failure(f"exit {r.returncode} with {len(lines)} stderr lines (want 1 and 1): {r.stderr.strip()[:200]}")
    if case["file"] not in lines[0] or case.get("part", "") not in lines[0]:
        raise Failure(f"error does not name the file and '{case.get('part')}': {lines[0][:200]}")
    return ["refused: " + lines[0].split(": ", 2)[-1][:90]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--work")
    args = ap.parse_args()
    binary = os.path.abspath(args.ferry)
    work = args.work or tempfile.mkdtemp(prefix="ferry-keras-")
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(FIXTURES, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    with open(os.path.join(FIXTURES, "bad", "cases.json"), encoding="utf-8") as f:
        bad = json.load(f)

    checks = Checks()
    report = checks.run

    for entry in manifest:
        for form in ("h5", "keras"):
            if form in entry["files"]:
                report(f"{entry['name']}{'.h5' if form == 'h5' else '.keras'}", lambda: check_model(binary, entry, form, work))
        if "h5" in entry["files"]:
            report(f"{entry['name']} onnx -> .h5", lambda: check_export(binary, entry, work))
        for form in ("weights_legacy_h5", "weights_h5"):
            if form in entry["files"]:
                report(entry["files"][form], lambda: check_weights(binary, entry, form, work))
    for case in bad:
        report("bad/" + case["file"], lambda: check_bad(binary, case))
    report("damaged copies of the .h5 fixtures", lambda: check_damaged_h5(binary, work))
    report("large document models", lambda: check_big(binary, work))
    import keras_live  # noqa: E402 - loads TensorFlow, tf.keras and Keras 3
    for case in keras_live.SHARED_CASES + keras_live.EXPORT_CASES + keras_live.LAYOUT_CASES:
        for dialect in case.dialects:
            report(f"{case.name} ({dialect})", lambda: keras_live.check_case(lambda a, b: convert(binary, a, b), case, dialect, work))
    return checks.finish(work, keep_work=bool(args.work))


if __name__ == "__main__":
    sys.exit(main())
