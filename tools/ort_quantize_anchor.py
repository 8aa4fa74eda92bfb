#!/usr/bin/env python3
"""onnxruntime's static int8 quantization of the PaddleOCR text-direction classifier, as an anchor.

Calibrates onnxruntime.quantization.quantize_static (QDQ, per-channel weights, uint8 activations,
int8 weights: its defaults) on the calibration photos of tools/photo_inputs.py, once per
calibration method (MinMax, Percentile, Entropy), after quant_pre_process (ONNX shape inference
and graph optimization, as onnxruntime recommends before quantizing; the model is first converted
to opset 13, where DequantizeLinear takes the per-channel axis). Each quantized model then runs
in onnxruntime on the evaluation photos and is scored against the float model's outputs:

    top-1 agree    % of samples whose argmax matches the float model's
    confident      the same, over the samples the float model gives >= 0.9 probability (the
                   threshold above which PaddleOCR acts on the classifier and turns a crop)
    cosine         mean cosine similarity of the output vectors
    max |diff|     largest absolute difference of an output value

--candidate FILE.onnx (repeatable) scores other quantized files the same way, e.g. Ferry's.

    python tools/ort_quantize_anchor.py [--model M.onnx] [--calibration-count 64]
        [--evaluation-count 256] [--calibrate DIR] [--evaluate DIR]
        [--methods MinMax,Percentile,Entropy] [--candidate F.onnx ...] [--keep DIR] [--json F]

--calibrate / --evaluate read folders of .npy batches (as tools/photo_inputs.py writes them)
instead of making the sets in memory. Exit 1 when a candidate cannot be run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile

import numpy as np
import onnx
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import photo_inputs  # noqa: E402
from checks import ort_session  # noqa: E402

METHODS = {"MinMax": CalibrationMethod.MinMax, "Percentile": CalibrationMethod.Percentile,
           "Entropy": CalibrationMethod.Entropy}
CONFIDENT = 0.9
BATCH = 16


class Batches(CalibrationDataReader):
    """Feeds the calibration samples to onnxruntime's calibrator in batches."""

    def __init__(self, name: str, x: np.ndarray):
        self._feeds = iter([{name: x[i:i + BATCH]} for i in range(0, len(x), BATCH)])

    def get_next(self):
        return next(self._feeds, None)


def run(model: str, x: np.ndarray, exact: bool = False) -> np.ndarray:
    """The model's first output on x, in onnxruntime on one thread (CPU). With `exact`, graph
    optimizations are off: a QDQ file then runs as DequantizeLinear -> float op -> QuantizeLinear,
    as ONNX defines it, on every CPU; optimized, onnxruntime fuses it into integer kernels whose
    AVX2 u8 x s8 products saturate (exact only with AVX-512 VNNI)."""
    sess = ort_session(model, threads=1, optimization="none" if exact else "all")
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i:i + BATCH]})[0]
                           for i in range(0, len(x), BATCH)]).astype(np.float64)


def score(ref: np.ndarray, got: np.ndarray) -> dict:
    """How closely got follows the float model's outputs ref (both [N, classes])."""
    agree = ref.argmax(-1) == got.argmax(-1)
    confident = ref.max(-1) >= CONFIDENT
    cos = (ref * got).sum(-1) / np.maximum(
        np.linalg.norm(ref, axis=-1) * np.linalg.norm(got, axis=-1), 1e-30)
    return {
        "top1_agreement": float(agree.mean() * 100),
        "confident_agreement": float(agree[confident].mean() * 100) if confident.any() else None,
        "confident_count": int(confident.sum()),
        "mean_cosine": float(cos.mean()),
        "min_cosine": float(cos.min()),
        "max_abs_diff": float(np.abs(ref - got).max()),
    }


def quantized_ops(model: str) -> dict:
    """How many QuantizeLinear / DequantizeLinear nodes, and the weights stored as int8."""
    m = onnx.load(model)
    ops = [n.op_type for n in m.graph.node]
    int8 = sum(1 for t in m.graph.initializer if t.data_type == onnx.TensorProto.INT8
               and len(t.dims) > 1)
    return {"QuantizeLinear": ops.count("QuantizeLinear"),
            "DequantizeLinear": ops.count("DequantizeLinear"), "int8_weight_tensors": int8}


def opset13(model: str) -> onnx.ModelProto:
    """The model at opset 13 or later: per-channel QDQ needs DequantizeLinear's axis (opset 13)."""
    m = onnx.load(model)
    opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    return onnx.version_converter.convert_version(m, 13) if opset < 13 else m


