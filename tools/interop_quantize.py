#!/usr/bin/env python3
"""`ferry quantize` against tools nobody here wrote: the onnx checker, onnxruntime and true labels.

    interop_quantize.py --ferry PATH_TO_FERRY [--shared DIR] [--work DIR]

Digits CNN (Fixtures/digits, trained by Keras; test split with its labels): every mode and format
(weights, dynamic, static QDQ with uint8 and int8 activations, static QOperator, each calibration
method) is written by `ferry quantize` from the Keras .h5, must pass onnx.checker full_check and
run in onnxruntime, and must keep the accuracy onnxruntime measures on the test labels within the
issue's limits (static: 0.5 points, weights only: 0.2 points below the float model's). Ferry's own
interpreter runs each quantized file on the same images: its outputs must agree with
onnxruntime's on the same file: the same top-1 class on >= 99% of images, and a mean difference
at most a tenth of the quantization error itself (mean |onnxruntime int8 - float|): the two
runtimes may round an intermediate requantization one step apart, nothing more. onnxruntime is run
as users run it (all graph optimizations) and also with its graph optimizations off, which computes
the file's operators one by one as ONNX defines them; Ferry must agree with one of the two (for
weights-only files onnxruntime's optimizer rewrites DequantizeLinear -> Conv into an approximate
form: its outputs move by up to 7e-3 on the digits CNN, Ferry's stay within 5e-7 of the unoptimized run).

Keras LSTM (Fixtures/keras/lstm.h5): --mode dynamic writes onnxruntime's DynamicQuantizeLSTM; the
file must pass the checker and give, in onnxruntime and in Ferry, outputs within 2% of their range
of Keras's own (onnxruntime also quantizes the inputs at every step, Ferry keeps them float).

Shared model (DIR/models/ch_ppocr_mobile_v2.0_cls_infer.onnx, skipped with a message when absent;
also skipped when scikit-image is missing): calibrated on 64 real photo crops and judged on 256
others (tools/photo_inputs.py), the default static int8 must keep the float model's top-1 class on
>= 95% of the evaluation images with mean cosine >= 0.98, in onnxruntime; onnxruntime's own
quantize_static (QDQ, per channel, MinMax and Percentile) is scored beside it as the anchor.
Prints one line per check and `N passed, M failed`; exit 1 on a failure.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

ort.set_default_logger_severity(3)  # onnxruntime's warnings about its own anchor files are noise here
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DIGITS = os.path.join(ROOT, "Fixtures", "digits")
SHARED_MODEL = "models/ch_ppocr_mobile_v2.0_cls_infer.onnx"

passed = failed = 0


def check(ok: bool, name: str, detail: str) -> None:
    global passed, failed
    passed, failed = passed + ok, failed + (not ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name:44s} {detail}", flush=True)


def ferry(args, *argv) -> str:
    r = subprocess.run([args.ferry, *argv], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"ferry {' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def ort_run(model: str, x: np.ndarray, optimize: bool = True) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    if not optimize:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def unfused_weights(model: str, work: str) -> list[str]:
    """Conv/Gemm/MatMul nodes between quantized activations (a dequantized input, an output that is
    quantized, maybe after a Relu) that still read a DequantizeLinear of a constant after
    onnxruntime's graph optimizations (its QDQ fusions): each runs in float on weights dequantized
    every run. Layers kept in float, and those whose output stays float, are not counted."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.optimized_model_filepath = os.path.join(tempfile.mkdtemp(dir=work), "optimized.onnx")
    ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    g = onnx.load(opts.optimized_model_filepath).graph
    constants = {t.name for t in g.initializer}
    dequantized = {n.output[0]: n.input[0] in constants for n in g.node if n.op_type == "DequantizeLinear"}
    readers: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)

    def quantized(value: str) -> bool:
        return any(r.op_type == "QuantizeLinear" or (r.op_type in ("Relu", "Clip") and quantized(r.output[0]))
                   for r in readers.get(value, []))
    return [n.name or n.op_type for n in g.node
            if n.op_type in ("Conv", "FusedConv", "Gemm", "FusedGemm", "MatMul") and dequantized.get(n.input[0]) is False
            and any(dequantized.get(i) for i in n.input[1:]) and quantized(n.output[0])]


