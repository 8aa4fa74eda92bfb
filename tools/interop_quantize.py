#!/usr/bin/env python3
"""`ferry quantize` against tools nobody here wrote: the onnx checker, onnxruntime and true labels.

    interop_quantize.py --ferry PATH_TO_FERRY [--shared DIR] [--work DIR]

Digits CNN (Fixtures/digits, trained by Keras; test split with its labels): every mode and format
(weights, dynamic, static QDQ with uint8 and int8 activations, static QOperator, each calibration
method, 7-bit weights) is written by `ferry quantize` from the Keras .h5, must pass onnx.checker
full_check, and must keep the accuracy on the test labels within the issue's limits (static: 0.5
points, weights only: 0.2 points below the float model's), as the onnx package's reference
evaluator computes the file (integer QLinearConv/MatMulInteger, QGemm added in
tools/quant_reference.py: the same on every CPU). Ferry's own interpreter runs each quantized file
on the same images: its outputs must agree with that reference and with onnxruntime's on the same
file: the same top-1 class on >= 99% of images, and a mean difference at most a tenth of the
quantization error itself (mean |int8 - float|): two runtimes may round an intermediate
requantization one step apart, nothing more. onnxruntime is run as users run it (all graph
optimizations) and also with its graph optimizations off, which computes the file's operators one
by one as ONNX defines them; Ferry must agree with one of the two (for weights-only files
onnxruntime's optimizer rewrites DequantizeLinear -> Conv into an approximate form: its outputs move
by up to 7e-3 on the digits CNN, Ferry's stay within 5e-7 of the unoptimized run). onnxruntime is
compared only where it is exact on every CPU: its AVX2 u8 x s8 integer kernels (dynamic and
QOperator files) saturate pairs of products unless the weights have 7 bits
(../shared/notes/onnxruntime-int8-exactness.md); for 8-bit weights its distance to the reference is
printed.

DynamicQuantizeLSTM: a bidirectional LSTM quantized by onnxruntime's quantize_dynamic and by
`ferry quantize --mode dynamic`, with 7-bit weights (reduce_range) and 8-bit ones: Ferry's outputs
must equal an int64 numpy reference of onnxruntime's kernel (tools/quant_reference.py) within 1e-5
of their range, and onnxruntime's on the 7-bit files (onnxruntime's AVX2 u8 x s8 product saturates
on 8-bit weights, so it is exact there only with AVX-512 VNNI). The Keras LSTM fixture quantized
with --reduce-range: Ferry equals onnxruntime (1e-5), both within 4% of Keras's float outputs.

Shared model (DIR/models/ch_ppocr_mobile_v2.0_cls_infer.onnx, skipped with a message when absent;
also skipped when scikit-image is missing): calibrated on 64 real photo crops and judged on 256
others (tools/photo_inputs.py), the default static int8 must keep the float model's top-1 class on
>= 93% of the evaluation images and on >= 99% of those the float model gives >= 0.9 probability
(the crops PaddleOCR turns), with mean cosine >= 0.995, in onnxruntime with its graph
optimizations off (the file's operators one by one as ONNX defines them, the same on every CPU;
optimized, onnxruntime's fused integer kernels saturate on AVX2 and keep 75% on this model);
onnxruntime's own quantize_static (QDQ, per channel, MinMax and Percentile) is scored the same way
beside it as the anchor. Ferry's run of that file must agree with onnxruntime's on >= 98% of the
top-1 answers, mean difference within 15% of the quantization error: the model's hard-swish runs in
float between the quantized convolutions, and a float32 value on a rounding boundary (1 element in
1e5 at the first block; Ferry's integer convolutions equal a float64 reference there) is amplified
through 15 blocks.
Calibration that generalises (--photo-classifier DIR, made by tools/make_photo_classifier.py: a
MobileNetV3Small trained here to tell how photo crops were degraded, with hard-swish, SE blocks,
5x5 depthwise convolutions and BatchNormalization): `ferry convert` makes it ONNX, `ferry quantize`
calibrates on 8 crops of the training photos and is judged on 24 and 256 crops of six photos the
model never saw, in onnxruntime with graph optimizations off. Default static int8 (batch-norm
statistics on) must keep the float top-1 on >= 95% of both held-out sets with mean cosine >= 0.995,
and --no-bn-ranges must not beat it by more than 0.001 of cosine. --accuracy-target 0.9999 must be
judged on the --validate samples (8 more crops of the training photos) when given, else on two
folds of the calibration crops (ranges from one half, judged on the other), be met, and keep the
256 held-out cosine within 5e-4 of the default's. onnxruntime's quantize_static on the same 8
crops is printed beside it.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks, ort_session  # noqa: E402

ort.set_default_logger_severity(3)  # onnxruntime's warnings about its own anchor files are noise here
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DIGITS = os.path.join(ROOT, "Fixtures", "digits")
SHARED_MODEL = "models/ch_ppocr_mobile_v2.0_cls_infer.onnx"

CHECKS = Checks(width=44)


def ferry(args, *argv) -> str:
    r = subprocess.run([args.ferry, *argv], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"ferry {' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def ort_run(model: str, x: np.ndarray, optimize: bool = True) -> np.ndarray:
    s = ort_session(model, threads=1, optimization="all" if optimize else "none")
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def unfused_weights(model: str, work: str) -> list[str]:
    """Conv/Gemm/MatMul nodes between quantized activations (a dequantized input, an output that is
    quantized, maybe after a Relu) that still read a DequantizeLinear of a constant after
    onnxruntime's graph optimizations (its QDQ fusions): each runs in float on weights dequantized
    every run. Layers kept in float, and those whose output stays float, are not counted."""
    optimized = os.path.join(tempfile.mkdtemp(dir=work), "optimized.onnx")
    ort_session(model, optimization="extended", save_optimized=optimized)
    g = onnx.load(optimized).graph
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


def agreement(ferry_out: np.ndarray, model: str, x: np.ndarray, float_out: np.ndarray, same_min: float = 99,
              share: float = 0.1) -> tuple[bool, str]:
    """Whether Ferry's run of a quantized file agrees with onnxruntime's, optimized or not (see the module doc)."""
    results = [(optimize, *compare(ferry_out, ort_run(model, x, optimize), float_out, same_min, share))
               for optimize in (True, False)]
    ok = [r for r in results if r[1]]
    optimize, good, detail = (ok or results)[0]
    return good, detail + ("" if optimize else " (onnxruntime without graph optimizations)")


def compare(ferry_out: np.ndarray, ort_out: np.ndarray, float_out: np.ndarray, same_min: float = 99,
            share: float = 0.1) -> tuple[bool, str]:
    same = (ferry_out.argmax(-1) == ort_out.argmax(-1)).mean() * 100
    apart = float(np.abs(ferry_out - ort_out).mean())
    error = float(np.abs(ort_out - float_out).mean())
    ok = same >= same_min and apart <= max(share * error, 1e-6)
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
        ("dynamic 7-bit", 0.5, ["--mode", "dynamic", "--reduce-range"]),
        ("static qdq uint8", 0.5, []),
        ("static qdq int8", 0.5, ["--activation-type", "int8"]),
        ("static qoperator", 0.5, ["--format", "qoperator"]),
        ("static qoperator 7-bit", 0.5, ["--format", "qoperator", "--reduce-range"]),
        ("static minmax, all layers", 0.5, ["--method", "minmax", "--no-keep-edge-layers"]),
        ("static entropy, all layers", 0.5, ["--method", "entropy", "--no-keep-edge-layers"]),
        ("static percentile, all layers", 0.5, ["--no-keep-edge-layers"]),
    ]
    import quant_reference
    for name, limit, extra in configs:
        out = os.path.join(work, "digits_" + name.replace(" ", "_").replace(",", "") + ".onnx")
        argv = ["quantize", h5, out, "--force"] + extra
        if "--mode" not in extra:
            argv += ["--calibrate", cal]
        try:
            ferry(args, *argv)
            onnx.checker.check_model(onnx.load(out), full_check=True)
            exact = quant_reference.run_exact(out, x)
            acc = (exact.argmax(1) == y).mean() * 100
            CHECKS.record(base - acc <= limit, f"digits {name}: accuracy",
                  f"{acc:.2f}% in the onnx reference evaluator (float {base:.2f}%, drop limit {limit}), size {os.path.getsize(out) / base_size:.2f}x")
            ferry_out = ferry_run(args, out, x, work)
            ok, detail = compare(ferry_out, exact, float_out)
            CHECKS.record(ok, f"digits {name}: ferry vs reference", detail)
            # onnxruntime's integer kernels (MatMulInteger, QLinearConv, QGemm) multiply u8 x s8
            # pairs into a saturating int16 on AVX2: exact on every CPU only for 7-bit weights.
            # QDQ files also run with its optimizations off, as float ops, exact everywhere.
            if "7-bit" in name or not (name.startswith("dynamic") or "qoperator" in name):
                ok, detail = agreement(ferry_out, out, x, float_out)
                CHECKS.record(ok, f"digits {name}: ferry vs onnxruntime", detail)
            else:
                print(f"     digits {name}: onnxruntime vs reference (8-bit weights, exact only with AVX-512 VNNI): {compare(ort_run(out, x), exact, float_out)[1]}")
            if name.startswith("static") and "qoperator" not in name:
                left = unfused_weights(out, work)
                CHECKS.record(not left, f"digits {name}: onnxruntime fuses QDQ",
                      "every quantized Conv/Gemm runs on integers" if not left else f"float on dequantized weights: {left}")
        except Exception as e:  # noqa: BLE001 - any failure is a failed check with its reason
            CHECKS.record(False, f"digits {name}", str(e).splitlines()[0])


def lstm_model(path: str) -> np.ndarray:
    """A bidirectional LSTM (input 5, hidden 7, biases) with seeded weights, written to `path`;
    returns an input [6, 2, 5]."""
    from onnx import TensorProto, helper, numpy_helper
    rs = np.random.RandomState(11)
    w = rs.normal(0, 0.5, (2, 28, 5)).astype(np.float32)
    r = rs.normal(0, 0.5, (2, 28, 7)).astype(np.float32)
    b = rs.normal(0, 0.3, (2, 56)).astype(np.float32)
    node = helper.make_node("LSTM", ["X", "W", "R", "B"], ["Y", "Y_h", "Y_c"], name="lstm", hidden_size=7, direction="bidirectional")
    graph = helper.make_graph([node], "lstm", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [6, 2, 5])],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n, shape in
                               (("Y", [6, 2, 2, 7]), ("Y_h", [2, 2, 7]), ("Y_c", [2, 2, 7]))],
                              [numpy_helper.from_array(v, n) for v, n in ((w, "W"), (r, "R"), (b, "B"))])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]), path)
    return rs.normal(0, 1.0, (6, 2, 5)).astype(np.float32)


def relative(got: list, want: list) -> float:
    return max(float(np.abs(g - w).max() / max(float(np.abs(w).max()), 1e-12)) for g, w in zip(got, want))


def ferry_run_all(args, model: str, x: np.ndarray, work: str) -> list:
    """Every output of `ferry run` on x, in the model's output order."""
    out = tempfile.mkdtemp(dir=work)
    inp = os.path.join(out, "input.npy")
    np.save(inp, x)
    ferry(args, "run", model, "--input", inp, "--output-dir", out)
    return [np.load(os.path.join(out, o.name + ".npy")) for o in onnx.load(model).graph.output]


