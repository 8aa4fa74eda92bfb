#!/usr/bin/env python3
"""A small trained MobileNetV3 classifier and photo sets for judging calibration.

Trains Keras Applications' MobileNetV3Small (hard-swish, squeeze-and-excitation with hard-sigmoid,
3x3 and 5x5 depthwise convolutions, BatchNormalization; alpha 0.75, 64x64 RGB, random seeded
initial weights) to tell how a photo crop was degraded (as is, blurred, noisy or pixelated), on
crops of photos bundled inside the scikit-image wheel (nothing is downloaded). The task carries
over to photos the model never saw (about 90% right on them), so its top-1 answers there mean
something. Then writes:

    OUT/photo_classifier.keras   the trained model (Keras 3 file)
    OUT/calibration/batch_0.npy  8 crops of the training photos (new crops, fixed seed)
    OUT/validation/batch_0.npy   8 more such crops (for --validate)
    OUT/heldout24/batch_0.npy    24 crops of photos the model never saw
    OUT/heldout256/batch_K.npy   256 crops of those other photos, in batches of 32

Inputs are float32 NHWC [N, 64, 64, 3] in 0..255 (the model rescales them itself). The held-out
photos (chelsea, rocket, clock, moon, immunohistochemistry, gravel) are not among the training
photos.

    python tools/make_photo_classifier.py OUT [--steps 1000]

The same seeds give the same crops everywhere; training on another CPU may differ in the last
bits (oneDNN picks kernels by ISA), so checks built on this model compare quantized with float
outputs of the model at hand, never with numbers recorded elsewhere.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

SIZE = 64
TRAIN_PHOTOS = ["astronaut", "camera", "coffee", "coins", "brick", "hubble_deep_field", "retina",
                "colorwheel", "grass", "cell", "page", "text", "cat", "microaneurysms"]
HELDOUT_PHOTOS = ["chelsea", "rocket", "clock", "moon", "immunohistochemistry", "gravel"]
SEEDS = {"train": 11, "calibration": 1009, "validation": 4242, "heldout24": 2003, "heldout256": 3001}


def photo(name: str) -> np.ndarray:
    """A bundled photo as uint8 [H, W, 3] RGB."""
    import skimage.data

    img = getattr(skimage.data, name)()
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3])


def degrade(piece: np.ndarray, kind: int, rng: np.random.RandomState) -> np.ndarray:
    """The crop as class `kind` shows it: 0 as is, 1 blurred, 2 with sensor-like noise, 3
    pixelated (a quarter of the resolution, blown up again)."""
    from scipy.ndimage import gaussian_filter

    if kind == 1:
        return gaussian_filter(piece, sigma=(rng.uniform(1.0, 2.0),) * 2 + (0,))
    if kind == 2:
        return np.clip(piece + rng.normal(0, rng.uniform(8, 20), piece.shape), 0, 255)
    if kind == 3:
        return np.repeat(np.repeat(piece[::4, ::4], 4, 0), 4, 1)
    return piece


def crops(names: list[str], count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` square crops (side 25-80% of the photo's short side, resized to SIZE), degraded as
    class k, k cycling 0..3: float32 [count, SIZE, SIZE, 3] in 0..255 and the k's."""
    from skimage.transform import resize

    rng = np.random.RandomState(seed)
    photos = [photo(n) for n in names]
    x = np.empty((count, SIZE, SIZE, 3), np.float32)
    kinds = np.arange(count) % 4
    for i in range(count):
        img = photos[rng.randint(len(photos))]
        short = min(img.shape[:2])
        side = int(short * rng.uniform(0.25, 0.8))
        r0, c0 = rng.randint(img.shape[0] - side + 1), rng.randint(img.shape[1] - side + 1)
        piece = resize(img[r0:r0 + side, c0:c0 + side].astype(np.float32), (SIZE, SIZE), order=1,
                       anti_aliasing=True, preserve_range=True)
        x[i] = degrade(piece, kinds[i], rng)
    return x, kinds


def write_batches(x: np.ndarray, out: str, batch: int) -> None:
    os.makedirs(out, exist_ok=True)
    for k, start in enumerate(range(0, len(x), batch)):
        np.save(os.path.join(out, f"batch_{k}.npy"), x[start:start + batch])


def train(steps: int):
    """MobileNetV3Small trained for `steps` batches of 32 on degraded crops of TRAIN_PHOTOS."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up chatter
    import keras

    keras.utils.set_random_seed(SEEDS["train"])
    model = keras.applications.MobileNetV3Small(
        input_shape=(SIZE, SIZE, 3), alpha=0.75, weights=None, classes=4, dropout_rate=0.1,
        include_preprocessing=True)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9  # Applications' 0.999 needs far more steps to settle the statistics
    x, y = crops(TRAIN_PHOTOS, 3072, SEEDS["train"])
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(4e-3, steps)), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    epochs = max(1, steps * 32 // len(x))
    history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, shuffle=True)
    print("training accuracy by epoch:", " ".join(f"{a:.2f}" for a in history.history["accuracy"]))
    return model, model.evaluate(x, y, verbose=0, batch_size=64)[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=1000, help="training batches of 32 (default 1000)")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    model, accuracy = train(args.steps)
    model.save(os.path.join(args.out, "photo_classifier.keras"))
    sets = {"calibration": (TRAIN_PHOTOS, 8, 8), "validation": (TRAIN_PHOTOS, 8, 8), "heldout24": (HELDOUT_PHOTOS, 24, 24),
            "heldout256": (HELDOUT_PHOTOS, 256, 32)}
    for name, (names, count, batch) in sets.items():
        x, kinds = crops(names, count, SEEDS[name])
        write_batches(x, os.path.join(args.out, name), batch)
        right = (model.predict(x, verbose=0, batch_size=64).argmax(-1) == kinds).mean()
        print(f"{name}: {count} crops, the float model is right on {right * 100:.1f}%")
    print(f"trained MobileNetV3Small: {accuracy * 100:.1f}% on its training crops, "
          f"{time.time() - started:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