def ferry_run(args, model: str, x: np.ndarray, work: str) -> np.ndarray:
    out = tempfile.mkdtemp(dir=work)
    inp = os.path.join(out, "input.npy")
    np.save(inp, x)
    ferry(args, "run", model, "--input", inp, "--output-dir", out, "--threads", "1")
    files = sorted(f for f in os.listdir(out) if f.endswith(".npy") and f != "input.npy")
    return np.load(os.path.join(out, files[0]))


def agreement(ferry_out: np.ndarray, model: str, x: np.ndarray, float_out: np.ndarray) -> tuple[bool, str]:
    """Whether Ferry's run of a quantized file agrees with onnxruntime's, optimized or not (see the module doc)."""
    results = [(optimize, *compare(ferry_out, ort_run(model, x, optimize), float_out)) for optimize in (True, False)]
    ok = [r for r in results if r[1]]
    optimize, good, detail = (ok or results)[0]
    return good, detail + ("" if optimize else " (onnxruntime without graph optimizations)")


def compare(ferry_out: np.ndarray, ort_out: np.ndarray, float_out: np.ndarray) -> tuple[bool, str]:
    same = (ferry_out.argmax(-1) == ort_out.argmax(-1)).mean() * 100
    apart = float(np.abs(ferry_out - ort_out).mean())
    error = float(np.abs(ort_out - float_out).mean())
    ok = same >= 99 and apart <= max(0.1 * error, 1e-6)
    return ok, f"same top-1 on {same:.1f}%, mean |diff| {apart:.3g} (quantization error {error:.3g}), max {float(np.abs(ferry_out - ort_out).max()):.3g}"


def digits(args, work: str) -> None:
    x, y = np.load(os.path.join(DIGITS, "test_x.npy")), np.load(os.path.join(DIGITS, "test_y.npy"))
    h5, cal = os.path.join(DIGITS, "digits_cnn.h5"), os.path.join(DIGITS, "calibration")
    float_onnx = os.path.join(work, "digits_float.onnx")
    ferry(args, "convert", h5, float_onnx, "--force")
    float_out = ort_run(float_onnx, x)
    base = (float_out.argmax(1) == y).mean() * 100
    base_size = os.path.getsize(float_onnx)
    print(f"digits CNN: float accuracy in onnxruntime {base:.2f}% ({len(y)} test images), {base_size} bytes")
    configs = [
        ("weights", 0.2, ["--mode", "weights"]),
        ("dynamic", 0.5, ["--mode", "dynamic"]),
        ("static qdq uint8", 0.5, []),
        ("static qdq int8", 0.5, ["--activation-type", "int8"]),
        ("static qoperator", 0.5, ["--format", "qoperator"]),
        ("static minmax, all layers", 0.5, ["--method", "minmax", "--no-keep-edge-layers"]),
        ("static entropy, all layers", 0.5, ["--method", "entropy", "--no-keep-edge-layers"]),
        ("static percentile, all layers", 0.5, ["--no-keep-edge-layers"]),
    ]
    for name, limit, extra in configs:
        out = os.path.join(work, "digits_" + name.replace(" ", "_").replace(",", "") + ".onnx")
        argv = ["quantize", h5, out, "--force"] + extra
        if "--mode" not in extra:
            argv += ["--calibrate", cal]
        try:
            ferry(args, *argv)
            onnx.checker.check_model(onnx.load(out), full_check=True)
            p = ort_run(out, x)
            acc = (p.argmax(1) == y).mean() * 100
            check(base - acc <= limit, f"digits {name}: accuracy",
                  f"{acc:.2f}% in onnxruntime (float {base:.2f}%, drop limit {limit}), size {os.path.getsize(out) / base_size:.2f}x")
            ok, detail = agreement(ferry_run(args, out, x, work), out, x, float_out)
            check(ok, f"digits {name}: ferry vs onnxruntime", detail)
            if name.startswith("static") and "qoperator" not in name:
                left = unfused_weights(out, work)
                check(not left, f"digits {name}: onnxruntime fuses QDQ",
                      "every quantized Conv/Gemm runs on integers" if not left else f"float on dequantized weights: {left}")
        except Exception as e:  # noqa: BLE001 - any failure is a failed check with its reason
            check(False, f"digits {name}", str(e).splitlines()[0])