def lstm_session(model: str) -> ort.InferenceSession:
    """onnxruntime on one thread. Its DynamicQuantizeLSTM quantizes H(t-1) in groups of
    ceil(batch / threads) batch rows when batch > 4 or (batch >= 2 and hidden <= 256), so its
    results depend on its thread count; on one thread it quantizes the whole batch, as Ferry does."""
    return ort_session(model, threads=1)


def lstm(args, work: str) -> None:
    """DynamicQuantizeLSTM: Ferry against onnxruntime where onnxruntime is exact on every CPU
    (7-bit weights), against an int64 numpy reference (tools/quant_reference.py) everywhere."""
    import logging
    from onnxruntime.quantization import QuantType, quantize_dynamic
    import quant_reference
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic's advice to pre-process
    float_model = os.path.join(work, "lstm_float.onnx")
    x = lstm_model(float_model)
    files = {}
    for reduce in (True, False):
        tag = "7-bit" if reduce else "8-bit"
        files[f"onnxruntime quantize_dynamic {tag}"] = path = os.path.join(work, f"lstm_ort_{tag}.onnx")
        quantize_dynamic(float_model, path, weight_type=QuantType.QInt8, reduce_range=reduce)
        files[f"ferry quantize {tag}"] = path = os.path.join(work, f"lstm_ferry_{tag}.onnx")
        ferry(args, "quantize", float_model, path, "--mode", "dynamic", "--force", *(["--reduce-range"] if reduce else []))
    for label, path in files.items():
        try:
            m = onnx.load(path)
            onnx.checker.check_model(m, full_check=True)
            if [n.op_type for n in m.graph.node] != ["DynamicQuantizeLSTM"]:
                raise RuntimeError(f"nodes {[n.op_type for n in m.graph.node]}, expected one DynamicQuantizeLSTM")
            want = list(quant_reference.dynamic_quantize_lstm(m, x).values())
            got = ferry_run_all(args, path, x, work)
            err = relative(got, want)
            detail = f"ferry vs int64 numpy reference {err:.1e}"
            ok = err <= 1e-5
            if "7-bit" in label:
                s = lstm_session(path)
                ort_err, ref_err = relative(got, s.run(None, {"X": x})), relative(s.run(None, {"X": x}), want)
                detail += f", ferry vs onnxruntime {ort_err:.1e}, onnxruntime vs reference {ref_err:.1e}"
                ok = ok and ort_err <= 1e-5 and ref_err <= 1e-5
            CHECKS.record(ok, f"DynamicQuantizeLSTM: {label}", detail + " (limit 1e-5 of the range)")
        except Exception as e:  # noqa: BLE001
            CHECKS.record(False, f"DynamicQuantizeLSTM: {label}", str(e).splitlines()[0])

    keras = os.path.join(ROOT, "Fixtures", "keras")
    out = os.path.join(work, "lstm_dynamic.onnx")
    try:
        ferry(args, "quantize", os.path.join(keras, "lstm.h5"), out, "--mode", "dynamic", "--reduce-range", "--force")
        m = onnx.load(out)
        onnx.checker.check_model(m, full_check=True)
        lstms = sum(n.op_type == "DynamicQuantizeLSTM" for n in m.graph.node)
        x = np.load(os.path.join(keras, "lstm.input_0.npy"))
        s = lstm_session(out)
        runs = {"onnxruntime": s.run(None, {s.get_inputs()[0].name: x}), "ferry": ferry_run_all(args, out, x, work)}
        want = [np.load(os.path.join(keras, f"lstm.output_{k}.npy")) for k in range(len(m.graph.output))]
        apart = relative(runs["ferry"], runs["onnxruntime"])
        for who, got in runs.items():
            worst = relative(got, want)
            CHECKS.record(lstms == 4 and worst <= 0.04, f"keras lstm dynamic 7-bit: {who} vs Keras", f"{lstms} DynamicQuantizeLSTM, max |diff| {worst:.2%} of the range (limit 4%)")
        CHECKS.record(apart <= 1e-5, "keras lstm dynamic 7-bit: ferry vs onnxruntime", f"{apart:.1e} of the range (limit 1e-5)")
    except Exception as e:  # noqa: BLE001
        CHECKS.record(False, "keras lstm dynamic", str(e).splitlines()[0])


