#!/usr/bin/env python3
"""Runs real models through `ferry run` and compares with outputs nobody here computed.

    check_models.py --ferry PATH_TO_FERRY [--shared DIR] [--work DIR] [--only TEXT] [--timeout S]

  light    the ONNX "light" model zoo shipped in the onnx package (onnx/backend/test/data/light):
           each model on the input the onnx test runner makes (Runner.generate_dummy_data, seed 0,
           random=False) against its light_NAME_output_0.pb. Those weights are constant fills, so
           the final outputs are nearly uniform; `probes` therefore also runs each model with three
           inner tensors and the last node's input added as outputs, against onnxruntime.
  shared   DIR/models/*.onnx on a fixed-seed random input in the model's declared range, against
           onnxruntime on the same input.
  keras    every Fixtures/keras/manifest.json model: `ferry convert NAME.h5 NAME.onnx`, then
           `ferry run` on Keras's inputs against Keras's outputs.
Tolerance: |ferry - reference| <= atol + rtol * |reference| elementwise (NaNs equal), rtol 1e-3,
atol 1e-4 unless the Keras manifest entry gives `rtol`/`atol`. One line per model (max abs diff and
seconds), then `N passed, M failed`; exit 1 on a failure.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks, Failure, ort_run  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERAS = os.path.join(ROOT, "Fixtures", "keras")
LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
RTOL, ATOL = 1e-3, 1e-4
# Inputs of the shared models whose declared shapes leave dims open: name -> (shape, low, high).
SHARED_INPUTS = {"ch_ppocr_mobile_v2.0_cls_infer": {"x": ((1, 3, 48, 192), -1.0, 1.0)}}
NOT_PROBED = {"Constant", "ConstantOfShape", "Shape", "Unsqueeze", "Squeeze", "Reshape", "Identity", "Dropout", "Flatten"}
ort.set_default_logger_severity(3)


def graph_inputs(model):
    inits = {t.name for t in model.graph.initializer}
    return [vi for vi in model.graph.input if vi.name not in inits]


def light_inputs(model):
    """The inputs the onnx backend test runner feeds a light model (and computed its outputs from)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from onnx.backend.test.runner import Runner
    return {vi.name: Runner.generate_dummy_data(vi, seed=0, random=False) for vi in graph_inputs(model)}


def shared_inputs(model, stem):
    """Fixed-seed uniform inputs: the declared range for known models, else [-1, 1]; open dims 1."""
    rs, known = np.random.RandomState(0), SHARED_INPUTS.get(stem, {})
    feeds = {}
    for vi in graph_inputs(model):
        tt = vi.type.tensor_type
        dtype = helper.tensor_dtype_to_np_dtype(tt.elem_type)
        declared = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in tt.shape.dim]
        shape, low, high = known.get(vi.name, (declared, -1.0, 1.0))
        if dtype == np.bool_:
            feeds[vi.name] = rs.random_sample(shape) < 0.5
        elif np.issubdtype(dtype, np.floating):
            feeds[vi.name] = rs.uniform(low, high, shape).astype(dtype)
        else:
            feeds[vi.name] = rs.randint(0, 3, shape).astype(dtype)
    return feeds


def save_inputs(feeds, folder):
    """Writes each input as folder/input_K.npy; returns `--input NAME=FILE` arguments."""
    os.makedirs(folder, exist_ok=True)
    args = []
    for k, (name, value) in enumerate(feeds.items()):
        path = os.path.join(folder, f"input_{k}.npy")
        np.save(path, value)
        args += ["--input", f"{name}={path}"]
    return args


def first_line(text):
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[0][:300] if lines else "(nothing printed)"


