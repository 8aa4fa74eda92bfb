#!/usr/bin/env python3
"""Writes the fixtures of the `ferry run` / `ferry bench` end-to-end tests: an input for
Fixtures/onnx/valid/small_cnn.onnx and onnxruntime's output for it (the reference), plus a NumPy
object array that `ferry run` must refuse without unpickling it."""
import os

import numpy as np
import onnxruntime as ort

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Fixtures", "cli")


def main():
    model = os.path.join(ROOT, "Fixtures", "onnx", "valid", "small_cnn.onnx")
    x = np.random.default_rng(20261123).standard_normal((1, 1, 16, 16)).astype(np.float32)
    np.save(os.path.join(OUT, "small_cnn.input.npy"), x)
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"input": x})
    np.save(os.path.join(OUT, "small_cnn.ort_output.npy"), y)
    np.savez(os.path.join(OUT, "small_cnn.inputs.npz"), input=x)
    np.save(os.path.join(OUT, "object_array.npy"), np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(os.path.join(OUT, "float64_input.npy"), x.astype(np.float64))
    print("wrote run fixtures to", OUT)


if __name__ == "__main__":
    main()
