#!/usr/bin/env python3
"""Times `ferry bench` against onnxruntime on the same models, inputs, threads and run counts.

    bench_vs_ort.py --ferry PATH_TO_FERRY [--shared DIR] [--modern DIR] [--runs 20] [--warmup 3]
                    [--threads 1,2] [--models light_resnet50,...] [--baseline OTHER_FERRY] [--openvino]
                    [--rounds N] [--markdown FILE]

Models: the onnx package's light zoo (on the onnx test runner's input), DIR/models/*.onnx (on
check_models.py's fixed-seed input) and, with --modern, the modern set tools/make_modern_bench.py
wrote (on its own inputs); each input is written once as .npy. For every model and thread
count T: `ferry bench MODEL --input ... --runs N --warmup W --threads T --json`, then onnxruntime in a
fresh Python process of its own (intra-op threads T, inter-op 1, all graph optimizations), timing each
run with time.perf_counter and reporting its peak RSS (VmHWM) and the RSS it had before creating the
session (the Python + numpy + onnxruntime baseline). Prints a table (median and p90 ms, ratio
Ferry/ORT, peak MB), the geometric mean of the ratio per thread count, and the single-threaded sgemm
rate (2048x2048 float32; numpy's BLAS and the system OpenBLAS Ferry links), the yardstick for large
convolutions. With --baseline, an earlier ferry build is timed on every row too (between Ferry and
onnxruntime), for before/after figures of a change. With --openvino, OpenVINO (PyPI openvino, in
tools/requirements-bench.txt) too, in a process of its own like onnxruntime: CPU plugin,
INFERENCE_PRECISION_HINT f32, PERFORMANCE_HINT LATENCY, INFERENCE_NUM_THREADS T; a model it cannot
load shows "does not load" and is left out of its geometric mean. With --rounds N every engine is
timed N times per row, the engines taking turns, and the medians of the rounds are shown: on a
shared machine whose speed drifts between runs, that keeps a slow spell from landing on one engine. Exit 1 when a run fails.

    bench_vs_ort.py --int8 --ferry PATH_TO_FERRY [--shared DIR] [--models ...] [--work DIR] ...

--int8 times int8 against float instead (the float table above is not made). Models: the conv
models of the light zoo with their ConstantOfShape fills turned into seeded random weights
(interop_optimize.randomised) and converted to opset 13 (ort_quantize_anchor.opset13), and
DIR/models/*.onnx as they are. Each float model is quantized by
`ferry quantize FLOAT INT8 --calibrate CAL` (static QDQ, the quantizer's defaults); CAL holds the
benchmark input and three seeded uniform inputs of its shape and range, or, for the PaddleOCR
classifier, 64 calibration photos of tools/photo_inputs.py in batches of 16. On the same input and
threads: Ferry (`ferry bench`) and onnxruntime (the worker above) on FLOAT and on INT8. The
PaddleOCR classifier is also quantized by onnxruntime's quantize_static (QDQ, per channel, MinMax,
as tools/ort_quantize_anchor.py does it) and that file timed in both runtimes too (row "NAME [ort
quantizer]"). Prints per model and thread count the medians, the ratios Ferry float/int8,
onnxruntime float/int8, Ferry int8/onnxruntime int8, peak MB, the file sizes and int8/float size,
the geometric means of the ratios, and which rows miss the targets of issue 5 (Ferry int8 faster
than Ferry float, >= 1.5x on the plain conv nets ResNet-50 and VGG-19, Ferry int8 <= onnxruntime
int8, int8 file <= 0.28x float). --quantize-args="..." passes more arguments to ferry quantize;
--work DIR keeps the float, int8 and calibration files there. Small models need more --runs than
the default 20 for a stable median on a busy machine.
"""
import argparse
import re
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SGEMM = """
import ctypes, ctypes.util, time, numpy as np
try:
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
except ImportError:
    pass
n = 2048
rs = np.random.RandomState(0)
a, b, c = rs.rand(n, n).astype(np.float32), rs.rand(n, n).astype(np.float32), np.zeros((n, n), np.float32)
def rate(fn):
    fn()
    times = []
    for _ in range(7):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return 2 * n ** 3 / sorted(times)[len(times) // 2] / 1e9
print(rate(lambda: a @ b))
try:  # the system OpenBLAS Ferry links (Debian libopenblas), through its CBLAS interface
    lib = ctypes.CDLL(ctypes.util.find_library("openblas") or "libopenblas.so.0")
    lib.openblas_set_num_threads(1)
    p = lambda x: x.ctypes.data_as(ctypes.c_void_p)
    f = ctypes.c_float
    print(rate(lambda: lib.cblas_sgemm(101, 111, 111, n, n, n, f(1), p(a), n, p(b), n, f(0), p(c), n)))
except (OSError, AttributeError):
    print("nan")
"""


