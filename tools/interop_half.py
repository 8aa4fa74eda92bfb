#!/usr/bin/env python3
"""Checks `ferry convert --dtype float16|bfloat16` against onnxruntime and exact references.

    interop_half.py --ferry PATH_TO_FERRY [--shared DIR] [--work DIR]

Models, each converted with `ferry convert IN OUT --dtype float16`:
  light        every model of the onnx package's light zoo as it ships (ConstantOfShape fills).
  light+random ResNet-50, ShuffleNet, SqueezeNet, Inception v2 and DenseNet-121 with random weights
               (interop_optimize.py's `randomised`): the accuracy and file size checks.
  shared       DIR/models/*.onnx (skipped with a message when absent), with and without
               --keep-io-types.
  resize       a model built here whose Resize scales come from a float32 initializer and from
               shape arithmetic (Shape -> Cast to float -> Mul -> Concat), the parts
               onnxconverter-common's float16 tool breaks.
  keras        Fixtures/keras/conv2d.h5 in one command (Keras -> float16 ONNX).
For each: onnx.checker.check_model(full_check=True); onnxruntime runs the float16 file on the float32
inputs rounded to float16 (float32 inputs with --keep-io-types, whose inputs and outputs must keep
their names, order and float32 type); its outputs must be within 1e-2 of the float32 model's
(max |a - b| / max |a|); `ferry run` on the float16 file within 1e-2 of it too; the file at most
0.55x the float32 one where the weights are initializers.
bfloat16: the shared model converted with --dtype bfloat16 (upgraded to opset 13; Conv and the pools,
which take bfloat16 from opset 22, stay float32 between Casts) passes the checker and runs in Ferry
within 5e-2 of float32, and in onnxruntime where it has the kernels; a
safetensors file of float32 tensors (ties, subnormals, infinities, NaNs, values past bfloat16's range)
converted to bfloat16 must equal ml_dtypes' round-to-nearest-even bit for bit, NaN kept NaN (what
torch's .to(torch.bfloat16) gives); so must an HDF5 tree converted likewise, as h5py reads it.
One line per check, then `N passed, M failed`; exit 1 on a failure.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

import ml_dtypes
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks, Failure, ort_run  # noqa: E402
from check_models import KERAS, LIGHT, ferry_run, first_line, light_inputs, shared_inputs  # noqa: E402
from interop_optimize import RANDOMISED, difference, randomised  # noqa: E402

TOLERANCE = {"float16": 1e-2, "bfloat16": 5e-2}
MAX_SIZE_RATIO = 0.55


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise Failure(f"{os.path.basename(argv[0])} {argv[1]} exited {p.returncode}: {first_line(p.stderr)}")
    return p.stdout.strip()


def as_declared(model_path, feeds):
    """`feeds` converted to the element types the model declares for its inputs."""
    m = onnx.load(model_path, load_external_data=False)
    types = {vi.name: helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type) for vi in m.graph.input}
    return {k: v.astype(types[k]) if k in types else v for k, v in feeds.items()}


def widened(outputs):
    return [(n, v.astype(np.float32) if v.dtype == np.float16 else v) for n, v in outputs]


def check_half(ferry, src, feeds, work, dtype="float16", extra=(), size_check=False, by_ort=True, reference_src=None):
    os.makedirs(work, exist_ok=True)
    out = os.path.join(work, f"{dtype}.onnx")
    summary = run([ferry, "convert", src, out, "--dtype", dtype, "--force", *extra])
    onnx.checker.check_model(out, full_check=True)
    reference = ort_run(reference_src or src, feeds)
    details = [summary.split(";")[0]]
    if "--keep-io-types" in extra:
        a, b = onnx.load(src, load_external_data=False), onnx.load(out, load_external_data=False)
        for x, y in [(a.graph.input, b.graph.input), (a.graph.output, b.graph.output)]:
            if [(v.name, v.type.tensor_type.elem_type) for v in x] != [(v.name, v.type.tensor_type.elem_type) for v in y]:
                raise Failure("--keep-io-types changed the graph's inputs or outputs")
        details.append("inputs and outputs kept")
    half_feeds = as_declared(out, feeds)
    if by_ort:
        got = ort_run(out, half_feeds)
        worst = difference(reference, widened(got))
        if worst > TOLERANCE[dtype]:
            raise Failure(f"onnxruntime's outputs of the {dtype} file differ by {worst:.3g} (> {TOLERANCE[dtype]})")
        details.append(f"ort {dtype} vs float32 {worst:.1e}")
    ferry_out = list(ferry_run(ferry, out, half_feeds, os.path.join(work, "run"), 600).items())
    worst = difference(reference, widened(ferry_out))
    if worst > TOLERANCE[dtype]:
        raise Failure(f"ferry's outputs of the {dtype} file differ by {worst:.3g} (> {TOLERANCE[dtype]})")
    details.append(f"ferry {dtype} vs float32 {worst:.1e}")
    if size_check:
        ratio = os.path.getsize(out) / os.path.getsize(src)
        if ratio > MAX_SIZE_RATIO:
            raise Failure(f"the {dtype} file is {ratio:.2f}x the float32 one (> {MAX_SIZE_RATIO})")
        details.append(f"size {ratio:.2f}x")
    return details


def resize_model(path):
    """x[1,3,8,8] -> Resize by float32 scales [1,1,2,2] -> Conv -> Resize by scales computed from its
    shape (Shape -> Gather -> Cast to float -> Div -> Mul -> Concat: [1, 1, 2, 2]); weights random (seed 0)."""
    rs = np.random.RandomState(0)
    inits = [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"),
             numpy_helper.from_array(rs.uniform(-1, 1, (4, 3, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(np.array([2.0], np.float32), "two"),
             numpy_helper.from_array(np.array([2, 3], np.int64), "hw"),
             numpy_helper.from_array(np.array([1, 1], np.float32), "ones")]
    nodes = [
        helper.make_node("Resize", ["x", "", "scales"], ["up"], mode="nearest"),
        helper.make_node("Conv", ["up", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Shape", ["c"], ["shape"]),
        helper.make_node("Gather", ["shape", "hw"], ["size"], axis=0),
        helper.make_node("Cast", ["size"], ["size_f"], to=TensorProto.FLOAT),
        helper.make_node("Div", ["size_f", "size_f"], ["unit"]),
        helper.make_node("Mul", ["unit", "two"], ["scale2"]),
        helper.make_node("Concat", ["ones", "scale2"], ["scales2"], axis=0),
        helper.make_node("Resize", ["c", "", "scales2"], ["y"], mode="linear"),
    ]
    g = helper.make_graph(nodes, "resize", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 32, 32])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)
    return path


def ort_has_bfloat16(path):
    """False for the shared model: onnxruntime 1.32's CPU provider has no bfloat16 Clip kernel and
    expands Clip's function body instead, whose opset-13 Where refuses bfloat16 ("Type
    'tensor(bfloat16)' of input parameter (Constant@2) of operator (Where) ... is invalid", with graph
    optimizations off too), although Clip-13's schema takes bfloat16 and onnx.checker passes the file;
    so the checker and Ferry judge the bfloat16 file."""
    return False


def check_safetensors_bf16(ferry, work):
    from safetensors.numpy import load_file, save_file
    os.makedirs(work, exist_ok=True)
    rs = np.random.RandomState(0)
    special = np.array([0, -0.0, 1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, 3.3895314e38, 3.4e38, np.inf,
                        -np.inf, np.nan, -np.nan, 1e-40, 1e-45, -1e-39, 65504, 70000], np.float32)
    nan_payload = np.array([0x7FC00001, 0xFFA00000, 0x7F800001], np.uint32).view(np.float32)
    tensors = {"special": np.concatenate([special, nan_payload]),
               "random": (rs.standard_normal((64, 33)) * np.exp2(rs.uniform(-30, 30, (64, 33)))).astype(np.float32),
               "ints": np.arange(12, dtype=np.int64).reshape(3, 4)}
    src, out = os.path.join(work, "f32.safetensors"), os.path.join(work, "bf16.safetensors")
    save_file(tensors, src)
    run([ferry, "convert", src, out, "--dtype", "bfloat16", "--force"])
    with open(out, "rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
        import json
        header = json.loads(f.read(header_len))
        data = f.read()
    for name, x in tensors.items():
        entry = header[name]
        begin, end = entry["data_offsets"]
        raw = data[begin:end]
        if x.dtype != np.float32:
            if entry["dtype"] != "I64" or raw != x.tobytes():
                raise Failure(f"tensor {name!r}: a {x.dtype} tensor was changed")
            continue
        if entry["dtype"] != "BF16":
            raise Failure(f"tensor {name!r} is {entry['dtype']}, expected BF16")
        x = x.ravel()
        got = np.frombuffer(raw, np.uint16)
        with np.errstate(invalid="ignore"):
            want = x.astype(ml_dtypes.bfloat16).view(np.uint16)
        nan = np.isnan(x)
        got_nan = (got & 0x7F80 == 0x7F80) & (got & 0x7F != 0)
        if not np.array_equal(got[~nan], want[~nan]) or not got_nan[nan].all():
            i = int(np.flatnonzero((got != want) & ~nan)[0]) if (got != want)[~nan].any() else int(np.flatnonzero(nan & ~got_nan)[0])
            raise Failure(f"tensor {name!r} element {i}: {x[i]!r} -> {got[i]:#06x}, expected {want[i]:#06x}")
    load_file(out)  # the safetensors package reads the file
    return [f"{sum(t.size for t in tensors.values() if t.dtype == np.float32)} values equal ml_dtypes' bfloat16",
            "NaN kept NaN"]


def check_hdf5_bf16(ferry, work):
    """An HDF5 tree of float32 tensors converted to bfloat16: h5py reads each as a 2-byte float whose
    values (widened by libhdf5) equal ml_dtypes' rounding bit for bit, NaN kept NaN; integers kept."""
    import h5py
    os.makedirs(work, exist_ok=True)
    src, out = os.path.join(work, "f32.h5"), os.path.join(work, "bf16.h5")
    rs = np.random.RandomState(1)
    x = np.concatenate([np.array([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.3e38, -0.5, 1e-40, np.inf, np.nan], np.float32),
                        (rs.standard_normal(500) * np.exp2(rs.uniform(-30, 30, 500))).astype(np.float32)])
    with h5py.File(src, "w") as f:
        f["layer/kernel"] = x.reshape(4, -1)
        f["layer/steps"] = np.arange(5, dtype=np.int64)
    run([ferry, "convert", src, out, "--dtype", "bfloat16", "--force"])
    with h5py.File(out, "r") as f:
        kernel, steps = f["layer/kernel"], f["layer/steps"][()]
        if kernel.id.get_type().get_size() != 2:
            raise Failure(f"the kernel is stored in {kernel.id.get_type().get_size()} bytes, not 2")
        got = kernel[()].astype(np.float32).ravel()
    with np.errstate(invalid="ignore"):
        want = x.astype(ml_dtypes.bfloat16).astype(np.float32)
    nan = np.isnan(want)
    if not np.array_equal(got[~nan].view(np.uint32), want[~nan].view(np.uint32)) or not np.isnan(got[nan]).all():
        raise Failure("h5py reads other values than ml_dtypes' bfloat16 rounding")
    if not np.array_equal(steps, np.arange(5)):
        raise Failure("the int64 tensor changed")
    return [f"{x.size} values equal ml_dtypes' bfloat16 through h5py", "int64 kept"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--shared")
    ap.add_argument("--work")
    args = ap.parse_args()
    ferry = os.path.abspath(args.ferry)
    work = args.work or tempfile.mkdtemp(prefix="ferry-half-")
    checks = Checks(width=44)

    for path in sorted(glob.glob(os.path.join(LIGHT, "*.onnx"))):
        stem = os.path.basename(path)[:-5]
        feeds = light_inputs(onnx.load(path))
        checks.run(f"light/{stem}", lambda: check_half(ferry, path, feeds, os.path.join(work, stem)))
    for stem in RANDOMISED:
        def job(stem=stem):
            d = os.path.join(work, stem + "_random")
            os.makedirs(d, exist_ok=True)
            src = randomised(os.path.join(LIGHT, stem + ".onnx"), os.path.join(d, "f32.onnx"))
            return check_half(ferry, src, light_inputs(onnx.load(src)), d, size_check=True)
        checks.run(f"light+random/{stem}", job)
    shared = sorted(glob.glob(os.path.join(args.shared, "models", "*.onnx"))) if args.shared else []
    if not shared:
        print("shared models: skipped (../shared absent)")
    for path in shared:
        stem = os.path.basename(path)[:-5]
        feeds = shared_inputs(onnx.load(path), stem)
        d = os.path.join(work, "shared_" + stem)
        checks.run(f"shared/{stem}", lambda: check_half(ferry, path, feeds, d, size_check=True))
        checks.run(f"shared/{stem} --keep-io-types",
                   lambda: check_half(ferry, path, feeds, d + "_io", extra=["--keep-io-types"], size_check=True))
        checks.run(f"shared/{stem} bfloat16",
                   lambda: check_half(ferry, path, feeds, d + "_bf16", dtype="bfloat16", extra=["--keep-io-types"],
                                      by_ort=ort_has_bfloat16(path)))
    resize = resize_model(os.path.join(work, "resize.onnx"))
    feeds = {"x": np.random.RandomState(1).uniform(-1, 1, (1, 3, 8, 8)).astype(np.float32)}
    checks.run("resize (float32 scales and shape arithmetic)", lambda: check_half(ferry, resize, feeds, os.path.join(work, "resize")))

    def keras_job():
        d = os.path.join(work, "keras")
        os.makedirs(d, exist_ok=True)
        src = os.path.join(d, "f32.onnx")
        run([ferry, "convert", os.path.join(KERAS, "conv2d.h5"), src, "--force"])
        x = np.load(os.path.join(KERAS, "conv2d.input_0.npy"))
        name = onnx.load(src).graph.input[0].name
        return check_half(ferry, os.path.join(KERAS, "conv2d.h5"), {name: x}, d, reference_src=src)
    checks.run("keras/conv2d.h5 -> float16 onnx", keras_job)
    checks.run("safetensors float32 -> bfloat16", lambda: check_safetensors_bf16(ferry, os.path.join(work, "st")))
    checks.run("hdf5 float32 -> bfloat16", lambda: check_hdf5_bf16(ferry, os.path.join(work, "h5")))
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
