#!/usr/bin/env python3
"""Benchmark reading a Keras model from each of its file forms: `ferry convert` of the same model
saved as a Keras 3 `.keras` archive, a Keras 3 legacy `.h5` and a tf.keras `.h5`.

    bench_keras_formats.py --ferry PATH [--runs N] [--models NASNetMobile DenseNet121 ...]
                           [--work DIR] [--markdown FILE]

Each model is a keras.applications architecture built with weights=None and seeded random
values for every variable (tools/make_keras_fixtures.py's `randomize`), the same values in both
Kerases; files are cached in the work dir (default .build/bench-keras-formats/). Every run is a
fresh `ferry convert FILE OUT.onnx` process (wall time, start-up included) after one warm-up run;
reports the median and minimum and each form's median over the legacy .h5's (Keras 3 twin).
The converted outputs are checked once against Keras 3's predict() (1e-5 relative); exit 1 if
that fails. A benchmark, not a test: the figures are not judged against targets.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchutil import command_line, git_rev, machine  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(name: str, work: str) -> dict:
    """The model's three files (built once), and an input with Keras 3's outputs for it."""
    import numpy as np
    import keras_live  # noqa: F401 - sets up TensorFlow quietly
    from keras_live import keras, tf_keras
    from make_keras_fixtures import clear_sessions, randomize, seed_of
    paths = {form: os.path.join(work, f"{name}{suffix}") for form, suffix in
             (("keras 3 .h5", ".k3.h5"), ("keras 3 .keras", ".keras"), ("tf.keras .h5", ".tf.h5"))}
    reference = os.path.join(work, f"{name}.reference.npz")
    if not all(os.path.exists(p) for p in list(paths.values()) + [reference]):
        seed = seed_of(name)
        clear_sessions(seed)
        m3 = getattr(keras.applications, name)(weights=None)
        randomize(m3, seed)
        m3.save(paths["keras 3 .keras"])
        m3.save(paths["keras 3 .h5"])
        m2 = getattr(tf_keras.applications, name)(weights=None)
        m2.set_weights(m3.get_weights())
        m2.save(paths["tf.keras .h5"], save_format="h5")
        x = np.random.RandomState(seed).uniform(-1, 1, (1,) + tuple(m3.input_shape[1:])).astype(np.float32)
        np.savez(reference, x=x, y=np.asarray(m3.predict(x, verbose=0)))
    return paths, reference


def timed(ferry: str, src: str, out: str) -> float:
    start = time.perf_counter()
    subprocess.run([ferry, "convert", src, out, "--force"], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--models", nargs="*", default=["NASNetMobile", "DenseNet121"])
    ap.add_argument("--work", default=os.path.join(ROOT, ".build", "bench-keras-formats"))
    ap.add_argument("--markdown")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    import numpy as np
    import onnxruntime as ort

    lines = [f"Ferry {git_rev()}, {machine()}, `{command_line()}`", "",
             "| model | file | size MB | median s | min s | / .h5 (Keras 3) |", "|---|---|---:|---:|---:|---:|"]
    ok = True
    for name in args.models:
        paths, reference = build(name, args.work)
        out = os.path.join(args.work, name + ".onnx")
        medians = {}
        for form, path in paths.items():
            timed(args.ferry, path, out)
            times = sorted(timed(args.ferry, path, out) for _ in range(args.runs))
            medians[form] = statistics.median(times)
            if form == "keras 3 .keras":
                ref = np.load(reference)
                sess = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
                got = sess.run(None, {sess.get_inputs()[0].name: ref["x"]})[0]
                err = float(np.abs(got - ref["y"]).max() / max(float(np.abs(ref["y"]).max()), 1e-12))
                ok = ok and err <= 1e-5
                print(f"{name}: the .keras conversion in onnxruntime is within {err:.1e} of Keras 3")
            lines.append(f"| {name} | {form} | {os.path.getsize(path) / 1e6:.1f} | {medians[form]:.3f} | {times[0]:.3f} | "
                         f"{medians[form] / medians['keras 3 .h5']:.2f} |")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