def photo_modules(check: str):
    """tools/photo_inputs.py and tools/ort_quantize_anchor.py, or None (said) without scikit-image."""
    try:
        sys.path.insert(0, HERE)
        import ort_quantize_anchor
        import photo_inputs
    except ImportError as e:
        print(f"{check}: {e}: skipping (scikit-image is in tools/requirements.txt)")
        return None
    return photo_inputs, ort_quantize_anchor


def shared(args, work: str) -> None:
    model = os.path.join(args.shared, SHARED_MODEL) if args.shared else None
    if not model or not os.path.exists(model):
        print(f"shared model: {model + ' is absent' if model else '--shared not given'}: skipping the real-photo check")
        return
    modules = photo_modules("shared model")
    if modules is None:
        return
    photo_inputs, anchor = modules
    x_cal, _ = photo_inputs.make_set("calibration", 64)
    x_eval, _ = photo_inputs.make_set("evaluation", 256)
    cal = os.path.join(work, "photos_cal")
    photo_inputs.write_batches(x_cal, cal, 16)
    out = os.path.join(work, "ppocr_int8.onnx")
    try:
        ferry(args, "quantize", model, out, "--calibrate", cal, "--force")
        onnx.checker.check_model(onnx.load(out), full_check=True)
    except Exception as e:  # noqa: BLE001
        CHECKS.record(False, "shared model: ferry quantize", str(e).splitlines()[0])
        return
    ref = anchor.run(model, x_eval)
    s = anchor.score(ref, anchor.run(out, x_eval, exact=True))
    size = os.path.getsize(out) / os.path.getsize(model)
    # Two classes and many near-ties (mean top-1 probability 0.76): the share of kept top-1 answers
    # moves between 93.4% and 96.9% with the percentile or equalization at the same cosine; the
    # answers PaddleOCR acts on (probability >= 0.9) must all stay.
    confident = s["confident_agreement"] if s["confident_agreement"] is not None else 100
    CHECKS.record(s["top1_agreement"] >= 93 and confident >= 99 and s["mean_cosine"] >= 0.995,
                  "shared model: default static int8 on photos",
                  f"top-1 kept {s['top1_agreement']:.1f}% (of those >= 0.9: {confident:.1f}%), mean cosine "
                  f"{s['mean_cosine']:.4f} (min {s['min_cosine']:.3f}), size {size:.2f}x")
    # Its hard-swish is spelled out (Add, Clip, Mul, Div) and computed in float between the
    # quantized convolutions: the runtimes round a float32 value on a rounding boundary to different
    # codes (1 element in 1e5 at the first block; Ferry's integer convolutions equal a float64
    # reference there exactly), and 15 blocks amplify it to 1-3 of 256 top-1 answers.
    ok, detail = agreement(ferry_run(args, out, x_eval, work), out, x_eval, ref, same_min=98, share=0.15)
    CHECKS.record(ok, "shared model: ferry vs onnxruntime", detail)
    pre = anchor.prepared(model, os.path.join(work, "preprocessed.onnx"))
    for method in ("MinMax", "Percentile"):
        try:
            a = anchor.score(ref, anchor.run(anchor.ort_quantize(pre, x_cal, method, work), x_eval, exact=True))
            print(f"     anchor: onnxruntime quantize_static {method:10s} top-1 kept {a['top1_agreement']:.1f}%, mean cosine {a['mean_cosine']:.4f}")
        except Exception as e:  # noqa: BLE001 - the anchor is informative only
            print(f"     anchor: onnxruntime quantize_static {method}: {str(e).splitlines()[0]}")