def ferry_run(ferry, model, feeds, work, timeout):
    """`ferry run MODEL --input ... --output-dir work/out --json`: {output name: array}."""
    out_dir = os.path.join(work, "out")
    argv = [ferry, "run", model, *save_inputs(feeds, work), "--output-dir", out_dir, "--force", "--json"]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure(f"ferry run timed out after {timeout} s") from None
    if p.returncode != 0:
        raise Failure(f"ferry run exited {p.returncode}: {first_line(p.stderr)}")
    try:
        report = json.loads(p.stdout)
    except ValueError:
        raise Failure(f"ferry run --json printed no JSON object: {first_line(p.stdout)}") from None
    got = {}
    for o in report["outputs"]:
        path = o["file"] if os.path.isabs(o["file"]) or os.path.exists(o["file"]) else os.path.join(out_dir, o["file"])
        got[o["name"]] = np.load(path)
        if list(o["shape"]) != list(got[o["name"]].shape):
            raise Failure(f"--json says output {o['name']!r} has shape {o['shape']}, its file {list(got[o['name']].shape)}")
    return got


def compare(got, want, rtol, atol):
    """Checks ferry's outputs against [(name, reference array)]; returns the largest abs difference
    and the largest fraction of the allowed difference used."""
    worst = used = 0.0
    for name, ref in want:
        if name not in got:
            raise Failure(f"no output {name!r} (ferry wrote {sorted(got)})")
        g = got[name]
        if g.shape != ref.shape or g.dtype != ref.dtype:
            raise Failure(f"output {name!r} is {g.dtype}{list(g.shape)}, expected {ref.dtype}{list(ref.shape)}")
        if ref.size == 0:
            continue
        g64, r64 = g.astype(np.float64), ref.astype(np.float64)
        with np.errstate(invalid="ignore"):
            diff = np.where((g64 == r64) | (np.isnan(g64) & np.isnan(r64)), 0.0, np.abs(g64 - r64))
            bad = ~(diff <= atol + rtol * np.abs(r64))
        largest = float(np.max(diff))  # NaN when one side alone is NaN
        if bad.any():
            i = np.unravel_index(int(np.argmax(bad)), bad.shape)
            raise Failure(f"output {name!r}: max abs diff {largest:.3g} > atol {atol:g} + rtol {rtol:g}*|ref| "
                          f"(first at {list(map(int, i))}: {float(g[i]):.7g}, expected {float(ref[i]):.7g})")
        worst, used = max(worst, largest), max(used, float(np.max(diff / (atol + rtol * np.abs(r64)))))
    return worst, used


def ort_outputs(model_bytes, feeds):
    return ort_run(model_bytes, feeds, optimization="basic")


