#!/usr/bin/env python3
"""The float and int8 digits CNN side by side, for `make demo`.

    demo_digits.py FLOAT.onnx INT8.onnx FERRY_FLOAT_OUT.npy FERRY_INT8_OUT.npy

Prints, for both files, the accuracy on the 360 labelled test images of Fixtures/digits as Ferry's
interpreter computed it (the .npy outputs of `ferry run`) and as onnxruntime computes it, the file
sizes, and how often the int8 model keeps the float model's answer.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import ort_session  # noqa: E402

DIGITS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Fixtures", "digits")


def main() -> int:
    float_model, int8_model, ferry_float, ferry_int8 = sys.argv[1:5]
    x, y = np.load(os.path.join(DIGITS, "test_x.npy")), np.load(os.path.join(DIGITS, "test_y.npy"))
    ferry = {float_model: np.load(ferry_float), int8_model: np.load(ferry_int8)}
    print(f"{'model':32s} {'bytes':>8s} {'Ferry accuracy':>15s} {'onnxruntime accuracy':>21s}")
    for path in (float_model, int8_model):
        s = ort_session(path)
        o = s.run(None, {s.get_inputs()[0].name: x})[0]
        print(f"{os.path.basename(path):32s} {os.path.getsize(path):8d} {(ferry[path].argmax(1) == y).mean() * 100:14.2f}% "
              f"{(o.argmax(1) == y).mean() * 100:20.2f}%")
    same = (ferry[float_model].argmax(1) == ferry[int8_model].argmax(1)).mean() * 100
    print(f"int8 keeps the float model's answer on {same:.1f}% of the {len(y)} test images; "
          f"file {os.path.getsize(int8_model) / os.path.getsize(float_model):.2f}x the float one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
