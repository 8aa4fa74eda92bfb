#!/usr/bin/env python3
"""Benchmark ONNX read/write throughput and peak memory of Ferry's CLI.

    bench_io.py --ferry PATH [--size-mb 128] [--runs 10] [--work DIR]
                [--markdown FILE]

Generates once (cached in the work dir, default .build/bench-io/) a
deterministic ONNX model holding >= size-mb MiB of float32 initializers in
raw_data (a MatMul/Add chain: a few 2048x2048 weights plus a few hundred small
weights and biases), saved inline with onnx.save.  Then, each after one
warm-up run (warm page cache), `--runs` times:

  ferry inspect FILE                                   read only
  ferry convert FILE OUT                               read + write (OUT deleted before each run)
  ferry convert FILE OUT --external-data ...           read + write, external
  python: onnx.load(FILE); m.SerializeToString(); write the bytes to a file
          (fresh subprocess; load, serialize and write timed inside it)
  python: import onnx only (baseline RSS of the interpreter)

Reports median and min wall time, throughput (tensor bytes / median time,
GB = 1e9 bytes) and the largest peak RSS over the runs (ru_maxrss from wait4),
also as a multiple of the file size.  Ferry's times are wall times of the whole
process, start-up included.  Python's load, serialize and write times are taken
inside the subprocess (interpreter start-up and `import onnx` excluded).

Checks what was timed: both files Ferry wrote must load with onnx.load and
hold the same initializer bytes as the source; exit 1 otherwise.
This is a benchmark, not a test: it does not judge the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchutil import command_line, git_rev, machine, shown  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENERATOR_VERSION = 1
MIB = 1024 * 1024
BIG = 2048          # large weights are BIG x BIG float32 (16 MiB each)
SMALL = 128         # small weights SMALL x SMALL, biases SMALL (512 bytes)
SMALL_LAYERS = 150  # 300 small initializers
EXT_NAME = "bench.data"
EXT_THRESHOLD = 1024

PY_RUN = r"""
import json, sys, time
import onnx
t0 = time.perf_counter()
m = onnx.load(sys.argv[1])
t1 = time.perf_counter()
b = m.SerializeToString()
t2 = time.perf_counter()
with open(sys.argv[2], "wb") as f:
    f.write(b)
t3 = time.perf_counter()
print(json.dumps({"load": t1 - t0, "serialize": t2 - t1, "write": t3 - t2,
                  "total": t3 - t0}))
"""

LAUNCHER = r"""
import json, os, subprocess, sys, tempfile, time
with tempfile.TemporaryFile() as errf:
    t0 = time.perf_counter()
    p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=errf)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    errf.seek(0)
    err = errf.read()
print(json.dumps({"wall": wall, "maxrss_kib": ru.ru_maxrss,
                  "rc": os.waitstatus_to_exitcode(status),
                  "stdout": out.decode(errors="replace"),
                  "stderr": err.decode(errors="replace")}))
