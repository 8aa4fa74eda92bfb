#!/usr/bin/env python3
"""4-bit weights against float32, in Ferry and onnxruntime, on a BERT/MiniLM-shaped encoder.

    bench_nbits.py --ferry PATH_TO_RELEASE_FERRY [--work DIR] [--threads 1,2] [--rounds 3] [--isa best,avx2]

Builds the encoder of tools/interop_nbits.py with 6 layers (hidden 384, 6 heads, FFN 1536, random
weights) for 1 token and for 128 tokens, quantizes it with `ferry quantize --mode weights --bits 4
--block-size 32` (MatMulNBits; "4-bit int8" rows add --int8-activations, accuracy_level 4), and
times the float32 and 4-bit files at batch 1: `ferry bench`
(FERRY_ISA as given) and onnxruntime (CPU, its own threads setting), taking turns for `--rounds`
rounds; prints the best and the median of the rounds' medians (the machine's speed drifts, so
rounds alternate). Markdown table on stdout.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_nbits import encoder_model  # noqa: E402


def ferry_median(ferry, model, seq, threads, isa, runs):
    env = dict(os.environ, FERRY_ISA=isa)
    p = subprocess.run([ferry, "bench", model, "--shape", f"x=1,{seq},384", "--threads", str(threads), "--runs", str(runs),
                        "--warmup", "3", "--json"], capture_output=True, text=True, env=env, check=True)
    return json.loads(p.stdout)["latency_ms"]["median"]


def ort_median(model, seq, threads, runs):
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads, so.log_severity_level = threads, 1, 3
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    x = {"x": np.random.RandomState(0).uniform(-1, 1, (1, seq, 384)).astype(np.float32)}
    for _ in range(3):
        s.run(None, x)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        s.run(None, x)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--work")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--isa", default="best,avx2")
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="ferry-bench-nbits-")
    os.makedirs(work, exist_ok=True)
    print("| tokens | threads | engine | float32 ms best (median) | 4-bit ms best (median) | 4-bit / float32 "
          "| 4-bit int8 ms best (median) | 4-bit int8 / float32 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for seq in (1, 128):
        f32 = encoder_model(os.path.join(work, f"encoder_{seq}.onnx"), np.random.RandomState(0), layers=6, seq=seq)
        q4 = os.path.join(work, f"encoder_{seq}_q4.onnx")
        i8 = os.path.join(work, f"encoder_{seq}_q4_int8.onnx")
        for path, extra in ((q4, []), (i8, ["--int8-activations"])):
            subprocess.run([args.ferry, "quantize", f32, path, "--mode", "weights", "--bits", "4", "--block-size", "32",
                            "--force", *extra], check=True, capture_output=True)
        runs = 200 if seq == 1 else 10
        for threads in map(int, args.threads.split(",")):
            engines = [(f"Ferry ({isa})", lambda m, isa=isa: ferry_median(args.ferry, m, seq, threads, isa, runs))
                       for isa in args.isa.split(",")] + [("onnxruntime", lambda m: ort_median(m, seq, threads, runs))]
            times = {(e, m): [] for e, _ in engines for m in (f32, q4, i8)}
            for _ in range(args.rounds):
                for e, fn in engines:
                    for m in (f32, q4, i8):
                        times[(e, m)].append(fn(m))
            for e, _ in engines:
                a, b, c = times[(e, f32)], times[(e, q4)], times[(e, i8)]
                print(f"| {seq} | {threads} | {e} | {min(a):.3f} ({statistics.median(a):.3f}) | {min(b):.3f} "
                      f"({statistics.median(b):.3f}) | {statistics.median(b) / statistics.median(a):.2f} | {min(c):.3f} "
                      f"({statistics.median(c):.3f}) | {statistics.median(c) / statistics.median(a):.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