def photo_classifier(args, work: str) -> None:
    if not args.photo_classifier:
        return
    modules = photo_modules("photo classifier")
    if modules is None:
        return
    photo_inputs, anchor = modules
    d = args.photo_classifier
    model = os.path.join(work, "photo_classifier.onnx")
    try:
        ferry(args, "convert", os.path.join(d, "photo_classifier.keras"), model, "--force")
    except Exception as e:  # noqa: BLE001
        CHECKS.record(False, "photo classifier: ferry convert", str(e).splitlines()[0])
        return
    cal = os.path.join(d, "calibration")
    held = {n: photo_inputs.load_folder(os.path.join(d, f"heldout{n}")) for n in (24, 256)}
    refs = {n: anchor.run(model, x) for n, x in held.items()}

    def judged(path: str) -> tuple[dict, str]:
        scores = {n: anchor.score(refs[n], anchor.run(path, held[n], exact=True)) for n in held}
        return scores, "; ".join(f"{n} held-out: top-1 kept {s['top1_agreement']:.1f}%, cosine {s['mean_cosine']:.4f}"
                                 for n, s in scores.items())

    runs = {"default": [], "no-bn-ranges": ["--no-bn-ranges"],
            "target": ["--accuracy-target", "0.9999", "--validate", os.path.join(d, "validation")],
            "folds": ["--accuracy-target", "0.9999"]}
    scores = {}
    for name, extra in runs.items():
        out = os.path.join(work, f"photo_classifier_{name}.onnx")
        try:
            text = ferry(args, "quantize", model, out, "--calibrate", cal, "--force", *extra)
            onnx.checker.check_model(onnx.load(out), full_check=True)
        except Exception as e:  # noqa: BLE001
            CHECKS.record(False, f"photo classifier: ferry quantize {name}", str(e).splitlines()[0])
            continue
        scores[name], detail = judged(out)
        if name == "default":
            ok = all(s["top1_agreement"] >= 95 and s["mean_cosine"] >= 0.995 for s in scores[name].values())
            CHECKS.record(ok and "batch-norm statistics:" in text, "photo classifier: default static int8, 8 calibration crops", detail)
        elif name == "no-bn-ranges" and "default" in scores:
            worse = max(scores[name][n]["mean_cosine"] - scores["default"][n]["mean_cosine"] for n in held)
            CHECKS.record(worse <= 0.001, "photo classifier: batch-norm statistics cost no accuracy",
                          f"without them: {detail}")
        elif name in ("target", "folds") and "default" in scores:
            judged_on = "8 validation samples" if name == "target" else "8 calibration samples in two folds"
            kept_up = scores[name][256]["mean_cosine"] >= scores["default"][256]["mean_cosine"] - 5e-4
            CHECKS.record(f"judged on {judged_on}" in text and ": met" in text and kept_up,
                          f"photo classifier: --accuracy-target 0.9999 judged on {judged_on}", detail)
    pre = anchor.prepared(model, os.path.join(work, "photo_classifier_pre.onnx"))
    x_cal = photo_inputs.load_folder(cal)
    for method in ("MinMax", "Percentile"):
        try:
            _, detail = judged(anchor.ort_quantize(pre, x_cal, method, work))
            print(f"     anchor: onnxruntime quantize_static {method:10s} {detail}")
        except Exception as e:  # noqa: BLE001 - the anchor is informative only
            print(f"     anchor: onnxruntime quantize_static {method}: {str(e).splitlines()[0]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--shared", help="directory holding models/ (the shared pretrained model)")
    ap.add_argument("--work", help="keep the written files here")
    ap.add_argument("--photo-classifier", help="tools/make_photo_classifier.py's output folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        digits(args, work)
        lstm(args, work)
        shared(args, work)
        photo_classifier(args, work)
        return CHECKS.finish(work, keep_work=True)


if __name__ == "__main__":
    sys.exit(main())
