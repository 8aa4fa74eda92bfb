#!/usr/bin/env python3
"""Real photo inputs for the PaddleOCR text-direction classifier (ch_ppocr_mobile_v2.0_cls_infer).

Crops of the sample photos bundled inside the scikit-image wheel (nothing is downloaded), made
the way PaddleOCR feeds its classifier: resized to height 48 keeping the aspect ratio (width
ceil(48 * w / h), squeezed to 192 only when wider), scaled to [-1, 1] and padded on the right with
zeros up to width 192, channels in OpenCV's BGR order (PaddleOCR reads images with cv2.imread; a
gray photo gives three equal channels). Every other crop of each region is turned 180 degrees, so
the text crops carry a known label (0 = upright, 1 = turned).

Two disjoint sets come from different photos, or from rows of the two text photos that do not
overlap:

    calibration   page.png rows 10-84 (the title and two lines), text.png's top line,
                  camera, astronaut, coffee, coins, brick
    evaluation    page.png rows 84-186 (three lines and a line of code), text.png's other two
                  lines, chelsea, rocket, clock, moon, immunohistochemistry, gravel

About two thirds of each set are text crops, the rest crops of the other photos. The crops are
drawn from a seeded generator: the same count gives the same arrays on every run.

    python tools/photo_inputs.py --out DIR --set calibration --count 64
    python tools/photo_inputs.py --out DIR --set evaluation --count 200 [--batch 16]

writes DIR/batch_K.npy, float32 [B, 3, 48, 192] each (the folder form of `ferry quantize
--calibrate DIR`), and prints how the float model (--model, default the shared copy) classifies
the set: class histogram, mean confidence, and agreement with the known turn on the text crops.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass

import numpy as np

HEIGHT, WIDTH = 48, 192
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.normpath(
    os.path.join(ROOT, "..", "shared", "models", "ch_ppocr_mobile_v2.0_cls_infer.onnx"))
SEEDS = {"calibration": 1009, "evaluation": 2003}
TEXT_SHARE = 2 / 3


Box = tuple[int, int, int, int]  # row0, row1, col0, col1 ([start, stop)); -1 = to the edge


@dataclass(frozen=True)
class Region:
    """Where in one bundled photo crops are drawn from.

    A crop lies inside one of `boxes`. A text line box is taken at its full height with 0-4
    extra rows above and below (never past the rows the region's boxes span), as a text
    detector would box the line; otherwise (`heights`
    given) a window of that many rows inside the box. The crop's width is its height times an
    aspect drawn from `aspects`. `degrees` turns the photo (counter-clockwise) before cropping,
    as PaddleOCR straightens a slanted text box before classifying it."""

    photo: str  # skimage.data function name
    boxes: tuple[Box, ...]
    aspects: tuple[float, float]
    text: bool
    heights: tuple[int, int] | None = None  # None: each box is a text line, taken whole
    degrees: float = 0.0


WHOLE: tuple[Box, ...] = ((0, -1, 0, -1),)
# page.png: a printed page photographed under uneven light; its lines with ascenders and
# descenders: the title and two lines of body text, then three more lines and a line of code.
PAGE_FIRST_LINES: tuple[Box, ...] = ((10, 35, 0, 300), (48, 65, 0, -1), (65, 84, 0, -1))
PAGE_OTHER_LINES: tuple[Box, ...] = ((84, 101, 0, -1), (101, 119, 0, -1), (119, 137, 0, 230),
                                     (168, 186, 0, 300))
# text.png: handwritten formulas on paper seen at a slant; turned 15 degrees its three lines are
# level: "(s) = 1 ... t" at the top right, "(t - x) e^2s" below it, "(s) = -1 ... t^n" at the
# bottom left.
TEXT_DEGREES = 15.0
TEXT_FIRST_LINE: tuple[Box, ...] = ((2, 50, 130, 440),)
TEXT_OTHER_LINES: tuple[Box, ...] = ((50, 95, 80, 300), (95, 160, 10, 300))


def _photo_regions(names: list[str]) -> list[Region]:
    return [Region(n, WHOLE, (1.0, 4.0), False, heights=(40, 160)) for n in names]


SETS = {
    "calibration": (
        [Region("page", PAGE_FIRST_LINES, (2.0, 8.0), True),
         Region("text", TEXT_FIRST_LINE, (1.5, 5.0), True, degrees=TEXT_DEGREES)],
        _photo_regions(["camera", "astronaut", "coffee", "coins", "brick"])),
    "evaluation": (
        [Region("page", PAGE_OTHER_LINES, (2.0, 8.0), True),
         Region("text", TEXT_OTHER_LINES, (1.5, 5.0), True, degrees=TEXT_DEGREES)],
        _photo_regions(["chelsea", "rocket", "clock", "moon", "immunohistochemistry", "gravel"])),
}


@dataclass(frozen=True)
class Crop:
    """Where one sample came from."""

    photo: str
    box: Box  # in the photo (after its turn)
    turned: bool  # rotated 180 degrees
    text: bool


def _photo(name: str, degrees: float) -> np.ndarray:
    """A bundled photo as uint8 [H, W, 3] in BGR order, turned `degrees` counter-clockwise."""
    import skimage.data
    from skimage.transform import rotate

    img = getattr(skimage.data, name)()
    if img.dtype != np.uint8:
        raise SystemExit(f"skimage.data.{name}: expected uint8, got {img.dtype}")
    if degrees:
        # the corners the turn uncovers are filled with the photo's median grey (blank paper)
        img = rotate(img, degrees, order=1, mode="constant", cval=float(np.median(img)),
                     preserve_range=True).round().astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img[:, :, 2::-1])


def paddle_cls_input(crop: np.ndarray) -> np.ndarray:
    """PaddleOCR's classifier preprocessing of a uint8 [H, W, 3] crop: float32 [3, 48, 192]."""
    from skimage.transform import resize

    h, w = crop.shape[:2]
    resized_w = min(WIDTH, int(math.ceil(HEIGHT * w / h)))
    resized = resize(crop.astype(np.float32), (HEIGHT, resized_w), order=1, mode="edge",
                     anti_aliasing=False, preserve_range=True)
    out = np.zeros((3, HEIGHT, WIDTH), dtype=np.float32)
    out[:, :, :resized_w] = (resized.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
    return out


def _draw(region: Region, shape, rng: np.random.RandomState) -> Box:
    boxes = [(r0, shape[0] if r1 < 0 else r1, c0, shape[1] if c1 < 0 else c1)
             for r0, r1, c0, c1 in region.boxes]
    r0, r1, c0, c1 = boxes[rng.randint(len(boxes))]
    if region.heights is None:
        r0 = max(min(b[0] for b in boxes), r0 - int(rng.randint(0, 5)))
        r1 = min(max(b[1] for b in boxes), r1 + int(rng.randint(0, 5)))
    else:
        h = min(r1 - r0, int(rng.randint(region.heights[0], region.heights[1] + 1)))
        r0 += int(rng.randint(0, r1 - r0 - h + 1))
        r1 = r0 + h
    w = min(c1 - c0, int(round((r1 - r0) * rng.uniform(*region.aspects))))
    c0 += int(rng.randint(0, c1 - c0 - w + 1))
    return r0, r1, c0, c0 + w


def make_set(name: str, count: int) -> tuple[np.ndarray, list[Crop]]:
    """`count` samples of set `name`: float32 [count, 3, 48, 192] and where each came from."""
    if name not in SETS:
        raise ValueError(f"unknown set {name!r}; expected one of {sorted(SETS)}")
    if count < 1:
        raise ValueError(f"count must be positive, got {count}")
    text_regions, photo_regions = SETS[name]
    rng = np.random.RandomState(SEEDS[name])
    photos = {r: _photo(r.photo, r.degrees) for r in text_regions + photo_regions}
    n_text = int(round(count * TEXT_SHARE))
    samples, crops = [], []
    for i in range(count):
        is_text = i < n_text
        pool = text_regions if is_text else photo_regions
        region = pool[i % len(pool)]
        img = photos[region]
        r0, r1, c0, c1 = _draw(region, img.shape, rng)
        piece = img[r0:r1, c0:c1]
        turned = (i // len(pool)) % 2 == 1
        if turned:
            piece = piece[::-1, ::-1]
        samples.append(paddle_cls_input(piece))
        crops.append(Crop(region.photo, (r0, r1, c0, c1), turned, region.text))
    return np.stack(samples), crops


def load_folder(path: str) -> np.ndarray:
    """All .npy batches of a folder (sorted by name), concatenated on axis 0."""
    files = sorted(f for f in os.listdir(path) if f.endswith(".npy"))
    if not files:
        raise SystemExit(f"{path}: no .npy files")
    return np.concatenate([np.load(os.path.join(path, f)) for f in files]).astype(np.float32)


def write_batches(x: np.ndarray, out: str, batch: int) -> list[str]:
    os.makedirs(out, exist_ok=True)
    stale = [f for f in os.listdir(out) if f.startswith("batch_") and f.endswith(".npy")]
    for f in stale:
        os.remove(os.path.join(out, f))
    names = []
    digits = len(str((len(x) - 1) // batch))
    for k, start in enumerate(range(0, len(x), batch)):
        names.append(os.path.join(out, f"batch_{k:0{digits}d}.npy"))
        np.save(names[-1], x[start:start + batch])
    return names


def run_model(model: str, x: np.ndarray) -> np.ndarray:
    """The model's outputs on x in onnxruntime (CPU), in batches of 32."""
    import onnxruntime as ort

    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i:i + 32]})[0] for i in range(0, len(x), 32)])