"""

PY_BASELINE = r"""
import json, sys, time
import onnx
print(json.dumps({}))
"""


# ---------------------------------------------------------------- model


def build_model(size_mb: int) -> onnx.ModelProto:
    """A deterministic MatMul/Add chain with >= size_mb MiB of float32 weights."""
    rng = np.random.default_rng(20240601)
    small_bytes = SMALL_LAYERS * (SMALL * SMALL + SMALL) * 4 + BIG * SMALL * 4
    big_layer = (BIG * BIG + BIG) * 4
    n_big = max(1, -(-(size_mb * MIB - small_bytes) // big_layer))

    inits: list[TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def init(name: str, shape: tuple[int, ...], scale: float) -> str:
        a = (rng.standard_normal(shape, dtype=np.float32) * np.float32(scale))
        inits.append(numpy_helper.from_array(a, name))
        return name

    cur = "x"
    for i in range(n_big):
        w = init(f"big{i}.weight", (BIG, BIG), 1.0 / np.sqrt(BIG))
        b = init(f"big{i}.bias", (BIG,), 0.01)
        nodes.append(helper.make_node("MatMul", [cur, w], [f"big{i}.mm"]))
        nodes.append(helper.make_node("Add", [f"big{i}.mm", b], [f"big{i}.out"]))
        cur = f"big{i}.out"
    w = init("proj.weight", (BIG, SMALL), 1.0 / np.sqrt(BIG))
    nodes.append(helper.make_node("MatMul", [cur, w], ["proj.out"]))
    cur = "proj.out"
    for i in range(SMALL_LAYERS):
        w = init(f"small{i}.weight", (SMALL, SMALL), 1.0 / np.sqrt(SMALL))
        b = init(f"small{i}.bias", (SMALL,), 0.01)
        nodes.append(helper.make_node("MatMul", [cur, w], [f"small{i}.mm"]))
        nodes.append(helper.make_node("Add", [f"small{i}.mm", b], [f"small{i}.out"]))
        cur = f"small{i}.out"
    nodes.append(helper.make_node("Identity", [cur], ["y"]))

    graph = helper.make_graph(
        nodes, "bench_io",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, BIG])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, SMALL])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="ferry-bench-io")
    model.ir_version = 8
    return model


def ensure_model(work: str, size_mb: int) -> str:
    path = os.path.join(work, f"model_{size_mb}mb_v{GENERATOR_VERSION}.onnx")
    if os.path.exists(path):
        return path
    print(f"generating {path} ...", file=sys.stderr)
    model = build_model(size_mb)
    tmp = path + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, path)
    return path


def initializer_digests(path: str) -> dict[str, str]:
    m = onnx.load(path)
    return {t.name: hashlib.sha256(numpy_helper.to_array(t).tobytes()).hexdigest()
            + f":{t.data_type}:{tuple(t.dims)}"
            for t in m.graph.initializer}


def tensor_bytes(path: str) -> tuple[int, int]:
    m = onnx.load(path)
    return sum(len(t.raw_data) for t in m.graph.initializer), len(m.graph.initializer)


# ---------------------------------------------------------------- running


def run_child(argv: list[str]) -> tuple[float, int, str]:
    """Run argv; return (wall seconds, peak RSS bytes, stdout).

    Linux carries a process's RSS high-water mark across fork/vfork + exec, so
    a child started straight from this (large) process would report at least
    this process's peak.  A small launcher process starts the child instead and
    measures it with Popen + os.wait4.
    """
    p = subprocess.run([sys.executable, "-S", "-c", LAUNCHER] + argv, capture_output=True)
    if p.returncode != 0:
        sys.exit(f"bench_io: {shlex.join(argv)} failed:\n{p.stderr.decode(errors='replace')}")
    res = json.loads(p.stdout)
    if res["rc"] != 0:
        sys.exit(f"bench_io: {shlex.join(argv)} exited {res['rc']}:\n{res['stderr']}")
    return res["wall"], res["maxrss_kib"] * 1024, res["stdout"]


def bench(argv: list[str], runs: int, fresh: tuple[str, ...] = ()) -> list[tuple[float, int, str]]:
    """Runs argv once to warm up, then `runs` timed times. The files in `fresh` are deleted
    before every run (outside the timing), so each run writes new files the way a user's
    conversion does, rather than paying for the file system freeing the previous output."""
    results = []
    for i in range(runs + 1):
        for path in fresh:
            if os.path.exists(path):
                os.remove(path)
        r = run_child(argv)
        if i > 0:
            results.append(r)
    return results


# ---------------------------------------------------------------- report










def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True, help="path to the ferry binary")
    ap.add_argument("--size-mb", type=int, default=128,
                    help="MiB of float32 weights in the generated model (default 128)")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per measurement")
    ap.add_argument("--work", default=os.path.join(ROOT, ".build", "bench-io"),
                    help="work directory (model cache and outputs)")
    ap.add_argument("--markdown", help="also write the report to this file")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be >= 1")

    ferry = os.path.abspath(args.ferry)
    if not os.access(ferry, os.X_OK):
        sys.exit(f"bench_io: {args.ferry}: not an executable")
    os.makedirs(args.work, exist_ok=True)
    src = ensure_model(args.work, args.size_mb)
    file_size = os.path.getsize(src)
    tbytes, n_init = tensor_bytes(src)
    out_inline = os.path.join(args.work, "out_inline.onnx")
    out_ext = os.path.join(args.work, "out_external.onnx")
    out_py = os.path.join(args.work, "out_python.onnx")

    rows = []  # (what, times, peak_rss, note)

    def add_ferry(what: str, argv: list[str], fresh: tuple[str, ...] = ()) -> None:
        print(f"running: {what}", file=sys.stderr)
        res = bench(argv, args.runs, fresh)
        rows.append((what, [r[0] for r in res], max(r[1] for r in res)))

    add_ferry("ferry inspect (read)", [ferry, "inspect", src])
    add_ferry("ferry convert (read + write)", [ferry, "convert", src, out_inline], (out_inline,))
    add_ferry("ferry convert --external-data (read + write)",
              [ferry, "convert", src, out_ext, "--external-data", EXT_NAME, "--size-threshold", str(EXT_THRESHOLD)],
              (out_ext, os.path.join(args.work, EXT_NAME)))

    print("running: python onnx", file=sys.stderr)
    py = bench([sys.executable, "-c", PY_RUN, src, out_py], args.runs, (out_py,))
    py_stats = [json.loads(r[2]) for r in py]
    py_rss = max(r[1] for r in py)
    rows.append(("python onnx.load (read)", [s["load"] for s in py_stats], None))
    rows.append(("python SerializeToString", [s["serialize"] for s in py_stats], None))
    rows.append(("python write bytes to file", [s["write"] for s in py_stats], None))
    rows.append(("python load + serialize + write", [s["total"] for s in py_stats], py_rss))
    base = bench([sys.executable, "-c", PY_BASELINE], args.runs)
    base_rss = max(r[1] for r in base)

    # correctness of what was timed
    print("checking outputs", file=sys.stderr)
    want = initializer_digests(src)
    bad = []
    for out in (out_inline, out_ext, out_py):
        try:
            got = initializer_digests(out)
        except Exception as e:  # noqa: BLE001 - any load failure is a failure
            bad.append(f"{os.path.basename(out)}: onnx.load failed: {e}")
            continue
        if got != want:
            diff = sorted(set(want) ^ set(got)) + sorted(
                k for k in set(want) & set(got) if want[k] != got[k])
            bad.append(f"{os.path.basename(out)}: {len(diff)} initializers differ "
                       f"(first: {diff[0]})")
    ext_model = onnx.load(out_ext, load_external_data=False)
    n_ext = sum(1 for t in ext_model.graph.initializer
                if t.data_location == TensorProto.EXTERNAL)
    if n_ext == 0:
        bad.append(f"{os.path.basename(out_ext)}: no initializer stored externally")

    # report
    ver = subprocess.run([ferry, "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"- Machine: {machine()}",
        f"- Ferry: {ver or '?'} (git {git_rev()}); Python {platform.python_version()}, "
        f"onnx {onnx.__version__}, numpy {np.__version__}",
        f"- Model: {shown(src)}: {file_size / 1e6:.1f} MB file, "
        f"{n_init} float32 initializers, {tbytes / 1e6:.1f} MB of tensor data "
        f"(external-data run: {n_ext} initializers >= {EXT_THRESHOLD} B moved out)",
        f"- Command: `{command_line()}`",
        f"- {args.runs} timed runs after 1 warm-up each; times are median / min; "
        f"GB/s = tensor bytes / median time (1 GB = 1e9 B); peak RSS = max ru_maxrss "
        f"over the runs; RSS/file = peak RSS / file size",
        "",
        "| what | median s | min s | GB/s | peak RSS MB | RSS/file |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for what, times, rss in rows:
        med = statistics.median(times)
        rss_s = f"{rss / 1e6:.0f}" if rss is not None else "—"
        ratio = f"{rss / file_size:.2f}" if rss is not None else "—"
        lines.append(f"| {what} | {med:.3f} | {min(times):.3f} | {tbytes / med / 1e9:.2f} "
                     f"| {rss_s} | {ratio} |")
    net = py_rss - base_rss
    lines.append(f"| python `import onnx` only (baseline) | — | — | — "
                 f"| {base_rss / 1e6:.0f} | — |")
    lines += [
        "",
        f"Python peak RSS net of the interpreter + `import onnx` baseline: "
        f"{net / 1e6:.0f} MB ({net / file_size:.2f}x the file).",
    ]
    if bad:
        lines += ["", "**Output check FAILED:**"] + [f"- {b}" for b in bad]
    else:
        lines += ["", "Output check: Ferry's inline and external-data outputs and "
                  "Python's output load with onnx.load and hold identical initializer bytes."]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report)
    for p in (out_inline, out_ext, out_py, os.path.join(args.work, EXT_NAME)):
        try:
            os.remove(p)
        except FileNotFoundError:
            pass
    if bad:
        print("bench_io: output check failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
