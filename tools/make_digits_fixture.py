#!/usr/bin/env python3
"""Train the digits CNN fixture (Fixtures/digits/) on scikit-learn's bundled digits dataset.

The 1797 8x8 grayscale digits of sklearn.datasets.load_digits (values 0..16, scaled to [0, 1])
are split once, stratified by class with a fixed seed, into a training set, a calibration set
kept apart from training (for post-training quantization) and a test set. A small CNN is trained
with tf_keras on one thread with fixed seeds, so every run writes the same weights; the model is
saved as a legacy tf_keras HDF5 file like the other Keras fixtures (tools/make_keras_fixtures.py).

    python tools/make_digits_fixture.py              # writes Fixtures/digits/
    python tools/make_digits_fixture.py --out DIR

Needs tools/requirements-keras.txt (scikit-learn is there for this script).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
# oneDNN picks kernels by CPU features; the plain Eigen kernels give the same numbers everywhere.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import warnings  # noqa: E402

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

tf.get_logger().setLevel("ERROR")
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
tf.config.experimental.enable_op_determinism()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fixtures", "digits")
SEED = 20240611
TEST_SIZE = 360
CALIBRATION_SIZE = 200
CALIBRATION_BATCH = 50
EPOCHS = 40
BATCH = 32
MIN_TEST_ACCURACY = 0.97
MAX_FOLDER_BYTES = 300_000


def split_digits():
    """(train, calibration, test) as (x float32 [N,8,8,1] in [0,1], y int64 [N]) pairs."""
    data = load_digits()
    x = (data.images.astype(np.float32) / 16.0)[..., None]
    y = data.target.astype(np.int64)
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, stratify=y, random_state=SEED)
    x_train, x_cal, y_train, y_cal = train_test_split(
        x_rest, y_rest, test_size=CALIBRATION_SIZE, stratify=y_rest, random_state=SEED + 1)
    return (x_train, y_train), (x_cal, y_cal), (x_test, y_test)


def build_model():
    """The small CNN: 8x8x1 -> 10 class probabilities."""
    L = tf_keras.layers
    return tf_keras.Sequential([
        tf_keras.Input((8, 8, 1), name="image"),
        L.Conv2D(16, 3, padding="same", name="conv1"),
        L.BatchNormalization(name="bn1"),
        L.ReLU(name="relu1"),
        L.Conv2D(32, 3, activation="relu", name="conv2"),
        L.MaxPooling2D(2, name="pool"),
        L.Conv2D(16, 3, padding="same", activation="relu", name="conv3"),
        L.Flatten(name="flatten"),
        L.Dense(32, activation="relu", name="fc1"),
        L.Dropout(0.2, name="dropout"),
        L.Dense(10, activation="softmax", name="probs"),
    ], name="digits_cnn")


def train(x, y):
    tf_keras.backend.clear_session()
    tf_keras.utils.set_random_seed(SEED)
    model = build_model()
    model.compile(optimizer=tf_keras.optimizers.Adam(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=EPOCHS, batch_size=BATCH, shuffle=True, verbose=0)
    return model


def predict(model, x) -> np.ndarray:
    return model.predict(x, batch_size=256, verbose=0).astype(np.float32)


def folder_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


README = """# Digits CNN fixture

A small CNN trained on scikit-learn's bundled digits dataset (`sklearn.datasets.load_digits`:
1797 8x8 grayscale images, values 0..16 scaled to [0, 1]), for judging quantization and pruning
on a model with a real accuracy. Written by `tools/make_digits_fixture.py` (do not edit by hand;
change the script and regenerate):

```sh
TF_CPP_MIN_LOG_LEVEL=3 CUDA_VISIBLE_DEVICES= .venv/bin/python tools/make_digits_fixture.py
```

with the stack of `tools/requirements-keras.txt` (tensorflow-cpu 2.21, tf_keras 2.21,
scikit-learn {sklearn}). Training runs on one thread with fixed seeds (seed {seed}) and op
determinism, so the weights and every `.npy` come out the same on each run.