def describe(probs: np.ndarray, crops: list[Crop]) -> str:
    """Class histogram, mean confidence and, on the text crops, agreement with the known turn."""
    top = probs.argmax(-1)
    hist = np.bincount(top, minlength=probs.shape[-1])
    lines = [f"float model: class histogram {hist.tolist()} (0 = upright, 1 = turned 180), "
             f"mean top-1 probability {probs.max(-1).mean():.3f}"]
    text = np.array([c.text for c in crops])
    turned = np.array([c.turned for c in crops])
    if text.any():
        right = top[text] == turned[text]
        lines.append(f"text crops: {int(right.sum())} of {int(text.sum())} classified as turned "
                     f"or not correctly ({right.mean() * 100:.1f}%)")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="folder for batch_K.npy")
    ap.add_argument("--set", required=True, choices=sorted(SETS), dest="which")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--batch", type=int, default=16, help="samples per .npy file (default 16)")
    ap.add_argument("--model", default=DEFAULT_MODEL,
                    help="float model to describe the set with ('' to skip)")
    args = ap.parse_args(argv)
    if args.count < 1 or args.batch < 1:
        ap.error("--count and --batch must be positive")

    x, crops = make_set(args.which, args.count)
    files = write_batches(x, args.out, args.batch)
    per_photo: dict[str, int] = {}
    for c in crops:
        per_photo[c.photo] = per_photo.get(c.photo, 0) + 1
    print(f"{args.which}: {len(x)} samples {list(x.shape[1:])} in {len(files)} files under "
          f"{args.out}; photos {per_photo}")
    if args.model:
        if not os.path.exists(args.model):
            print(f"{args.model}: not found, set not described", file=sys.stderr)
            return 1
        print(describe(run_model(args.model, x), crops))
    return 0


if __name__ == "__main__":
    sys.exit(main())