def lstm(args, work: str) -> None:
    keras = os.path.join(ROOT, "Fixtures", "keras")
    out = os.path.join(work, "lstm_dynamic.onnx")
    try:
        ferry(args, "quantize", os.path.join(keras, "lstm.h5"), out, "--mode", "dynamic", "--force")
        m = onnx.load(out)
        onnx.checker.check_model(m, full_check=True)
        lstms = sum(n.op_type == "DynamicQuantizeLSTM" for n in m.graph.node)
        x = np.load(os.path.join(keras, "lstm.input_0.npy"))
        s = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
        runs = {"onnxruntime": s.run(None, {s.get_inputs()[0].name: x})[0], "ferry": ferry_run(args, out, x, work)}
        want = np.load(os.path.join(keras, "lstm.output_0.npy"))
        for who, got in runs.items():
            worst = float(np.abs(got - want).max()) / float(np.abs(want).max())
            check(lstms > 0 and worst <= 0.02, f"keras lstm dynamic: {who} vs Keras", f"{lstms} DynamicQuantizeLSTM, max |diff| {worst:.2%} of the range")
    except Exception as e:  # noqa: BLE001
        check(False, "keras lstm dynamic", str(e).splitlines()[0])


def shared(args, work: str) -> None:
    model = os.path.join(args.shared, SHARED_MODEL) if args.shared else None
    if not model or not os.path.exists(model):
        print(f"shared model: {model + ' is absent' if model else '--shared not given'}: skipping the real-photo check")
        return
    try:
        sys.path.insert(0, HERE)
        import photo_inputs
        import ort_quantize_anchor as anchor
    except ImportError as e:
        print(f"shared model: {e}: skipping the real-photo check (scikit-image is in tools/requirements.txt)")
        return
    x_cal, _ = photo_inputs.make_set("calibration", 64)
    x_eval, _ = photo_inputs.make_set("evaluation", 256)
    cal = os.path.join(work, "photos_cal")
    photo_inputs.write_batches(x_cal, cal, 16)
    out = os.path.join(work, "ppocr_int8.onnx")
    try:
        ferry(args, "quantize", model, out, "--calibrate", cal, "--force")
        onnx.checker.check_model(onnx.load(out), full_check=True)
    except Exception as e:  # noqa: BLE001
        check(False, "shared model: ferry quantize", str(e).splitlines()[0])
        return
    ref = anchor.run(model, x_eval)
    s = anchor.score(ref, anchor.run(out, x_eval))
    size = os.path.getsize(out) / os.path.getsize(model)
    check(s["top1_agreement"] >= 95 and s["mean_cosine"] >= 0.98, "shared model: default static int8 on photos",
          f"top-1 kept {s['top1_agreement']:.1f}%, mean cosine {s['mean_cosine']:.4f} (min {s['min_cosine']:.3f}), size {size:.2f}x")
    ok, detail = agreement(ferry_run(args, out, x_eval, work), out, x_eval, ref)
    check(ok, "shared model: ferry vs onnxruntime", detail)
    pre = anchor.prepared(model, os.path.join(work, "preprocessed.onnx"))
    for method in ("MinMax", "Percentile"):
        try:
            a = anchor.score(ref, anchor.run(anchor.ort_quantize(pre, x_cal, method, work), x_eval))
            print(f"     anchor: onnxruntime quantize_static {method:10s} top-1 kept {a['top1_agreement']:.1f}%, mean cosine {a['mean_cosine']:.4f}")
        except Exception as e:  # noqa: BLE001 - the anchor is informative only
            print(f"     anchor: onnxruntime quantize_static {method}: {str(e).splitlines()[0]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--shared", help="directory holding models/ (the shared pretrained model)")
    ap.add_argument("--work", help="keep the written files here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        digits(args, work)
        lstm(args, work)
        shared(args, work)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