## Split

Stratified by class, fixed seeds (`sklearn.model_selection.train_test_split`): {n_test} test
images, then {n_cal} calibration images taken from the rest and kept out of training, and
{n_train} training images.

## Model

`conv1` Conv2D(16, 3x3, same) - `bn1` BatchNormalization - ReLU - `conv2` Conv2D(32, 3x3, valid,
relu) - MaxPooling2D(2) - `conv3` Conv2D(16, 3x3, same, relu) - Flatten -
`fc1` Dense(32, relu) - Dropout(0.2) - `probs` Dense(10, softmax). {params} parameters. Trained
{epochs} epochs with Adam (batch {batch}).

Keras (tf_keras) test accuracy: **{acc:.2f}%** ({correct} of {n_test}).

## Files

| file | what |
|---|---|
| `digits_cnn.h5` | the model, tf_keras `model.save(..., save_format="h5", include_optimizer=False)` (legacy full model, no optimizer state); input `image` float32 [N, 8, 8, 1] (NHWC), output float32 [N, 10] probabilities |
| `test_x.npy` | the test images, float32 [{n_test}, 8, 8, 1] in [0, 1] |
| `test_y.npy` | their labels, int64 [{n_test}] |
| `keras_test_probs.npy` | tf_keras `predict` on `test_x`, float32 [{n_test}, 10] |
| `calibration/batch_K.npy` | the calibration images, float32 [{cal_batch}, 8, 8, 1] each ({n_cal_files} files): the folder form `ferry quantize --calibrate DIR` reads |
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args(argv)
    out = os.path.abspath(args.out)

    (x_train, y_train), (x_cal, y_cal), (x_test, y_test) = split_digits()
    model = train(x_train, y_train)
    probs = predict(model, x_test)
    correct = int(np.sum(probs.argmax(-1) == y_test))
    acc = correct / len(y_test)
    train_acc = float(np.mean(predict(model, x_train).argmax(-1) == y_train))
    cal_acc = float(np.mean(predict(model, x_cal).argmax(-1) == y_cal))
    print(f"train {len(y_train)}  calibration {len(y_cal)}  test {len(y_test)}")
    print(f"accuracy: train {train_acc * 100:.2f}%  calibration {cal_acc * 100:.2f}%  "
          f"test {acc * 100:.2f}% ({correct}/{len(y_test)})")
    if acc < MIN_TEST_ACCURACY:
        raise SystemExit(f"test accuracy {acc * 100:.2f}% is below {MIN_TEST_ACCURACY * 100:.0f}%")

    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, "calibration"))
    h5 = os.path.join(out, "digits_cnn.h5")
    model.save(h5, save_format="h5", include_optimizer=False)
    back = tf_keras.models.load_model(h5, compile=False)
    if not np.allclose(predict(back, x_test), probs, rtol=1e-6, atol=1e-7):
        raise SystemExit("tf_keras reload of digits_cnn.h5 differs")

    np.save(os.path.join(out, "test_x.npy"), x_test)
    np.save(os.path.join(out, "test_y.npy"), y_test)
    np.save(os.path.join(out, "keras_test_probs.npy"), probs)
    batches = range(0, len(x_cal), CALIBRATION_BATCH)
    for k, start in enumerate(batches):
        np.save(os.path.join(out, "calibration", f"batch_{k}.npy"),
                x_cal[start:start + CALIBRATION_BATCH])

    import sklearn

    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(README.format(sklearn=sklearn.__version__, seed=SEED, n_test=len(y_test),
                              n_cal=len(y_cal), n_train=len(y_train),
                              params=model.count_params(), epochs=EPOCHS, batch=BATCH,
                              acc=acc * 100, correct=correct, cal_batch=CALIBRATION_BATCH,
                              n_cal_files=len(batches)))
    size = folder_size(out)
    print(f"wrote {out} ({size / 1e3:.0f} KB)")
    if size > MAX_FOLDER_BYTES:
        raise SystemExit(f"{out} is {size} bytes, over {MAX_FOLDER_BYTES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
