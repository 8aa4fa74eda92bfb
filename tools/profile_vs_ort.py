#!/usr/bin/env python3
"""Compares where the time goes in Ferry and in onnxruntime on one model (issue 14's profile target).

    profile_vs_ort.py --ferry PATH_TO_FERRY MODEL.onnx [--inputs FEEDS.npz] [--threads 1] [--runs 20]
                      [--warmup 3] [--nodes 25]

Ferry: `ferry bench MODEL --profile --json` (per op type and per node, ms per run). onnxruntime: the
same inputs and threads with SessionOptions.enable_profiling, the events before the first timed
run dropped from the trace, summing the "_kernel_time" events per node and per op type. onnxruntime fuses and renames
nodes (FusedConv, QuickGelu for x*sigmoid(a*x), "_nchwc" copies, ReorderInput/Output for its
blocked layout), so op types are compared as families: SHARE_FAMILIES maps its kernels back to the
ONNX op whose work they do, and MatMul and Gemm to one family in both runtimes. Prints the op-type table (ms and share of the profiled total in both,
and Ferry's share / onnxruntime's share, which issue 14 wants <= 2 for every op type), then Ferry's
slowest nodes beside the onnxruntime node of the same name where one exists. Without --inputs,
MODEL with .npz instead of .onnx is used when present.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

# Op type (either runtime's) -> the family it is compared in: onnxruntime's fused and layout kernels
# go with the ONNX op whose work they do, and MatMul and Gemm are one family (either runtime turns
# one into the other when it fuses a bias).
SHARE_FAMILIES = {
    "FusedConv": "Conv",
    "NchwcConv": "Conv",
    "ReorderInput": "Conv",
    "ReorderOutput": "Conv",
    "MatMul": "MatMul/Gemm",
    "Gemm": "MatMul/Gemm",
    "FusedGemm": "MatMul/Gemm",
    "FusedMatMul": "MatMul/Gemm",
    "QuickGelu": "Mul",
    "BiasGelu": "Gelu",
    "FastGelu": "Gelu",
    "SkipLayerNormalization": "LayerNormalization",
    "SimplifiedLayerNormalization": "LayerNormalization",
    "NchwcMaxPool": "MaxPool",
    "NchwcAveragePool": "AveragePool",
    "NchwcGlobalAveragePool": "GlobalAveragePool",
    "NchwcUpsample": "Resize",
    "Upsample": "Resize",
}


def ferry_profile(ferry, model, feeds, threads, runs, warmup, folder):
    args = []
    for name, value in feeds.items():
        path = os.path.join(folder, f"input{len(args)}.npy")
        np.save(path, value)
        args += ["--input", f"{name}={path}"]
    cmd = [ferry, "bench", model, *args, "--threads", str(threads), "--runs", str(runs), "--warmup", str(warmup),
           "--profile", "--slowest", "100000", "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"ferry bench failed: {out.stderr.strip()}")
    profile = json.loads(out.stdout)["profile"]
    by_op = collections.Counter()
    for row in profile["op_types"]:
        by_op[SHARE_FAMILIES.get(row["op"], row["op"])] += row["ms"]
    by_node = {row["node"]: (row["op"], row["ms"]) for row in profile["slowest_nodes"]}
    return by_op, by_node


def ort_profile(model, feeds, threads, runs, warmup):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_profiling = True
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    for _ in range(warmup + runs):
        session.run(None, feeds)
    trace = session.end_profiling()
    events = json.load(open(trace))
    os.remove(trace)
    starts = sorted(e["ts"] for e in events if e.get("cat") == "Session" and e["name"] == "model_run")
    timed_from = starts[warmup] if len(starts) > warmup else 0
    by_op, by_node = collections.Counter(), collections.Counter()
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time") or e["ts"] < timed_from:
            continue
        ms = e["dur"] / 1000 / runs
        op = e["args"].get("op_name", "?")
        by_op[SHARE_FAMILIES.get(op, op)] += ms
        node = e["name"][: -len("_kernel_time")].removesuffix("_nchwc").removesuffix("_output_0")
        by_node[node] += ms
    return by_op, by_node


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ferry", required=True)
    parser.add_argument("model")
    parser.add_argument("--inputs")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=25)
    args = parser.parse_args()
    feeds = dict(np.load(args.inputs or args.model.removesuffix(".onnx") + ".npz"))
    with tempfile.TemporaryDirectory() as folder:
        f_op, f_node = ferry_profile(args.ferry, args.model, feeds, args.threads, args.runs, args.warmup, folder)
    o_op, o_node = ort_profile(args.model, feeds, args.threads, args.runs, args.warmup)
    f_total, o_total = sum(f_op.values()), sum(o_op.values())
    print(f"{os.path.basename(args.model)}, {args.threads} thread(s), {args.runs} runs: "
          f"profiled total Ferry {f_total:.2f} ms, onnxruntime {o_total:.2f} ms")
    print(f"{'op type':28} {'Ferry ms':>9} {'share':>6} {'ORT ms':>9} {'share':>6} {'share ratio':>11}")
    worst = 0.0
    for op in sorted(set(f_op) | set(o_op), key=lambda k: -max(f_op.get(k, 0), o_op.get(k, 0))):
        fs, os_ = f_op.get(op, 0) / f_total, o_op.get(op, 0) / o_total
        ratio = fs / os_ if os_ > 0 else float("inf") if fs > 0 else 0
        if fs >= 0.01:
            worst = max(worst, ratio)
        print(f"{op:28} {f_op.get(op, 0):9.3f} {100 * fs:5.1f}% {o_op.get(op, 0):9.3f} {100 * os_:5.1f}% {ratio:11.2f}")
    print(f"largest share ratio among op types with >= 1% of Ferry's time: {worst:.2f}")
    print(f"\nslowest Ferry nodes (ms per run) and the onnxruntime node of the same name:")
    for node, (op, ms) in sorted(f_node.items(), key=lambda kv: -kv[1][1])[: args.nodes]:
        other = o_node.get(node)
        shown = f"{other:8.3f}  {ms / other:5.2f}x" if other else "       -"
        print(f"  {ms:8.3f} {shown}  {node} ({op})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
