#!/usr/bin/env python3
"""Reading a PyTorch checkpoint: Ferry beside torch.load, on a checkpoint of about 500 MB.

    bench_torch.py --ferry PATH [--megabytes 500] [--rounds 5] [--work DIR]

Writes a state_dict of float32, float16 and int64 tensors with torch.save (zip format) and times,
medians of --rounds runs (the file stays in the page cache: these are reading speeds, not disk's):
  ferry inspect ckpt.pt                  the archive directory, the pickle, every tensor viewed
  ferry convert ckpt.pt out.safetensors  the above and the whole file written again
  ferry convert out.safetensors again.safetensors   the same writing from safetensors (the writer's share)
  ferry convert out.safetensors back.pt  writing a checkpoint (CRC-32 of every member included)
  torch.load(ckpt)                       torch itself, copying every storage (in-process, no start-up)
  torch.load(ckpt, mmap=True)            torch mapping the storages
Ferry's times include starting the process. Prints a Markdown table for BENCHMARKS.md.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchutil import command_line, git_rev, machine  # noqa: E402


def median_seconds(run, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--megabytes", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--work")
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        torch.manual_seed(0)
        state, total, k = {}, 0, 0
        while total < args.megabytes * 1_000_000:
            state[f"layer{k}.weight"] = torch.randn(2048, 2048)
            state[f"layer{k}.half"] = torch.randn(1024, 1024).half()
            state[f"layer{k}.bias"] = torch.randn(2048)
            state[f"layer{k}.steps"] = torch.tensor(k)
            total += 2048 * 2048 * 4 + 1024 * 1024 * 2 + 2048 * 4 + 8
            k += 1
        ckpt, out = os.path.join(work, "ckpt.pt"), os.path.join(work, "out.safetensors")
        torch.save(state, ckpt)
        size = os.path.getsize(ckpt)

        def ferry(*argv):
            subprocess.run([args.ferry, *argv], check=True, capture_output=True)

        rows = [
            ("ferry inspect", median_seconds(lambda: ferry("inspect", ckpt), args.rounds)),
            ("ferry convert to safetensors", median_seconds(lambda: ferry("convert", ckpt, out, "--force"), args.rounds)),
            ("ferry convert safetensors to safetensors", median_seconds(
                lambda: ferry("convert", out, os.path.join(work, "again.safetensors"), "--force"), args.rounds)),
            ("ferry convert safetensors to .pt", median_seconds(
                lambda: ferry("convert", out, os.path.join(work, "back.pt"), "--force"), args.rounds)),
            ("torch.load", median_seconds(lambda: torch.load(ckpt, weights_only=True), args.rounds)),
            ("torch.load(mmap=True)", median_seconds(lambda: torch.load(ckpt, weights_only=True, mmap=True), args.rounds)),
        ]
    print(f"machine: {machine()}; ferry {git_rev()}; torch {torch.__version__}")
    print(f"command: {command_line()}")
    print(f"checkpoint: {len(state)} tensors, {size / 1e6:.0f} MB\n")
    print("| reader | median time | speed |")
    print("| --- | --- | --- |")
    for name, t in rows:
        print(f"| {name} | {t * 1000:.0f} ms | {size / t / 1e9:.2f} GB/s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
