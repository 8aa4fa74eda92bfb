#!/usr/bin/env python3
"""Runs an ONNX model in onnxruntime on a Keras fixture's inputs and compares with Keras's outputs.

    compare_keras.py MODEL.onnx Fixtures/keras/NAME

NAME.input_K.npy are the inputs and NAME.output_K.npy the outputs Keras computed. Exit 1 when an
output differs by more than 1e-5 relative to its largest magnitude."""
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import ort_session  # noqa: E402


def main() -> int:
    model, prefix = sys.argv[1], sys.argv[2]
    sess = ort_session(model)
    inputs = [np.load(p) for p in sorted(glob.glob(prefix + ".input_*.npy"))]
    expected = [np.load(p) for p in sorted(glob.glob(prefix + ".output_*.npy"))]
    got = sess.run(None, {i.name: x.astype(np.float32) for i, x in zip(sess.get_inputs(), inputs)})
    ok = True
    for o, g, e in zip(sess.get_outputs(), got, expected):
        rel = float(np.max(np.abs(g - e)) / max(float(np.max(np.abs(e))), 1e-12))
        print(f"{o.name}: shape {list(g.shape)}  max relative difference to Keras {rel:.2e}  "
              f"argmax agrees on {np.mean(g.argmax(-1) == e.argmax(-1)) * 100:.0f}% of {len(g)} samples")
        ok = ok and rel <= 1e-5
    print("same outputs as Keras" if ok else "OUTPUTS DIFFER FROM KERAS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
