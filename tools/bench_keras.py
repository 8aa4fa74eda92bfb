#!/usr/bin/env python3
"""Benchmark Keras .h5 -> ONNX conversion: Ferry against tf2onnx, side by side.

    bench_keras.py --ferry PATH [--runs N] [--tf2onnx-runs N] [--work DIR]
                   [--markdown FILE]

Builds once (fixed seed, cached in the work dir, default .build/bench-keras/) a
tf_keras model with >= 100 MB of float32 weights, shaped like a real image
classifier: a VGG-style Conv2D + BatchNormalization + ReLU + MaxPooling2D stack
on 32x32x3 inputs, then Flatten -> Dense(4096) -> Dropout -> Dense(4096) ->
Dropout -> Dense(1000, softmax).  Every variable (kernels, biases, BN gammas,
betas and moving statistics) gets seeded random values.  The model is saved with
model.save(path, save_format="h5") (legacy full-model HDF5).

Then, each after one warm-up run (warm page cache), each run a fresh process:

  ferry convert MODEL.h5 OUT.onnx        whole-process wall time (start-up included);
                                         OUT deleted before every run, outside the timing
  python: import tensorflow, tf_keras, tf2onnx; tf_keras.models.load_model(MODEL.h5);
          tf2onnx.convert.from_keras(model, opset=17, output_path=OUT)
                                         total = whole-process wall time (what a user waits
                                         for); import, load_model and from_keras are also
                                         timed inside the process

Reports median and min wall time, throughput (weight bytes / median, 1 GB = 1e9 B),
peak RSS (largest ru_maxrss from wait4 over the runs; each measured process is
started from a small launcher process, because Linux carries the parent's RSS
high-water mark into a forked child) and Ferry's speedup over tf2onnx.

Checks what was timed: the ONNX files written by the last timed run of each
converter run in onnxruntime on one seeded random input and must match
tf_keras's predict() on the saved .h5 within 1e-5 relative to the largest output
magnitude; the Transpose nodes in each are counted.  Exit 1 if a check fails.
This is a benchmark, not a test: it does not judge the figures against targets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchutil import command_line, git_rev, machine, shown  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_VERSION = 1
SEED = 20240617
OPSET = 17
TOLERANCE = 1e-5
CHECK_BATCH = 4

CHILD_ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")

# Started as `python -S -c LAUNCHER argv...`: runs argv, waits for it with wait4 and prints
# its wall time, peak RSS, exit code and output as JSON.  Kept tiny so that its own RSS
# high-water mark, which the child inherits, stays far below anything measured.
LAUNCHER = r"""
import json, os, subprocess, sys, tempfile, time
with tempfile.TemporaryFile() as err:
    t0 = time.perf_counter()
    p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=err)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err.seek(0)
    msg = err.read()
sys.stdout.write(json.dumps({"wall": wall, "maxrss_kib": ru.ru_maxrss,
                             "rc": os.waitstatus_to_exitcode(status),
                             "stdout": out.decode(errors="replace"),
                             "stderr": msg.decode(errors="replace")[-4000:]}))
