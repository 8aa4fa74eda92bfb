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
For the weights-only forms: `ferry convert` to .safetensors, to .h5 and to .onnx, each read back
with the `safetensors` package, h5py and onnx: names and bytes identical to what h5py reads from
the original. For Fixtures/keras/bad: `ferry inspect` refuses each (exit 1, one stderr line
naming the file), except the plain tensor tree, which is read as tensors.
Prints one line per check and, last, `N passed, M failed`; exits 1 on a failure.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from safetensors.numpy import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Fixtures", "keras")
TOLERANCE = 1e-5
ort.set_default_logger_severity(3)


class Failure(Exception):
    pass


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
    sess = ort.InferenceSession(out)
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

    passed = failed = 0

    def report(label, fn):
        nonlocal passed, failed
        try:
            details = fn()
        except Failure as e:
            print(f"FAIL {label}: {e}", flush=True)
            failed += 1
        except Exception as e:  # noqa: BLE001
            print(f"FAIL {label}: {type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}", flush=True)
            failed += 1
        else:
            print(f"ok   {label:<42} ({', '.join(details)})", flush=True)
            passed += 1

    for entry in manifest:
        for form in ("h5", "keras"):
            if form in entry["files"]:
                report(f"{entry['name']}{'.h5' if form == 'h5' else '.keras'}", lambda: check_model(binary, entry, form, work))
        for form in ("weights_legacy_h5", "weights_h5"):
            if form in entry["files"]:
                report(entry["files"][form], lambda: check_weights(binary, entry, form, work))
    for case in bad:
        report("bad/" + case["file"], lambda: check_bad(binary, case))
    if not args.work:
        if failed:
            print(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