def quantization_parameters(model: str) -> bytes:
    """The scales and zero points of a QDQ model, to tell models calibrated alike apart."""
    m = onnx.load(model)
    q = [n for n in m.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")]
    names = sorted({i for n in q for i in n.input[1:]})
    inits = {t.name: t for t in m.graph.initializer}
    return b"".join(inits[n].SerializeToString() for n in names if n in inits)


def prepared(model: str, out: str) -> str:
    """`model` at opset 13 after quant_pre_process, written to `out`: what ort_quantize takes."""
    onnx.save(opset13(model), out)
    # symbolic shape inference (it needs sympy) serves dynamic-shape transformers; ONNX shape
    # inference covers this CNN
    quant_pre_process(out, out, skip_symbolic_shape=True)
    return out


def ort_quantize(model: str, x_cal: np.ndarray, method: str, out_dir: str) -> str:
    """onnxruntime's static QDQ quantization of the pre-processed model."""
    name = onnx.load(model).graph.input[0].name
    out = os.path.join(out_dir, f"ort_{method.lower()}.onnx")
    with contextlib.redirect_stdout(sys.stderr):  # the calibrators print their progress
        quantize_static(model, out, Batches(name, x_cal), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=METHODS[method])
    return out


def inputs(folder: str | None, which: str, count: int) -> tuple[np.ndarray, list | None, str]:
    """A set from a folder of .npy batches, or made by tools/photo_inputs.py (with its crops)."""
    if folder:
        x = photo_inputs.load_folder(folder)
        return x, None, f"{len(x)} samples from {folder}"
    x, crops = photo_inputs.make_set(which, count)
    return x, crops, f"{len(x)} samples of tools/photo_inputs.py set '{which}'"


def percent(v: float | None, width: int) -> str:
    return "-".rjust(width) if v is None else f"{v:{width - 1}.1f}%"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=photo_inputs.DEFAULT_MODEL)
    ap.add_argument("--calibration-count", type=int, default=64)
    ap.add_argument("--evaluation-count", type=int, default=256)
    ap.add_argument("--calibrate", metavar="DIR", help="calibration .npy folder")
    ap.add_argument("--evaluate", metavar="DIR", help="evaluation .npy folder")
    ap.add_argument("--methods", default=",".join(METHODS),
                    help="onnxruntime calibration methods ('' for none)")
    ap.add_argument("--candidate", action="append", default=[], metavar="FILE.onnx",
                    help="another quantized model to score (repeatable)")
    ap.add_argument("--keep", metavar="DIR", help="keep the quantized models in DIR")
    ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
    args = ap.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        ap.error(f"unknown method {unknown[0]}; expected some of {','.join(METHODS)}")
    if not os.path.exists(args.model):
        print(f"{args.model}: not found", file=sys.stderr)
        return 1

    x_cal, _, cal_desc = (inputs(args.calibrate, "calibration", args.calibration_count)
                          if methods else (None, None, "none (no onnxruntime method)"))
    x_eval, crops, eval_desc = inputs(args.evaluate, "evaluation", args.evaluation_count)
    ref = run(args.model, x_eval)
    hist = np.bincount(ref.argmax(-1), minlength=ref.shape[-1]).tolist()
    print(f"model        {args.model}")
    print(f"calibration  {cal_desc}")
    print(f"evaluation   {eval_desc}; float model: classes {hist}, mean top-1 probability "
          f"{ref.max(-1).mean():.3f}, {int((ref.max(-1) >= CONFIDENT).sum())} samples >= "
          f"{CONFIDENT}")
    report = {"model": os.path.abspath(args.model), "calibration": cal_desc,
              "evaluation": eval_desc, "float_class_histogram": hist,
              "float_mean_confidence": float(ref.max(-1).mean()), "rows": []}
    if crops is not None:
        text = np.array([c.text for c in crops])
        turned = np.array([c.turned for c in crops])
        right = float((ref.argmax(-1)[text] == turned[text]).mean() * 100)
        report["float_text_crop_accuracy"] = right
        print(f"             float model right about the turn on {right:.1f}% of the "
              f"{int(text.sum())} text crops")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or tmp
        os.makedirs(work, exist_ok=True)
        params: dict[str, bytes] = {}
        if methods:
            pre = prepared(args.model, os.path.join(work, "preprocessed.onnx"))
            for method in methods:
                q = ort_quantize(pre, x_cal, method, work)
                params[method] = quantization_parameters(q)
                same = next((f"onnxruntime {m}" for m in params if m != method
                             and params[m] == params[method]), None)
                rows.append({"name": f"onnxruntime {method}", "file": q, "same_parameters_as": same,
                             **quantized_ops(q), **score(ref, run(q, x_eval))})
        failed = False
        for cand in args.candidate:
            try:
                rows.append({"name": os.path.basename(cand), "file": os.path.abspath(cand),
                             **quantized_ops(cand), **score(ref, run(cand, x_eval))})
            except Exception as e:  # noqa: BLE001 - any failure to load or run is reported
                print(f"{cand}: cannot be run in onnxruntime: {' '.join(str(e).split())[:300]}",
                      file=sys.stderr)
                failed = True
        if not args.keep:
            for r in rows:
                if r["file"].startswith(tmp):
                    r["file"] = None

    print(f"\n{'quantized model':<28} {'top-1 agree':>11} {'confident':>9} {'cosine':>8} "
          f"{'min cos':>8} {'max |diff|':>10} {'Q/DQ':>8} {'int8 W':>6}")
    for r in rows:
        print(f"{r['name'][:28]:<28} {percent(r['top1_agreement'], 11)} "
              f"{percent(r['confident_agreement'], 9)} {r['mean_cosine']:>8.4f} "
              f"{r['min_cosine']:>8.4f} {r['max_abs_diff']:>10.4f} "
              f"{r['QuantizeLinear']:>3}/{r['DequantizeLinear']:<4} {r['int8_weight_tensors']:>6}")
    for r in rows:
        if r.get("same_parameters_as"):
            print(f"{r['name']}: the same scales and zero points as {r['same_parameters_as']}")
    report["rows"] = rows
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