"""

# The tf2onnx conversion a user runs: `python -c TF2ONNX_RUN MODEL.h5 OUT.onnx OPSET`.
TF2ONNX_RUN = r"""
import time
t0 = time.perf_counter()
import json, os, sys, warnings
warnings.filterwarnings("ignore")
import tensorflow as tf
import tf_keras
import tf2onnx
tf.get_logger().setLevel("ERROR")
t1 = time.perf_counter()
model = tf_keras.models.load_model(sys.argv[1], compile=False)
t2 = time.perf_counter()
tf2onnx.convert.from_keras(model, opset=int(sys.argv[3]), output_path=sys.argv[2])
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "convert": t3 - t2}))
"""

# ---------------------------------------------------------------- helpers run in a child
# The model is built, and outputs are checked, in child processes (`--_build`, `--_check`)
# so that this process never imports TensorFlow and stays small and quiet while it times.


def _quiet_tf():
    os.environ.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    import warnings
    warnings.filterwarnings("ignore")
    import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    try:
        import absl.logging
        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:
        pass


def _build(path: str) -> None:
    """Writes the benchmark model to `path` (legacy full-model HDF5)."""
    _quiet_tf()
    import numpy as np
    import tf_keras
    from tf_keras import layers

    tf_keras.utils.set_random_seed(SEED)
    x = inp = layers.Input((32, 32, 3), name="image")
    for block, filters in enumerate((64, 128, 256), start=1):
        for i in (1, 2):
            x = layers.Conv2D(filters, 3, padding="same", name=f"block{block}_conv{i}")(x)
            x = layers.BatchNormalization(name=f"block{block}_bn{i}")(x)
            x = layers.Activation("relu", name=f"block{block}_relu{i}")(x)
        x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)                     # 4 x 4 x 256 = 4096
    x = layers.Dense(4096, activation="relu", name="fc1")(x)
    x = layers.Dropout(0.5, name="drop1")(x)
    x = layers.Dense(4096, activation="relu", name="fc2")(x)
    x = layers.Dropout(0.5, name="drop2")(x)
    out = layers.Dense(1000, activation="softmax", name="predictions")(x)
    model = tf_keras.Model(inp, out, name="bench_vgg_fc")

    # Seeded random values for every variable, scaled so activations stay O(1).
    rng = np.random.default_rng(SEED)
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        if isinstance(layer, layers.BatchNormalization):
            c = ws[0].shape
            new = [rng.uniform(0.5, 1.5, c), rng.normal(0.0, 0.1, c),
                   rng.normal(0.0, 0.5, c), rng.uniform(0.5, 2.0, c)]
        else:
            kernel, bias = ws
            fan_in = int(np.prod(kernel.shape[:-1]))
            new = [rng.standard_normal(kernel.shape) * np.sqrt(2.0 / fan_in),
                   rng.normal(0.0, 0.05, bias.shape)]
        layer.set_weights([w.astype(np.float32) for w in new])

    tmp = path + ".tmp.h5"
    model.save(tmp, save_format="h5")
    os.replace(tmp, path)
    print(json.dumps({"params": int(model.count_params())}))


def _check(model_path: str, onnx_paths: list[str]) -> None:
    """Runs each ONNX file in onnxruntime and compares with tf_keras predict()."""
    _quiet_tf()
    import numpy as np
    import onnx
    import onnxruntime as ort
    import tf_keras

    keras_model = tf_keras.models.load_model(model_path, compile=False)
    rng = np.random.default_rng(SEED + 1)
    x = rng.standard_normal((CHECK_BATCH,) + tuple(keras_model.input_shape[1:])).astype(np.float32)
    want = keras_model.predict(x, verbose=0)
    scale = max(float(np.max(np.abs(want))), 1e-12)
    result = {}
    for path in onnx_paths:
        r: dict = {}
        try:
            m = onnx.load(path)
            r["transposes"] = sum(1 for n in m.graph.node if n.op_type == "Transpose")
            r["nodes"] = len(m.graph.node)
            r["op_counts"] = {}
            for n in m.graph.node:
                r["op_counts"][n.op_type] = r["op_counts"].get(n.op_type, 0) + 1
            sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            (inp,) = sess.get_inputs()
            got = sess.run(None, {inp.name: x})[0]
            if got.shape != want.shape:
                r["error"] = f"output shape {list(got.shape)}, Keras {list(want.shape)}"
            else:
                r["max_rel_err"] = float(np.max(np.abs(got.astype(np.float64) - want)) / scale)
                r["argmax_agrees"] = float(np.mean(got.argmax(-1) == want.argmax(-1)))
        except Exception as e:  # noqa: BLE001 - any failure is a failed check
            r["error"] = f"{type(e).__name__}: {e}"
        result[path] = r
    print(json.dumps(result))


def _versions() -> None:
    _quiet_tf()
    import onnx
    import onnxruntime
    import tensorflow as tf
    import tf2onnx
    import tf_keras
    print(json.dumps({"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__,
                      "tf2onnx": tf2onnx.__version__, "onnxruntime": onnxruntime.__version__,
                      "onnx": onnx.__version__, "python": platform.python_version()}))


# ---------------------------------------------------------------- running


def helper(*args: str) -> dict:
    p = subprocess.run([sys.executable, os.path.abspath(__file__), *args],
                       capture_output=True, text=True, env=CHILD_ENV)
    if p.returncode != 0:
        sys.exit(f"bench_keras: helper {args[0]} failed:\n{p.stderr[-4000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def run_child(argv: list[str]) -> tuple[float, int, str]:
    """Runs argv from a small launcher; returns (wall seconds, peak RSS bytes, stdout)."""
    p = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *argv],
                       capture_output=True, env=CHILD_ENV)
    if p.returncode != 0:
        sys.exit(f"bench_keras: launcher for {shlex.join(argv)} failed:\n"
                 f"{p.stderr.decode(errors='replace')}")
    res = json.loads(p.stdout)
    if res["rc"] != 0:
        sys.exit(f"bench_keras: {shlex.join(argv)} exited {res['rc']}:\n{res['stderr']}")
    return res["wall"], res["maxrss_kib"] * 1024, res["stdout"]


def bench(label: str, argv: list[str], runs: int, out: str) -> list[tuple[float, int, str]]:
    """One warm-up run, then `runs` timed runs; `out` is deleted before each (untimed)."""
    results = []
    for i in range(runs + 1):
        if os.path.exists(out):
            os.remove(out)
        r = run_child(argv)
        print(f"  {label} {'warm-up' if i == 0 else f'run {i}/{runs}'}: {r[0]:.3f} s, "
              f"peak RSS {r[1] / 1e6:.0f} MB", file=sys.stderr)
        if i > 0:
            results.append(r)
    if not os.path.exists(out):
        sys.exit(f"bench_keras: {label} wrote no {out}")
    return results


def weight_stats(path: str) -> tuple[int, int]:
    """(bytes, count) of the weight datasets under /model_weights of a legacy .h5 file."""
    import h5py
    total = count = 0
    with h5py.File(path, "r") as f:
        def visit(_name, obj):
            nonlocal total, count
            if isinstance(obj, h5py.Dataset):
                total += obj.size * obj.dtype.itemsize
                count += 1
        f["model_weights"].visititems(visit)
    return total, count


# ---------------------------------------------------------------- report








def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1].startswith("--_"):
        mode, rest = sys.argv[1], sys.argv[2:]
        {"--_build": lambda: _build(rest[0]),
         "--_check": lambda: _check(rest[0], rest[1:]),
         "--_versions": _versions}[mode]()
        return 0

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True, help="path to the ferry binary")
    ap.add_argument("--runs", type=int, default=5, help="timed Ferry runs (default 5)")
    ap.add_argument("--tf2onnx-runs", type=int, default=3,
                    help="timed tf2onnx runs (default 3; each takes seconds)")
    ap.add_argument("--work", default=os.path.join(ROOT, ".build", "bench-keras"),
                    help="work directory (model cache and outputs)")
    ap.add_argument("--markdown", help="also write the report to this file")
    args = ap.parse_args()
    if args.runs < 1 or args.tf2onnx_runs < 1:
        ap.error("--runs and --tf2onnx-runs must be >= 1")

    ferry = os.path.abspath(args.ferry)
    if not os.access(ferry, os.X_OK):
        sys.exit(f"bench_keras: {args.ferry}: not an executable")
    os.makedirs(args.work, exist_ok=True)
    work = os.path.abspath(args.work)
    model = os.path.join(work, f"vgg_fc_v{MODEL_VERSION}.h5")
    if not os.path.exists(model):
        print(f"building {shown(model)} ...", file=sys.stderr)
        helper("--_build", model)
    wbytes, wcount = weight_stats(model)
    fsize = os.path.getsize(model)
    out_ferry = os.path.join(work, "out_ferry.onnx")
    out_tf2onnx = os.path.join(work, "out_tf2onnx.onnx")

    print("timing ferry convert", file=sys.stderr)
    fr = bench("ferry", [ferry, "convert", model, out_ferry], args.runs, out_ferry)
    print("timing ferry convert --hdf5-in-process", file=sys.stderr)
    fi = bench("ferry", [ferry, "convert", "--hdf5-in-process", model, out_ferry], args.runs, out_ferry)
    print("timing tf2onnx", file=sys.stderr)
    tr = bench("tf2onnx", [sys.executable, "-c", TF2ONNX_RUN, model, out_tf2onnx, str(OPSET)],
               args.tf2onnx_runs, out_tf2onnx)
    inner = [json.loads(r[2].strip().splitlines()[-1]) for r in tr]

    print("checking outputs against tf_keras", file=sys.stderr)
    check = helper("--_check", model, out_ferry, out_tf2onnx)
    versions = helper("--_versions")
    ferry_ver = subprocess.run([ferry, "--version"], capture_output=True, text=True).stdout.strip()

    f_times = [r[0] for r in fr]
    t_total = [r[0] for r in tr]
    t_conv = [s["convert"] for s in inner]
    t_import = [s["import"] for s in inner]
    t_load = [s["load"] for s in inner]
    f_med = statistics.median(f_times)

    def quality(path: str) -> tuple[str, str]:
        c = check[path]
        err = f"{c['max_rel_err']:.1e}" if "max_rel_err" in c else f"FAILED ({c.get('error')})"
        return str(c.get("transposes", "?")), err

    def gbs(t: float) -> str:
        return f"{wbytes / t / 1e9:.3f}"

    fq, tq = quality(out_ferry), quality(out_tf2onnx)
    rows = [
        ("ferry convert (whole process)", f_times, gbs(f_med),
         f"{max(r[1] for r in fr) / 1e6:.0f}",
         f"{statistics.median(t_total) / f_med:.0f}x total, "
         f"{statistics.median(t_conv) / f_med:.0f}x from_keras alone", *fq),
        ("&nbsp;&nbsp;ferry convert --hdf5-in-process (libhdf5 in Ferry's process: trusted files)",
         [r[0] for r in fi], gbs(statistics.median(r[0] for r in fi)),
         f"{max(r[1] for r in fi) / 1e6:.0f}", "—", "same file", "same file"),
        ("tf2onnx total (python start, imports, load_model, from_keras)", t_total,
         gbs(statistics.median(t_total)), f"{max(r[1] for r in tr) / 1e6:.0f}", "1x", *tq),
        ("&nbsp;&nbsp;tf2onnx from_keras alone (timed in process)", t_conv,
         gbs(statistics.median(t_conv)), "—", "—", "same file", "same file"),
        ("&nbsp;&nbsp;of which: import tensorflow, tf_keras, tf2onnx", t_import, "—", "—", "—",
         "", ""),
        ("&nbsp;&nbsp;of which: tf_keras.models.load_model", t_load, "—", "—", "—", "", ""),
    ]

    cmd = command_line()
    lines = [
        f"- Machine: {machine()}",
        f"- Ferry: {ferry_ver or '?'} (git {git_rev()}); Python {versions['python']}, "
        f"tensorflow {versions['tensorflow']}, tf_keras {versions['tf_keras']}, "
        f"tf2onnx {versions['tf2onnx']} (opset {OPSET}), onnxruntime {versions['onnxruntime']}, "
        f"onnx {versions['onnx']}",
        f"- Model: {shown(model)}: {fsize / 1e6:.1f} MB file, {wcount} float32 weight arrays, "
        f"{wbytes / 1e6:.1f} MB of weights ({wbytes} B); 6 x Conv2D/BatchNormalization/ReLU "
        f"in 3 blocks with MaxPooling2D on 32x32x3, Flatten, Dense 4096-4096-1000 (softmax)",
        f"- Command: `{cmd}`",
        f"- Ferry: {args.runs} timed runs, tf2onnx: {args.tf2onnx_runs} timed runs, after 1 "
        f"warm-up each, every run a fresh process; times are median / min; GB/s = weight bytes "
        f"/ median (1 GB = 1e9 B); peak RSS = max ru_maxrss over the runs; speedup = tf2onnx "
        f"median / Ferry median; max rel. error = max |ONNX - Keras| / max |Keras| on a "
        f"random {CHECK_BATCH}x32x32x3 input (onnxruntime vs tf_keras predict)",
        "",
        "| what | median s | min s | GB/s of weights | peak RSS MB | Ferry speedup vs tf2onnx "
        "| Transpose nodes in output | max rel. error vs Keras |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for what, times, g, rss, speed, tr_n, err in rows:
        lines.append(f"| {what} | {statistics.median(times):.3f} | {min(times):.3f} | {g} | {rss} "
                     f"| {speed} | {tr_n} | {err} |")

    def ops(path: str) -> str:
        counts = check[path].get("op_counts", {})
        return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))

    lines += ["", f"Output ops, Ferry: {ops(out_ferry)}.",
              f"Output ops, tf2onnx: {ops(out_tf2onnx)}."]
    bad = [p for p in (out_ferry, out_tf2onnx)
           if "max_rel_err" not in check[p] or check[p]["max_rel_err"] > TOLERANCE]
    if bad:
        lines += ["", "**Output check FAILED** (tolerance "
                  f"{TOLERANCE:g}): " + ", ".join(os.path.basename(p) for p in bad)]
    else:
        lines += ["", f"Output check: both ONNX files match tf_keras within {TOLERANCE:g} "
                  "relative to the largest output magnitude."]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report)
    for p in (out_ferry, out_tf2onnx):
        try:
            os.remove(p)
        except FileNotFoundError:
            pass
    if bad:
        print("bench_keras: output check failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