# getrusage's ru_maxrss starts a process at the RSS of whatever forked it (Linux keeps the high-water
# mark of the pre-exec copy of the parent), so a child of this ~100 MB script would report >= 100 MB.
# The worker reads its own high-water mark instead, and ferry is started by a shell that forks it, so
# ferry's own getrusage-based figure starts from the small shell.
FRESH = ["/bin/sh", "-c", '"$@"; exit $?', "sh"]


def rss(field="VmHWM") -> int:
    """This process's peak (VmHWM) or current (VmRSS) resident size in bytes."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def latency(times_ms):
    t = np.asarray(times_ms)
    return {"min": float(t.min()), "median": float(np.median(t)), "p90": float(np.percentile(t, 90)), "mean": float(t.mean())}


def timed_runs(args, run):
    """Warm-up runs, then the timed ones: their latency figures."""
    for _ in range(args.warmup):
        run()
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    return latency(times)


def worker_feeds(args):
    return {spec.rsplit("=", 1)[0]: np.load(spec.rsplit("=", 1)[1]) for spec in args.input}


def ort_worker(args) -> int:
    """The onnxruntime side, alone in its process: prints one JSON object."""
    import onnxruntime as ort
    feeds = worker_feeds(args)
    baseline = rss("VmRSS")
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = args.threads, 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    start = time.perf_counter()
    sess = ort.InferenceSession(args.ort_worker, so, providers=["CPUExecutionProvider"])
    plan = time.perf_counter() - start
    lat = timed_runs(args, lambda: sess.run(None, feeds))
    print(json.dumps({"latency_ms": lat, "plan_seconds": plan, "peak_rss_bytes": rss("VmHWM"),
                      "baseline_rss_bytes": baseline, "version": ort.__version__}))
    return 0


def ov_worker(args) -> int:
    """The OpenVINO side (CPU plugin, float32 inference, latency mode, T threads), alone in its
    process: prints one JSON object."""
    import openvino as ov
    feeds = worker_feeds(args)
    baseline = rss("VmRSS")
    core = ov.Core()
    start = time.perf_counter()
    compiled = core.compile_model(args.ov_worker, "CPU", {
        "INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": args.threads})
    request = compiled.create_infer_request()
    plan = time.perf_counter() - start
    lat = timed_runs(args, lambda: request.infer(feeds))
    print(json.dumps({"latency_ms": lat, "plan_seconds": plan, "peak_rss_bytes": rss("VmHWM"),
                      "baseline_rss_bytes": baseline, "version": ov.get_version()}))
    return 0


def run_json(argv, what):
    """Runs argv; its stdout parsed as JSON, or ValueError with a one-line reason."""
    p = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        raise ValueError(f"{what} exited {p.returncode}: {lines[-1 if what == 'ort' else 0][:200] if lines else '(no stderr)'}")
    try:
        return json.loads(p.stdout)
    except ValueError:
        raise ValueError(f"{what} printed no JSON object") from None


def timed(args, engine, path, inputs, threads):
    """`ferry bench` (engine "ferry", or "base" for the --baseline binary), the onnxruntime worker
    ("ort") or the OpenVINO one ("ov") on `path`: its JSON report."""
    common = [*inputs, "--runs", str(args.runs), "--warmup", str(args.warmup), "--threads", str(threads)]
    if engine in ("ort", "ov"):
        argv = [sys.executable, os.path.abspath(__file__), f"--{engine}-worker", path, *common]
    else:
        binary = args.ferry if engine == "ferry" else args.baseline
        argv = [*FRESH, os.path.abspath(binary), "bench", path, *common, "--json"]
    return run_json(argv, engine)


def combined(reports):
    """Several reports of one engine on one row as one: the median of their medians and p90s, the
    largest peak memory."""
    out = dict(reports[0])
    out["latency_ms"] = {k: float(np.median([rep["latency_ms"][k] for rep in reports])) for k in reports[0]["latency_ms"]}
    out["peak_rss_bytes"] = max(rep["peak_rss_bytes"] for rep in reports)
    return out


def collect_models(shared, wanted, work, modern=None):
    """[(name, model path, input args)] with each model's inputs written once under work/."""
    import glob
    import onnx
    from check_models import LIGHT, light_inputs, save_inputs, shared_inputs
    found = [(os.path.basename(p)[:-5], p, "light") for p in sorted(glob.glob(os.path.join(LIGHT, "light_*.onnx")))]
    if shared:
        found += [(os.path.basename(p)[:-5], p, "shared") for p in sorted(glob.glob(os.path.join(shared, "models", "*.onnx")))]
    if modern:
        found += [(os.path.basename(p)[:-5], p, "modern") for p in sorted(glob.glob(os.path.join(modern, "*.onnx")))]
    if wanted:
        unknown = sorted(set(wanted) - {name for name, _, _ in found})
        if unknown:
            raise ValueError(f"unknown models: {', '.join(unknown)} (known: {', '.join(n for n, _, _ in found)})")
        found = [f for f in found if f[0] in wanted]
    out = []
    for name, path, kind in found:
        if kind == "modern":  # make_modern_bench.py wrote the input beside the model
            feeds = dict(np.load(path[:-5] + ".npz"))
        else:
            model = onnx.load(path)
            feeds = shared_inputs(model, name) if kind == "shared" else light_inputs(model)
        out.append((name, path, save_inputs(feeds, os.path.join(work, name))))
    return out