def with_probes(model):
    """A copy of `model` that also outputs the tensors at 1/4, 1/2 and 3/4 of the compute nodes and
    the last node's first input."""
    nodes = [n for n in model.graph.node if n.op_type not in NOT_PROBED and n.output]
    names = [nodes[len(nodes) * k // 4].output[0] for k in (1, 2, 3)] + [model.graph.node[-1].input[0]]
    inferred = {vi.name: vi for vi in onnx.shape_inference.infer_shapes(model).graph.value_info}
    probed = onnx.ModelProto()
    probed.CopyFrom(model)
    have = {o.name for o in probed.graph.output} | {vi.name for vi in graph_inputs(model)}
    for name in dict.fromkeys(names):
        if name not in have:
            probed.graph.output.append(inferred.get(name) or helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    return probed


def timed(fn):
    """Runs a check returning (largest difference, fraction of tolerance used): both, and the seconds, are its details."""
    def run():
        start = time.perf_counter()
        try:
            diff, used = fn()
        except Failure as e:
            raise Failure(f"{e} [{time.perf_counter() - start:.1f} s]") from None
        return [f"max abs diff {diff:.2e}", f"tolerance used {used:.2g}", f"{time.perf_counter() - start:.1f} s"]
    return run


def check_light(ferry, path, work, timeout):
    model = onnx.load(path)
    ref = numpy_helper.to_array(onnx.load_tensor(path[:-len(".onnx")] + "_output_0.pb"))
    return compare(ferry_run(ferry, path, light_inputs(model), work, timeout), [(model.graph.output[0].name, ref)], RTOL, ATOL)


def check_against_ort(ferry, model, feeds, work, timeout, path=None):
    """`model` (a ModelProto, read by ferry from `path`, else from a saved copy) in ferry and in
    onnxruntime on the same inputs."""
    os.makedirs(work, exist_ok=True)
    if path is None:
        path = os.path.join(work, "model.onnx")
        onnx.save(model, path)
    want = ort_outputs(model.SerializeToString(), feeds)
    return compare(ferry_run(ferry, path, feeds, work, timeout), want, RTOL, ATOL)


def check_keras(ferry, entry, work, timeout):
    os.makedirs(work, exist_ok=True)
    out = os.path.join(work, entry["name"] + ".onnx")
    p = subprocess.run([ferry, "convert", os.path.join(KERAS, entry["files"]["h5"]), out, "--force"],
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise Failure(f"ferry convert exited {p.returncode}: {first_line(p.stderr)}")
    model = onnx.load(out)
    feeds = {}
    for vi, spec in zip(graph_inputs(model), entry["inputs"]):
        feeds[vi.name] = np.load(os.path.join(KERAS, spec["file"])).astype(helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type))
    if len(model.graph.output) != len(entry["outputs"]):
        raise Failure(f"converted model has {len(model.graph.output)} outputs, Keras {len(entry['outputs'])}")
    want = [(o.name, np.load(os.path.join(KERAS, e["file"]))) for o, e in zip(model.graph.output, entry["outputs"])]
    return compare(ferry_run(ferry, out, feeds, work, timeout), want, entry.get("rtol", RTOL), entry.get("atol", ATOL))


def safe(label):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", label)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True, help="path to the ferry binary")
    ap.add_argument("--shared", help="directory holding models/*.onnx")
    ap.add_argument("--work", help="scratch directory (default: a temporary one, removed when all pass)")
    ap.add_argument("--only", help="run only the checks whose label contains this text")
    ap.add_argument("--timeout", type=float, default=900, help="seconds allowed per ferry command (default 900)")
    args = ap.parse_args()
    ferry = os.path.abspath(args.ferry)
    if not os.access(ferry, os.X_OK):
        print(f"error: {args.ferry}: no such executable", file=sys.stderr)
        return 1
    work = args.work or tempfile.mkdtemp(prefix="ferry-models-")

    jobs = []  # (label, check returning what compare() returns)
    for path in sorted(glob.glob(os.path.join(LIGHT, "light_*.onnx"))):
        name = os.path.basename(path)[:-len(".onnx")]
        jobs.append((f"light/{name}", lambda p=path, w=name: check_light(ferry, p, os.path.join(work, w), args.timeout)))
        jobs.append((f"light/{name} probes", lambda p=path, w=name + ".probes": check_against_ort(
            ferry, with_probes(onnx.load(p)), light_inputs(onnx.load(p)), os.path.join(work, w), args.timeout)))
    shared = sorted(glob.glob(os.path.join(args.shared, "models", "*.onnx"))) if args.shared else []
    if not shared:
        print("shared models: skipped (no --shared DIR with models/*.onnx)")
    for path in shared:
        stem = os.path.basename(path)[:-len(".onnx")]
        jobs.append((f"shared/{stem}", lambda p=path, s=stem: check_against_ort(
            ferry, onnx.load(p), shared_inputs(onnx.load(p), s), os.path.join(work, "shared." + safe(s)), args.timeout, p)))
    with open(os.path.join(KERAS, "manifest.json"), encoding="utf-8") as f:
        for entry in json.load(f):
            jobs.append((f"keras/{entry['name']}", lambda e=entry: check_keras(ferry, e, os.path.join(work, "keras." + e["name"]), args.timeout)))

    jobs = [(label, fn) for label, fn in jobs if not args.only or args.only in label]
    checks = Checks(width=max((len(label) for label, _ in jobs), default=10))
    for label, fn in jobs:
        checks.run(label, timed(fn))
    return checks.finish(work, keep_work=bool(args.work))


if __name__ == "__main__":
    sys.exit(main())
