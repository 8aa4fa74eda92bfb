#!/usr/bin/env python3
"""keras.applications architectures through Ferry, against Keras's own outputs.

    check_keras_applications.py --ferry PATH_TO_FERRY [--all] [--only NAME ...] [--no-export] [--work DIR]

Each architecture is built with weights=None and seeded random values for every variable
(batch-normalization statistics included; tools/make_keras_fixtures.py's `randomize`), with
classes=10 and the smallest input its builder accepts, in tf.keras (saved as .h5) and in Keras 3
(saved as .keras); RegNet and ResNetRS exist in tf.keras only. Each file goes through
tools/keras_live.py's trip: `ferry convert` to ONNX, onnx.checker, onnxruntime against the
outputs of the Keras that built it (relative error <= 1e-5), no Transpose feeding a Transpose,
then `ferry convert` back to .h5, loaded in tf.keras and Keras 3 with the same numbers.

By default one architecture per family (the smallest: every family's variants differ only in
widths and repeat counts, not in layer types), which `make test` runs; --all takes every
architecture keras.applications has (71 in tf.keras, 40 in Keras 3), some of several hundred
million parameters: minutes each.
Prints one line per check and `N passed, M failed`; exit 1 on a failure.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_live  # noqa: E402 - loads TensorFlow, tf.keras and Keras 3
from checks import Checks, Failure  # noqa: E402
from keras_live import Case, keras, tf_keras  # noqa: E402

# The smallest input side each family's builder accepts (32 for the rest).
MIN_SIDE = {"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71}
# One per family: its smallest variant.
FAMILIES = ["ConvNeXtTiny", "DenseNet121", "EfficientNetB0", "EfficientNetV2B0", "InceptionResNetV2", "InceptionV3",
            "MobileNet", "MobileNetV2", "MobileNetV3Small", "NASNetMobile", "ResNet50", "ResNet50V2",
            "VGG16", "Xception", "RegNetX002", "RegNetY002", "ResNetRS50"]


def builder(name):
    def build(k):
        side = MIN_SIDE.get(name, 32)
        return getattr(k.applications, name)(weights=None, input_shape=(side, side, 3), classes=10)
    return build


def architectures(every: bool, only):
    tf_names = sorted(n for n in dir(tf_keras.applications) if n[:1].isupper())
    k3_names = set(n for n in dir(keras.applications) if n[:1].isupper())
    names = only or (tf_names if every else FAMILIES)
    for name in names:
        dialects = tuple(d for d in ("tf.keras .h5", "keras 3 .keras") if d.startswith("tf.keras") or name in k3_names)
        yield Case(name, builder(name), dialects=dialects)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--all", action="store_true", help="every architecture, not one per family")
    ap.add_argument("--only", nargs="*", help="these architectures")
    ap.add_argument("--no-export", action="store_true", help="skip writing the ONNX files back to .h5")
    ap.add_argument("--work")
    args = ap.parse_args()
    binary = os.path.abspath(args.ferry)
    work = args.work or tempfile.mkdtemp(prefix="ferry-applications-")
    os.makedirs(work, exist_ok=True)

    def convert(src, dst):
        r = subprocess.run([binary, "convert", src, dst, "--force"], capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise Failure(f"ferry convert exited {r.returncode}: {r.stderr.strip()[:300]}")

    checks = Checks(width=36)
    for case in architectures(args.all, args.only):
        case.export = not args.no_export
        for dialect in case.dialects:
            folder = os.path.join(work, f"{case.name}.{dialect.split()[0]}")
            os.makedirs(folder, exist_ok=True)
            checks.run(f"{case.name} ({dialect})", lambda: keras_live.check_case(convert, case, dialect, folder))
            if not args.work:
                shutil.rmtree(folder, ignore_errors=True)
    return checks.finish(work, keep_work=bool(args.work))


if __name__ == "__main__":
    sys.exit(main())