def sgemm_gflops() -> str:
    """Single-threaded 2048x2048 float32 matmul rates: numpy's BLAS and the system OpenBLAS."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    p = subprocess.run([sys.executable, "-c", SGEMM], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        return "failed: " + (p.stderr.strip().splitlines() or ["?"])[-1]
    rates = [float(x) for x in p.stdout.split()]
    system = f", system libopenblas (Ferry's BLAS) {rates[1]:.1f} GFLOP/s" if rates[1] == rates[1] else ""
    return f"numpy {np.__version__} {rates[0]:.1f} GFLOP/s{system} (2048x2048 float32 matmul, 1 thread, median of 7)"


# Large convolutions for the ">= 70% of sgemm" target: (name, channels in, out, image size, kernel).
CONVS = [("conv3x3 256->256 56x56", 256, 256, 56, 3), ("conv3x3 64->64 224x224", 64, 64, 224, 3),
         ("conv1x1 512->512 28x28", 512, 512, 28, 1)]


def conv_rates(args, work, sgemm_rate):
    """Single-threaded GFLOP/s of Ferry on large convolutions, and the share of the sgemm rate."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    lines = []
    for name, c, m, hw, k in CONVS:
        w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((m, c, k, k)).astype(np.float32) * 0.01, "w")
        node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[k // 2] * 4)
        graph = helper.make_graph([node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, hw, hw])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
        path = os.path.join(work, name.replace(" ", "_").replace(">", "") + ".onnx")
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
        r = run_json([*FRESH, os.path.abspath(args.ferry), "bench", path, "--runs", str(args.runs), "--threads", "1", "--json"], "ferry")
        gflops = 2 * m * c * k * k * hw * hw / (r["latency_ms"]["median"] / 1e3) / 1e9
        share = f", {100 * gflops / sgemm_rate:.0f}% of sgemm" if sgemm_rate else ""
        lines.append(f"{name}: {r['latency_ms']['median']:.2f} ms, {gflops:.1f} GFLOP/s{share}")
    return lines


def mb(n):
    return f"{n / 2**20:.0f}" if isinstance(n, (int, float)) else "-"


def row(r):
    f, o, b = r.get("ferry"), r.get("ort"), r.get("base")
    fms = f"{f['latency_ms']['median']:.2f} ({f['latency_ms']['p90']:.2f})" if f else "error"
    oms = f"{o['latency_ms']['median']:.2f} ({o['latency_ms']['p90']:.2f})" if o else "error"
    ratio = f"{r['ratio']:.2f}" if "ratio" in r else "-"
    cells = [r["model"], str(r["threads"]), fms, oms, ratio, mb(f and f.get("peak_rss_bytes")),
             mb(o and o["peak_rss_bytes"]), mb(o and o["peak_rss_bytes"] - o["baseline_rss_bytes"])]
    if "base" in r or "base_ratio" in r:
        bms = f"{b['latency_ms']['median']:.2f} ({b['latency_ms']['p90']:.2f})" if b else "error"
        cells += [bms, f"{r['base_ratio']:.3f}" if "base_ratio" in r else "-"]
    if r.get("openvino"):
        v = r.get("ov")
        cells += [f"{v['latency_ms']['median']:.2f} ({v['latency_ms']['p90']:.2f})" if v else "does not load",
                  f"{r['ov_ratio']:.2f}" if "ov_ratio" in r else "-"]
    return cells


HEAD = ["model", "threads", "Ferry ms median (p90)", "ORT ms median (p90)", "Ferry/ORT", "Ferry peak MB",
        "ORT peak MB", "ORT peak - baseline MB"]


def geomeans(results, threads):
    out = []
    for t in threads:
        for key, label, digits in (("ratio", "Ferry/ORT", 2), ("base_ratio", "Ferry/baseline", 3), ("ov_ratio", "Ferry/OpenVINO", 2)):
            ratios = [r[key] for r in results if r["threads"] == t and key in r]
            if ratios:
                out.append(f"threads {t}: geometric mean {label} {float(np.exp(np.mean(np.log(ratios)))):.{digits}f} over {len(ratios)} models")
    return out


def write_markdown(path, title, head, rows, summary, notes):
    from benchutil import command_line, cpu_flags, git_rev, machine
    lines = [f"# {title}", "", f"- machine: {machine()} ({platform.platform()})", f"- {cpu_flags()}",
             f"- ferry: {git_rev()}", *[f"- {n}" for n in notes], f"- command: `{command_line()}`", "",
             "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += [""] + [f"- {g}" for g in summary]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


# Issue 5's targets for the int8 mode.
PLAIN_CONV, PLAIN_SPEEDUP, SIZE_TARGET = {"light_resnet50", "light_vgg19"}, 1.5, 0.28
PHOTO_MODEL = "ch_ppocr_mobile_v2.0_cls_infer"  # calibrated on tools/photo_inputs.py's photos
ORT_QUANTIZER = " [ort quantizer]"


def write_calibration(name, inputs, folder):
    """Writes folder/*.npy for `ferry quantize --calibrate`; returns the samples as one array."""
    import photo_inputs
    if len(inputs) != 2:
        raise ValueError(f"{name}: --int8 takes single-input models ({len(inputs) // 2} inputs)")
    if name == PHOTO_MODEL:
        x, _ = photo_inputs.make_set("calibration", 64)
    else:  # the benchmark input and three seeded uniform inputs in its range
        first = np.load(inputs[1].rsplit("=", 1)[1])
        low, high = float(first.min()), float(first.max())
        x = np.concatenate([first] + [np.random.RandomState(k).uniform(low, high, first.shape).astype(first.dtype)
                                      for k in (1, 2, 3)])
    photo_inputs.write_batches(x, folder, 16 if name == PHOTO_MODEL else len(x) // 4)
    return x


def ort_quantized(float_path, x_cal, folder):
    """onnxruntime's quantize_static of float_path (QDQ, per channel, MinMax): the file written."""
    from ort_quantize_anchor import ort_quantize, prepared
    return ort_quantize(prepared(float_path, os.path.join(folder, "ort_prepared.onnx")), x_cal, "MinMax", folder)


def int8_models(args, work):
    """([(row name, float file, int8 file, input args)], failures): every model quantized by
    `ferry quantize`, the PaddleOCR classifier by onnxruntime's quantizer too."""
    from check_models import LIGHT
    import onnx
    from interop_optimize import randomised
    from ort_quantize_anchor import opset13
    out, failed = [], 0
    for name, path, inputs in collect_models(args.shared, args.models.split(",") if args.models else None, work):
        folder = os.path.join(work, name)
        light = os.path.dirname(os.path.abspath(path)) == os.path.abspath(LIGHT)
        float_path = path
        if light:  # Ferry's quantizer wants opset 10 or newer (the light zoo has opset 9)
            float_path = randomised(path, os.path.join(folder, "float.onnx"))
            onnx.save(opset13(float_path), float_path)
        x_cal = write_calibration(name, inputs, os.path.join(folder, "calibration"))
        int8_path = os.path.join(folder, "int8.onnx")
        p = subprocess.run([os.path.abspath(args.ferry), "quantize", float_path, int8_path, "--force",
                            "--calibrate", os.path.join(folder, "calibration"), *args.quantize_args.split()],
                           capture_output=True, text=True, timeout=3600)
        with open(os.path.join(folder, "quantize.txt"), "w", encoding="utf-8") as f:
            f.write(p.stdout + p.stderr)
        if p.returncode != 0:
            print(f"FAIL {name}: ferry quantize exited {p.returncode}: {(p.stderr.strip().splitlines() or ['?'])[0][:200]}", flush=True)
            failed += 1
            continue
        print(f"{name}: {next((ln for ln in p.stdout.splitlines() if ln.startswith('file size')), 'quantized')}", flush=True)
        out.append((name, float_path, int8_path, inputs))
        if name == PHOTO_MODEL:
            out.append((name + ORT_QUANTIZER, float_path, ort_quantized(float_path, x_cal, folder), inputs))
    return out, failed


def ratio(r, a, b):
    """median of r[a] / median of r[b], or None when either run failed."""
    return r[a]["latency_ms"]["median"] / r[b]["latency_ms"]["median"] if a in r and b in r else None


def int8_row(r):
    def ms(key):
        return f"{r[key]['latency_ms']['median']:.2f}" if key in r else "error"

    def x(v):
        return "-" if v is None else f"{v:.2f}"

    def peaks(a, b):
        return f"{mb(r.get(a, {}).get('peak_rss_bytes'))} / {mb(r.get(b, {}).get('peak_rss_bytes'))}"

    return [r["model"], str(r["threads"]), ms("ferry_float"), ms("ferry_int8"), ms("ort_float"), ms("ort_int8"),
            x(r["speedup"]), x(r["ort_speedup"]), x(r["vs_ort"]), peaks("ferry_float", "ferry_int8"),
            peaks("ort_float", "ort_int8"), f"{r['float_bytes'] / 2**20:.2f} / {r['int8_bytes'] / 2**20:.2f}", x(r["size"])]


INT8_HEAD = ["model", "threads", "Ferry float ms", "Ferry int8 ms", "ORT float ms", "ORT int8 ms", "Ferry float/int8",
             "ORT float/int8", "Ferry int8/ORT int8", "Ferry peak MB float / int8", "ORT peak MB float / int8",
             "file MB float / int8", "int8/float size"]


def geomean(values):
    return float(np.exp(np.mean(np.log(values))))


def int8_summary(results, threads):
    """Geometric means of the ratios (rows of Ferry's quantizer) and the targets each row misses."""
    ours = [r for r in results if not r["model"].endswith(ORT_QUANTIZER)]
    if not ours:
        return ["no model was quantized and timed"]
    out = []
    for t in threads:
        rows = [r for r in ours if r["threads"] == t]
        means = [f"{label} {geomean(v):.2f}" for label, key in (("Ferry float/int8", "speedup"), ("ORT float/int8", "ort_speedup"),
                                                                 ("Ferry int8/ORT int8", "vs_ort"))
                 if (v := [r[key] for r in rows if r[key] is not None])]
        out.append(f"threads {t}, geometric means over {len(rows)} models (Ferry's quantizer): " + ", ".join(means))
    sizes = {r["model"]: r["size"] for r in ours}
    if sizes:
        out.append(f"geometric mean int8/float file size {geomean(list(sizes.values())):.3f} over {len(sizes)} models")
    plain = [r for r in ours if r["model"] in PLAIN_CONV]
    checks = [("Ferry int8 faster than Ferry float", ours, lambda r: r["speedup"] is not None and r["speedup"] > 1),
              (f"Ferry int8 >= {PLAIN_SPEEDUP}x Ferry float on {', '.join(sorted(PLAIN_CONV))}", plain,
               lambda r: (r["speedup"] or 0) >= PLAIN_SPEEDUP),
              ("Ferry int8 no slower than ORT int8 on the same file", ours, lambda r: r["vs_ort"] is not None and r["vs_ort"] <= 1)]
    for label, rows, ok in checks:
        missed = [f"{r['model']}@{r['threads']}" for r in rows if not ok(r)]
        out.append(f"target {label}: " + ("not measured" if not rows else "met" if not missed else "missed by " + ", ".join(missed)))
    large = [f"{m} ({v:.2f})" for m, v in sizes.items() if v > SIZE_TARGET]
    out.append(f"target int8 file <= {SIZE_TARGET}x float: " + ("met" if not large else "missed by " + ", ".join(large)))
    return out


def bench_int8(args, threads, work) -> int:
    """The --int8 mode (see the top)."""
    notes = [f"{args.runs} runs after {args.warmup} warm-up runs, threads {args.threads}",
             "load average (1, 5, 15 min) at the start: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())]
    print(notes[-1], flush=True)
    models, failed = int8_models(args, work)
    results = []
    for name, float_path, int8_path, inputs in models:
        for t in threads:
            r = {"model": name, "threads": t, "float_bytes": os.path.getsize(float_path), "int8_bytes": os.path.getsize(int8_path)}
            for key, engine, path in (("ferry_float", "ferry", float_path), ("ferry_int8", "ferry", int8_path),
                                      ("ort_float", "ort", float_path), ("ort_int8", "ort", int8_path)):
                try:
                    r[key] = timed(args, engine, path, inputs, t)
                except (ValueError, subprocess.TimeoutExpired) as e:
                    print(f"FAIL {name} threads {t} {key}: {e}", flush=True)
                    failed += 1
            r.update(speedup=ratio(r, "ferry_float", "ferry_int8"), ort_speedup=ratio(r, "ort_float", "ort_int8"),
                     vs_ort=ratio(r, "ferry_int8", "ort_int8"), size=r["int8_bytes"] / r["float_bytes"])
            results.append(r)
            print("  ".join(int8_row(r)), flush=True)
    versions = {r[k]["version"] for r in results for k in ("ort_float", "ort_int8") if k in r}
    notes += [f"onnxruntime {', '.join(sorted(versions))}: intra-op threads T, inter-op 1, ORT_ENABLE_ALL, own process",
              "load average (1, 5, 15 min) at the end: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())]
    print(notes[-1])
    rows = [int8_row(r) for r in results]
    print_table(INT8_HEAD, rows)
    summary = int8_summary(results, threads)
    for line in summary:
        print(line)
    if args.markdown:
        write_markdown(args.markdown, "Ferry int8 vs float and onnxruntime", INT8_HEAD, rows, summary, notes)
        print(f"wrote {args.markdown}")
    return 1 if failed else 0


def print_table(head, rows):
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head)]
    print("\n" + "  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", help="path to the ferry binary (a release build)")
    ap.add_argument("--shared", help="directory holding models/*.onnx")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--models", help="comma-separated model names (default: all)")
    ap.add_argument("--modern", help="directory of tools/make_modern_bench.py: its models (with their .npz inputs) join the table")
    ap.add_argument("--baseline", help="another ferry binary (an earlier build) timed on the same rows: Ferry/baseline")
    ap.add_argument("--markdown", help="also write the table, machine and command line to this Markdown file")
    ap.add_argument("--int8", action="store_true", help="time int8 against float (see the top) instead of the float table")
    ap.add_argument("--quantize-args", default="", help="--int8: more arguments for `ferry quantize`, e.g. --quantize-args=--no-keep-edge-layers")
    ap.add_argument("--work", help="keep the models, inputs and calibration files in this folder (default: a temporary one)")
    ap.add_argument("--rounds", type=int, default=1, help="time every engine this many times per row, taking turns; medians of the rounds")
    ap.add_argument("--openvino", action="store_true", help="time OpenVINO (PyPI openvino, CPU plugin, f32, latency mode) on each row too")
    ap.add_argument("--ort-worker", metavar="MODEL", help=argparse.SUPPRESS)
    ap.add_argument("--ov-worker", metavar="MODEL", help=argparse.SUPPRESS)
    ap.add_argument("--input", action="append", default=[], help=argparse.SUPPRESS)
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    if args.ort_worker or args.ov_worker:
        args.threads = threads[0]
        return ort_worker(args) if args.ort_worker else ov_worker(args)
    if not args.ferry or not os.access(args.ferry, os.X_OK):
        print(f"error: --ferry {args.ferry}: no such executable", file=sys.stderr)
        return 1
    if args.work:
        os.makedirs(args.work, exist_ok=True)
    work = args.work or tempfile.mkdtemp(prefix="ferry-bench-ort-")
    try:
        return (bench_int8 if args.int8 else bench)(args, threads, work)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


def bench(args, threads, work) -> int:
    models = collect_models(args.shared, args.models.split(",") if args.models else None, work, args.modern)
    sgemm = sgemm_gflops()
    notes = [f"sgemm: {sgemm}", f"{args.runs} runs after {args.warmup} warm-up runs, threads {args.threads}"
             + (f", {args.rounds} rounds per row (engines taking turns; medians of the rounds' medians and p90s)" if args.rounds > 1 else "")]
    print(notes[0], flush=True)
    rates = [float(x) for x in re.findall(r"([0-9.]+) GFLOP/s", sgemm)]
    for line in conv_rates(args, work, max(rates) if rates else None):
        print("Ferry, 1 thread, " + line, flush=True)
        notes.append("Ferry, 1 thread, " + line)
    results, failed = [], 0
    for name, path, inputs in models:
        for t in threads:
            r = {"model": name, "threads": t, "openvino": args.openvino}
            engines = [*(("ferry", "base", "ort") if args.baseline else ("ferry", "ort")), *(("ov",) if args.openvino else ())]
            rounds = {key: [] for key in engines}
            for _ in range(args.rounds):  # engines take turns, so that a slow spell of the machine hits them all
                for key in engines:
                    if key in rounds and (rounds[key] or _ == 0):
                        try:
                            rounds[key].append(timed(args, key, path, inputs, t))
                        except (ValueError, subprocess.TimeoutExpired) as e:
                            rounds[key] = None
                            if key == "ov":  # a model OpenVINO cannot load is a "-", not a failure
                                print(f"OpenVINO {name} threads {t}: {e}", flush=True)
                            else:
                                print(f"FAIL {name} threads {t}: {e}", flush=True)
                                failed += 1
            for key, reports in rounds.items():
                if reports:
                    r[key] = combined(reports)
            if "ferry" in r and "ov" in r:
                r["ov_ratio"] = r["ferry"]["latency_ms"]["median"] / r["ov"]["latency_ms"]["median"]
            if "ferry" in r and "ort" in r:
                r["ratio"] = r["ferry"]["latency_ms"]["median"] / r["ort"]["latency_ms"]["median"]
            if "ferry" in r and "base" in r:
                r["base_ratio"] = r["ferry"]["latency_ms"]["median"] / r["base"]["latency_ms"]["median"]
            results.append(r)
            print("  ".join(row(r)), flush=True)
    versions = {r["ort"]["version"] for r in results if "ort" in r}
    notes.append(f"onnxruntime {', '.join(sorted(versions))}: intra-op threads T, inter-op 1, ORT_ENABLE_ALL, own process")
    head = HEAD + (["baseline ms median (p90)", "Ferry/baseline"] if args.baseline else [])
    head += ["OpenVINO ms median (p90)", "Ferry/OpenVINO"] if args.openvino else []
    if args.openvino:
        ov_versions = {r["ov"]["version"] for r in results if "ov" in r}
        notes.append(f"OpenVINO {', '.join(sorted(ov_versions))}: CPU plugin, INFERENCE_PRECISION_HINT f32, PERFORMANCE_HINT LATENCY, "
                     "INFERENCE_NUM_THREADS T, own process")
    if args.baseline:
        notes.append(f"baseline: {args.baseline}, timed between Ferry and onnxruntime on each row")
    print_table(head, [row(r) for r in results])
    for g in geomeans(results, threads):
        print(g)
    if args.markdown:
        write_markdown(args.markdown, "Ferry vs onnxruntime", head, [row(r) for r in results], geomeans(results, threads), notes)
        print(f"wrote {args.markdown}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
