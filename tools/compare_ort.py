#!/usr/bin/env python3
"""Runs two ONNX models in onnxruntime on the same inputs and prints the difference per output.

    compare_ort.py A.onnx B.onnx

Inputs are the deterministic ones tools/interop_onnx.py uses. Exit 1 if an output differs in
shape or dtype, or by more than --tolerance (absolute, default 0: bit-identical)."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_onnx import make_inputs, session  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tolerance", type=float, default=0.0)
    args = ap.parse_args()
    sa, sb = session(args.a), session(args.b)
    feeds = make_inputs(sa)
    names = [o.name for o in sa.get_outputs()]
    outs_a, outs_b = sa.run(None, feeds), sb.run(None, feeds)
    ok = True
    for name, x, y in zip(names, outs_a, outs_b):
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != y.shape or x.dtype != y.dtype:
            print(f"{name}: shape/dtype differ: {x.shape} {x.dtype} vs {y.shape} {y.dtype}")
            ok = False
            continue
        identical = x.tobytes() == y.tobytes()
        diff = float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))) if x.size else 0.0
        print(f"{name}: shape {list(x.shape)} {x.dtype}  max |a-b| = {diff:.3g}  {'bit-identical' if identical else ''}")
        ok = ok and (identical or diff <= args.tolerance)
    print("same outputs" if ok else "OUTPUTS DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
