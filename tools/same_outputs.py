#!/usr/bin/env python3
"""Shows that two Ferry builds compute the same bytes: the check behind a change meant to keep behaviour.

    same_outputs.py --base OLD_FERRY --new NEW_FERRY [--shared DIR] [--isa best,avx2,portable] [--only TEXT]

Runs both binaries on every model of Fixtures/ (ONNX and Keras), the onnx package's light model zoo
and DIR/models/*.onnx (../shared by default; skipped when absent), on the seeded random inputs of
`ferry run --seed 0`, once per FERRY_ISA level, and compares every output file byte for byte. It also
writes `ferry optimize` and `ferry quantize` (weights, dynamic, and static on random calibration
samples) of each ONNX model with both and compares the files byte for byte. A model the base refuses
must be refused by the new build with the same message. One line per difference, then
`N models identical, M differences`; exit 1 on a difference.
"""
import argparse
import filecmp
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
TIMEOUT = 600


def models(shared):
    """(label, path) of every model the comparison runs."""
    found = sorted(glob.glob(os.path.join(ROOT, "Fixtures", "**", "*.onnx"), recursive=True))
    found += sorted(glob.glob(os.path.join(ROOT, "Fixtures", "keras", "*.h5")))
    found += sorted(glob.glob(os.path.join(ROOT, "Fixtures", "keras", "*.keras")))
    found += sorted(glob.glob(os.path.join(LIGHT, "*.onnx")))
    if shared and os.path.isdir(os.path.join(shared, "models")):
        found += sorted(glob.glob(os.path.join(shared, "models", "*.onnx")))
    return [(os.path.relpath(p, ROOT) if p.startswith(ROOT) else os.path.basename(p), p) for p in found]


def invoke(ferry, argv, isa, side_folder):
    """Runs ferry; returns (exit code, first stderr line with `side_folder`, the folder of this
    build's outputs, written as OUT so that the two builds' messages compare)."""
    env = dict(os.environ, FERRY_ISA=isa)
    try:
        p = subprocess.run([ferry, *argv], capture_output=True, text=True, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return -1, "timed out"
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    return p.returncode, (lines[0].replace(side_folder, "OUT") if lines else "")


def same_tree(a, b):
    """The names of files that differ between two output folders (missing ones included)."""
    names = sorted(set(os.listdir(a)) | set(os.listdir(b))) if os.path.isdir(a) and os.path.isdir(b) else []
    return [n for n in names if not (os.path.exists(os.path.join(a, n)) and os.path.exists(os.path.join(b, n))
                                     and filecmp.cmp(os.path.join(a, n), os.path.join(b, n), shallow=False))]


def calibration(model_path, folder):
    """Four seeded random samples for a static quantization of an ONNX model (open dims 1); None
    when the onnx package cannot read the file (the hostile fixtures)."""
    try:
        model = onnx.load(model_path, load_external_data=False)
    except Exception:  # noqa: BLE001 - any refusal means the file has no samples
        return None
    inits = {t.name for t in model.graph.initializer}
    inputs = [vi for vi in model.graph.input if vi.name not in inits]
    os.makedirs(folder, exist_ok=True)
    rs = np.random.RandomState(0)
    for k in range(4):
        feeds = {}
        for vi in inputs:
            tt = vi.type.tensor_type
            dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)
            shape = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in tt.shape.dim]
            feeds[vi.name] = (rs.uniform(-1, 1, shape) if np.issubdtype(dtype, np.floating) else rs.randint(0, 3, shape)).astype(dtype)
        np.savez(os.path.join(folder, f"sample_{k}.npz"), **feeds)
    return folder


def compare(label, jobs, binaries, isa, work):
    """Runs each (name, argv builder, output path) job with both binaries; returns difference lines."""
    problems = []
    for name, argv, output in jobs:
        results = []
        for side, ferry in binaries.items():
            folder = os.path.join(work, side, name)
            out = os.path.join(folder, output)
            os.makedirs(folder, exist_ok=True)
            results.append((invoke(ferry, argv(out), isa, folder), out))
        (code_a, msg_a), out_a = results[0]
        (code_b, msg_b), out_b = results[1]
        if code_a != code_b or (code_a != 0 and msg_a != msg_b):
            problems.append(f"{label} {name} [{isa}]: base exit {code_a} ({msg_a[:120]}), new exit {code_b} ({msg_b[:120]})")
        elif code_a == 0:
            if not os.path.exists(out_a) or not os.path.exists(out_b):
                differing = [] if os.path.exists(out_a) == os.path.exists(out_b) else [f"{output} (written by one build only)"]
            elif os.path.isdir(out_a):
                differing = same_tree(out_a, out_b)
            else:
                differing = [] if filecmp.cmp(out_a, out_b, shallow=False) else [os.path.basename(out_a)]
            if differing:
                problems.append(f"{label} {name} [{isa}]: differs in {', '.join(differing[:5])}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"))
    ap.add_argument("--isa", default="best,avx2,portable")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    binaries = {"base": os.path.abspath(args.base), "new": os.path.abspath(args.new)}
    identical, problems = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (label, path) in enumerate(models(args.shared)):
            if args.only not in label:
                continue
            work = os.path.join(tmp, str(index))
            jobs = [("run", lambda out, p=path: ["run", p, "--seed", "0", "--threads", "1", "--output-dir", out, "--force"], "out")]
            if path.endswith(".onnx"):
                cal = calibration(path, os.path.join(work, "calibration"))
                jobs += [("optimize", lambda out, p=path: ["optimize", p, out], "optimized.onnx")]
                jobs += [(f"quantize-{mode}", lambda out, p=path, m=mode: ["quantize", p, out, "--mode", m], "q.onnx")
                         for mode in ("weights", "dynamic")]
                if cal:
                    jobs += [("quantize-static", lambda out, p=path, c=cal: ["quantize", p, out, "--calibrate", c], "q.onnx")]
            isas = args.isa.split(",")
            found = compare(label, jobs, binaries, isas[0], work)
            for isa in isas[1:]:
                found += compare(label, jobs[:1], binaries, isa, os.path.join(work, isa))
            for line in found:
                print(line, flush=True)
            problems += found
            identical += 1 if not found else 0
            if not found:
                print(f"{label}: identical", flush=True)
    print(f"{identical} models identical, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
