#!/usr/bin/env python3
"""Ferry's user tools (issue 18) against references nobody here wrote: onnxruntime and onnx.

    interop_tools.py --ferry PATH_TO_FERRY [--shared DIR] [--work DIR] [--keep-work]

`ferry inspect MODEL --shapes --json` (every value's element type and shape, symbolic sizes kept
by name) on models with symbolic input axes:
  transformer   a small encoder exported by torch.onnx.export with dynamic batch and sequence axes
                (a class token prepended: sequence + 1; heads split with Reshape); skipped with a
                message without torch
  unet          a small U-Net-style CNN exported by torch with dynamic N, H and W (stride-2 convs,
                nearest upsampling, Concat, global pooling); skipped without torch
  handmade      Fixtures/cli/shape_reshape.onnx: [batch, seq, 16] flattened to [batch * seq, 16]
                through Shape, Gather, Mul, Concat and Reshape, and back
  paddleocr     the shared PaddleOCR classifier (DIR/models; input [-1, 3, ?, ?]), when present
For each: onnxruntime runs the model at another choice of the symbolic sizes with every value
exposed as an output, and each of Ferry's sizes, evaluated at that choice, must be the size
onnxruntime's run gives (unknown sizes, shown as ?, are counted and limited per model); the element
types must be onnxruntime's; where onnx.shape_inference (with data propagation) gives a number or an
input's own symbol, Ferry must give the same.

`ferry optimize --shape NAME=DIMS --check` at those sizes: onnx.checker (full) and onnxruntime take
the output, whose outputs are the symbolic model's at those sizes.

`ferry diff A B --json` on the same models (and Fixtures/keras/mnist_cnn.h5), against onnxruntime
running both files on the same inputs:
  optimized   A against `ferry optimize A`: exit 0, nothing over the tolerance
  perturbed   one weight of a node in the middle scaled by 1.01 (written with onnx): exit 1, the
              first value over the tolerance is that node's output, and the outputs' largest
              differences are onnxruntime's (within 1e-4 of the output's range)
  renamed     every intermediate value renamed (onnx): exit 0, every value matched by position
  quantized   onnxruntime's quantize_static (QDQ, its own names: W_quantized, X_QuantizeLinear_Output)
              of the CNNs: values matched through its DequantizeLinear nodes, and the outputs'
              largest differences are onnxruntime's
  keras       mnist_cnn.h5 against its `ferry convert` to ONNX: exit 0
`ferry edit`: a batch-1 model whose Reshape bakes the batch set to batch 4 and to a dynamic batch
(every row must be the batch-1 output in onnxruntime, the Reshape named in the report);
--extract of small_cnn's middle (onnxruntime gives the original's value), --rename, --add-output
and --strip-docs; --merge of a head reading small_cnn's output (a weight name in common); every file
passes onnx.checker's full check.

`ferry inspect --graph` on the light zoo's ResNet-50 and the Keras MNIST CNN: Graphviz's own dot parses
the DOT, and its SVG (and the HTML page's) has a shape for every node, input and output; Debian's
headless Chromium loads the page (its script runs, every node is in the DOM) and its screenshots
are kept in .build/test-artifacts/.

`ferry inspect --format hdf5 --json` on Keras .h5 fixtures against h5py's walk of the file: the
same groups and datasets, dtypes, shapes and attribute names.
Prints one line per check, then `N passed, M failed`; exit 1 on a failure.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from fractions import Fraction

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks, ort_session  # noqa: E402

SHARED = "ch_ppocr_mobile_v2.0_cls_infer.onnx"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTIFACTS = os.path.join(ROOT, ".build", "test-artifacts")  # kept after the run: the browser's screenshots
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FORMULA = re.compile(r"^[A-Za-z0-9_*/+() -]+$")
NUMPY_DTYPES = {"float32": np.float32, "int64": np.int64, "int32": np.int32, "bool": np.bool_, "float64": np.float64}


def evaluate(size, symbols):
    """A size of `inspect --shapes --json` (an int, a formula such as `2*S+1`, `ceil(H/2)` or
    `floor((W+3)/4)`, or None) at `symbols`, in exact fractions (a formula's value must be whole)."""
    if size is None or isinstance(size, int):
        return size
    names = set(NAME.findall(size)) - {"floor", "ceil"}
    unknown = names - set(symbols)
    if unknown or not FORMULA.match(size):
        raise ValueError(f"cannot read size '{size}'")
    text = NAME.sub(lambda m: m.group(0) if m.group(0) in ("floor", "ceil") else f"Fraction({symbols[m.group(0)]})", size)
    value = eval(text, {"__builtins__": {}}, {"floor": math.floor, "ceil": math.ceil, "Fraction": Fraction})  # noqa: S307
    if Fraction(value).denominator != 1:
        raise ValueError(f"'{size}' is not whole at {symbols}")
    return int(value)


def torch_models(work):
    """The two torch-exported models, or [] with a message when torch is absent."""
    try:
        import warnings

        import torch
        from torch import nn
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    except ImportError:
        print("torch is not installed: the transformer and unet checks are skipped")
        return []
    torch.manual_seed(0)

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(100, 32)
            self.cls = nn.Parameter(torch.randn(1, 1, 32))
            self.qkv = nn.Linear(32, 96)
            self.out = nn.Linear(32, 32)
            self.norm = nn.LayerNorm(32)
            self.ff = nn.Sequential(nn.Linear(32, 64), nn.GELU(), nn.Linear(64, 32))

        def forward(self, ids):
            x = self.embed(ids)
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)
            b, s, _ = x.shape
            q, k, v = self.qkv(x).reshape(b, s, 3, 4, 8).permute(2, 0, 3, 1, 4)
            a = torch.softmax(q @ k.transpose(-1, -2) / 8 ** 0.5, dim=-1) @ v
            x = self.norm(x + self.out(a.transpose(1, 2).reshape(b, s, 32)))
            return x + self.ff(x)

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.down1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
            self.down2 = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
            self.down3 = nn.Sequential(nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.SiLU())
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.merge = nn.Conv2d(48, 16, 1)
            self.head = nn.Linear(16, 5)

        def forward(self, x):
            a = self.down1(x)
            b = self.down2(a)
            c = self.down3(b)
            m = self.merge(torch.cat([b, self.up(c)], dim=1))
            return m, self.head(m.mean(dim=(2, 3)))

    made = []
    for name, module, example, axes, outputs in [
        ("transformer", Encoder(), (torch.zeros(2, 7, dtype=torch.long),), {"ids": {0: "batch", 1: "seq"}}, ["y"]),
        ("unet", UNet(), (torch.rand(1, 3, 32, 48),), {"x": {0: "N", 2: "H", 3: "W"}}, ["features", "logits"]),
    ]:
        path = os.path.join(work, name + ".onnx")
        inputs = list(axes)
        torch.onnx.export(module.eval(), example, path, input_names=inputs, output_names=outputs, opset_version=17,
                          dynamic_axes=axes, dynamo=False)
        made.append((name, path))
    return made


def handmade(work):
    """Fixtures/cli/shape_reshape.onnx (tools/make_run_fixtures.py): [batch, seq, 16] flattened to
    [batch * seq, 16] through Shape, Gather, Mul, Concat and Reshape, projected, and back."""
    return [("handmade", os.path.join(ROOT, "Fixtures", "cli", "shape_reshape.onnx"))]


# The sizes onnxruntime runs each model at, by (input, axis), and the most unknown sizes allowed.
REFERENCE_SIZES = {
    "transformer": ({("ids", 0): 3, ("ids", 1): 5}, 0),
    "unet": ({("x", 0): 2, ("x", 2): 64, ("x", 3): 96}, 0),
    "handmade": ({("x", 0): 4, ("x", 1): 6}, 0),
    # the height after the last pooling follows nested floors and ceilings no single formula gives
    "paddleocr": ({("x", 0): 3, ("x", 2): 48, ("x", 3): 192}, 1),
}


def input_feeds(model, sizes):
    """Random inputs of `model`, each axis not fixed at its size in `sizes` ((input, axis) -> size)."""
    rng = np.random.default_rng(1)
    feeds = {}
    for i in model.graph.input:
        if i.name in {t.name for t in model.graph.initializer}:
            continue
        t = i.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") and d.dim_value >= 0 else sizes[(i.name, a)]
                 for a, d in enumerate(t.shape.dim)]
        dtype = helper.tensor_dtype_to_np_dtype(t.elem_type)
        feeds[i.name] = (rng.integers(0, 50, shape) if dtype == np.int64 else rng.random(shape)).astype(dtype)
    return feeds


def check_shapes(checks, args, work, name, path):
    r = subprocess.run([args.ferry, "inspect", path, "--shapes", "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        checks.record(False, f"{name}: inspect --shapes", r.stderr.strip())
        return
    listing = json.loads(r.stdout)
    values = listing["values"]
    model = onnx.load(path)
    sizes, allowed_unknown = REFERENCE_SIZES[name]
    feeds = input_feeds(model, sizes)
    # each symbol Ferry names an input axis by takes that axis's size
    symbols = {size: feeds[v["name"]].shape[axis] for v in values if v["op"] == "input"
               for axis, size in enumerate(v["shape"] or []) if isinstance(size, str)}
    # onnxruntime with every Ferry-listed value exposed as an output, typed as Ferry says
    exposed = onnx.load(path)
    have = {o.name for o in exposed.graph.output}
    for v in values:
        if v["op"] != "input" and v["name"] not in have:
            dtype = helper.np_dtype_to_tensor_dtype(np.dtype(NUMPY_DTYPES[v["dtype"]]))
            exposed.graph.output.append(helper.make_tensor_value_info(v["name"], dtype, None))
    session = ort_session(exposed.SerializeToString(), optimization="none")
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))
    got.update(feeds)
    known = unknown = 0
    wrong = []
    for v in values:
        actual = got[v["name"]]
        if str(actual.dtype) != v["dtype"] and not (v["dtype"] == "bool" and actual.dtype == np.bool_):
            wrong.append(f"{v['name']}: dtype {v['dtype']}, onnxruntime {actual.dtype}")
            continue
        if v["shape"] is None or len(v["shape"]) != actual.ndim:
            wrong.append(f"{v['name']}: shape {v['shape']}, onnxruntime {list(actual.shape)}")
            continue
        for size, real in zip(v["shape"], actual.shape):
            if size is None:
                unknown += 1
            elif evaluate(size, symbols) != real:
                wrong.append(f"{v['name']}: {v['shape']} at {symbols} is not onnxruntime's {list(actual.shape)}")
                break
            else:
                known += 1
    checks.record(not wrong and unknown <= allowed_unknown, f"{name}: --shapes vs onnxruntime at {symbols}",
                  f"{len(values)} values, {known} sizes right, {unknown} unknown"
                  + (" (sizes for multiples of 32)" if listing["symbolic_size_multiple"] == 32 else "")
                  + (f"; {wrong[0]}" if wrong else ""))
    # onnx's own shape inference, where it gives a number or an input's symbol
    inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    declared = {vi.name: vi for vi in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input)}
    input_symbols = {d.dim_param for i in model.graph.input for d in i.type.tensor_type.shape.dim if d.dim_param}
    agree, differ = 0, []
    for v in values:
        vi = declared.get(v["name"])
        if vi is None or not vi.type.tensor_type.HasField("shape") or v["shape"] is None:
            continue
        for size, d in zip(v["shape"], vi.type.tensor_type.shape.dim):
            reference = d.dim_value if d.HasField("dim_value") and d.dim_value >= 0 else (
                d.dim_param if d.dim_param in input_symbols and d.dim_param != "?" else None)
            if reference is None:
                continue
            if size == reference:
                agree += 1
            else:
                differ.append(f"{v['name']}: {size} where onnx infers {reference}")
    checks.record(not differ, f"{name}: --shapes vs onnx.shape_inference", f"{agree} sizes the same"
                  + (f"; {len(differ)} differ, first {differ[0]}" if differ else ""))


def ferry_diff(args, a, b, *extra):
    """(exit status, report) of `ferry diff A B --json`."""
    r = subprocess.run([args.ferry, "diff", a, b, "--json", *extra], capture_output=True, text=True)
    if r.returncode not in (0, 1) or not r.stdout:
        raise RuntimeError(f"ferry diff: exit {r.returncode}: {r.stderr.strip()}")
    return r.returncode, json.loads(r.stdout)["diff"]


def output_differences(a, b, feeds):
    """The largest |a - b| of each output of models `a` and `b` in onnxruntime on `feeds` (b's
    outputs taken in a's order), and each output's largest |a|."""
    oa, ob = ort_session(a).run(None, feeds), ort_session(b).run(None, feeds)
    return [(float(np.max(np.abs(x.astype(np.float64) - y))), float(np.max(np.abs(x)))) for x, y in zip(oa, ob)]


def same_differences(report, reference):
    """Whether Ferry's per-output largest differences are onnxruntime's, within 1e-4 of each output's range."""
    got = [p["max_abs_difference"] for p in report["numeric"]["outputs"]]
    return len(got) == len(reference) and all(abs(g - w) <= 1e-4 * max(scale, 1e-6) + 1e-7
                                              for g, (w, scale) in zip(got, reference))


def check_diff(checks, args, work, name, path):
    model = onnx.load(path)
    sizes, _ = REFERENCE_SIZES[name]
    feeds = input_feeds(model, sizes)
    inputs = os.path.join(work, name + ".inputs.npz")
    np.savez(inputs, **feeds)
    shape_args = ["--input", inputs]

    # --shape: the shape arithmetic folds; onnx.checker and onnxruntime take the result, with the
    # outputs of the symbolic model at those sizes
    fixed = os.path.join(work, name + ".fixed.onnx")
    shape_args2 = [a for i in model.graph.input if i.name in feeds
                   for a in ("--shape", f"{i.name}={','.join(map(str, feeds[i.name].shape))}")]
    r = subprocess.run([args.ferry, "optimize", path, fixed, "--force", "--check", *shape_args2], capture_output=True, text=True)
    if r.returncode == 0:
        onnx.checker.check_model(onnx.load(fixed), full_check=True)
        reference = output_differences(path, fixed, feeds)
        nodes = (len(model.graph.node), len(onnx.load(fixed).graph.node))
        ok = all(w <= 1e-5 * max(scale, 1) for w, scale in reference) and "check: " in r.stdout
        detail = f"nodes {nodes[0]} -> {nodes[1]}, onnxruntime's outputs differ by {[round(w, 8) for w, _ in reference]}"
    else:
        ok, detail = False, r.stderr.strip()
    checks.record(ok, f"{name}: optimize --shape --check", detail)

    optimized = os.path.join(work, name + ".optimized.onnx")
    subprocess.run([args.ferry, "optimize", path, optimized, "--force"], capture_output=True, check=True)
    status, d = ferry_diff(args, path, optimized, *shape_args)
    checks.record(status == 0 and d["numeric"]["over_tolerance"] == 0, f"{name}: diff against its optimize output",
                  f"exit {status}, {d['numeric']['compared']} values compared, ops {len(d['ops'])} types changed")

    # one weight (an initializer or a Constant, as Paddle writes them) of a node in the middle,
    # scaled: that node's output is the first over the tolerance
    def weight_tensors(m):
        out = {t.name: t for t in m.graph.initializer}
        out.update({n.output[0]: n.attribute[0].t for n in m.graph.node if n.op_type == "Constant" and n.attribute
                    and n.attribute[0].name == "value"})
        return {k: t for k, t in out.items() if len(t.dims) >= 2 and t.data_type == TensorProto.FLOAT}
    weights = weight_tensors(model)
    candidates = [n for n in model.graph.node if n.op_type != "Constant" and any(i in weights for i in n.input)]
    node = candidates[len(candidates) // 2]
    weight = next(i for i in node.input if i in weights)
    perturbed = onnx.load(path)
    t = weight_tensors(perturbed)[weight]
    t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t) * np.float32(1.01), t.name))
    perturbed_path = os.path.join(work, name + ".perturbed.onnx")
    onnx.save(perturbed, perturbed_path)
    status, d = ferry_diff(args, path, perturbed_path, *shape_args)
    first = (d["numeric"].get("first_over_tolerance") or {}).get("a")
    reference = output_differences(path, perturbed_path, feeds)
    # a Constant's value is itself a node output, computed before the node reading it
    want = weight if weight not in {t.name for t in model.graph.initializer} else node.output[0]
    ok = status == 1 and first == want and same_differences(d, reference)
    checks.record(ok, f"{name}: diff finds a perturbed weight's node",
                  f"first over the tolerance '{first}', want '{want}' ({node.op_type}); outputs' largest "
                  f"differences {[round(p['max_abs_difference'], 7) for p in d['numeric']['outputs']]}, onnxruntime "
                  f"{[round(w, 7) for w, _ in reference]}")

    # every intermediate value renamed: matched by position
    renamed = onnx.load(path)
    outputs = {o.name for o in renamed.graph.output}
    produced = [o for n in renamed.graph.node for o in n.output if o and o not in outputs]
    names = {o: f"renamed_{k}" for k, o in enumerate(produced)}
    for n in renamed.graph.node:
        n.input[:] = [names.get(i, i) for i in n.input]
        n.output[:] = [names.get(o, o) for o in n.output]
        n.name = ""
    del renamed.graph.value_info[:]
    renamed_path = os.path.join(work, name + ".renamed.onnx")
    onnx.save(renamed, renamed_path)
    status, d = ferry_diff(args, path, renamed_path, *shape_args)
    n = d["numeric"]
    checks.record(status == 0 and n["matched_by_position"] == len(names) and n["compared"] >= len(names),
                  f"{name}: diff matches renamed values by position",
                  f"exit {status}, {n['matched_by_position']} of {len(names)} renamed values matched by position")

    if name in ("unet", "paddleocr"):
        import logging

        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static
        logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process, printed per model

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.items = iter([input_feeds(model, sizes)] * 4)

            def get_next(self):
                return next(self.items, None)

        quantized = os.path.join(work, name + ".ort_qdq.onnx")
        quantize_static(path, quantized, Reader(), quant_format=QuantFormat.QDQ)
        status, d = ferry_diff(args, path, quantized, *shape_args)
        reference = output_differences(path, quantized, feeds)
        n = d["numeric"]
        ok = n["matched_by_dequantize"] > 0 and same_differences(d, reference)
        checks.record(ok, f"{name}: diff against onnxruntime's QDQ quantization",
                      f"{n['matched_by_dequantize']} values through DequantizeLinear, {n['over_tolerance']} over the "
                      f"tolerance; outputs' largest differences {[round(p['max_abs_difference'], 6) for p in n['outputs']]}, "
                      f"onnxruntime {[round(w, 6) for w, _ in reference]}")


def check_keras_diff(checks, args, work):
    keras = os.path.join(ROOT, "Fixtures", "keras", "mnist_cnn.h5")
    converted = os.path.join(work, "mnist_cnn.onnx")
    subprocess.run([args.ferry, "convert", keras, converted, "--force"], capture_output=True, check=True)
    status, d = ferry_diff(args, keras, converted)
    checks.record(status == 0 and d["numeric"]["compared"] > 0, "mnist_cnn.h5: diff against its ONNX conversion",
                  f"exit {status}, {d['numeric']['compared']} values compared, {d['numeric']['over_tolerance']} over")


def check_hdf5_listing(checks, args, path):
    """`ferry inspect --format hdf5 --json` against h5py's walk: the same groups and datasets, with
    the same dtypes, shapes and attribute names."""
    import h5py
    r = subprocess.run([args.ferry, "inspect", path, "--format", "hdf5", "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        checks.record(False, f"{os.path.basename(path)}: inspect --format hdf5", r.stderr.strip())
        return
    got = {e["path"]: (e["kind"], e.get("dtype"), tuple(e["shape"]) if e.get("shape") is not None else None,
                       sorted(e["attributes"])) for e in json.loads(r.stdout)["entries"]}
    want = {}
    with h5py.File(path, "r") as f:
        want["/"] = ("group", None, None, sorted(f.attrs))

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                # byte order is how the file stores them; Ferry reads them as native values
                dtype = "string" if obj.dtype.kind in "SUO" else obj.dtype.newbyteorder("=").name
                want["/" + name] = ("dataset", dtype, tuple(obj.shape), sorted(obj.attrs))
            else:
                want["/" + name] = ("group", None, None, sorted(obj.attrs))
        f.visititems(visit)
    differ = [k for k in sorted(set(got) | set(want)) if got.get(k) != want.get(k)]
    checks.record(not differ, f"{os.path.basename(path)}: inspect --format hdf5 vs h5py",
                  f"{len(want)} objects" + (f"; first difference {differ[0]}: {got.get(differ[0])} vs h5py {want.get(differ[0])}"
                                            if differ else ", the same paths, kinds, dtypes, shapes and attribute names"))


def check_edit(checks, args, work):
    """`ferry edit`: a batch-1 model whose Reshape bakes the batch, set to batch 4 and to a dynamic
    batch (each row must give the batch-1 output in onnxruntime); --extract of a middle section
    and --rename/--add-output on the torch-free Shape/Reshape fixture and small_cnn."""
    rng = np.random.default_rng(3)
    conv_w = numpy_helper.from_array(rng.standard_normal((3, 2, 3, 3)).astype(np.float32), "conv_w")
    fc_w = numpy_helper.from_array(rng.standard_normal((48, 5)).astype(np.float32), "fc_w")
    flat = numpy_helper.from_array(np.array([1, -1], np.int64), "flat_shape")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "conv_w"], ["c"], pads=[1, 1, 1, 1], name="conv"),
         helper.make_node("Relu", ["c"], ["r"], name="relu"),
         helper.make_node("Reshape", ["r", "flat_shape"], ["f"], name="flatten"),
         helper.make_node("MatMul", ["f", "fc_w"], ["y"], name="fc")],
        "batch_one", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], [conv_w, fc_w, flat])
    path = os.path.join(work, "batch_one.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    x = rng.random((4, 2, 4, 4)).astype(np.float32)
    one = ort_session(path)
    want = np.concatenate([one.run(None, {"x": x[i:i + 1]})[0] for i in range(4)])
    for batch, rows in (("4", 4), ("dynamic", 3)):
        out = os.path.join(work, f"batch_{batch}.onnx")
        r = subprocess.run([args.ferry, "edit", path, out, "--batch", batch, "--force"], capture_output=True, text=True)
        if r.returncode != 0:
            checks.record(False, f"edit --batch {batch}", r.stderr.strip())
            continue
        onnx.checker.check_model(onnx.load(out), full_check=True)
        got = ort_session(out).run(None, {"x": x[:rows]})[0]
        diff = float(np.abs(got - want[:rows]).max())
        checks.record(diff <= 1e-5 and "Reshape 'flatten'" in r.stdout, f"edit --batch {batch}: rows are the batch-1 outputs",
                      f"{rows} rows in onnxruntime, largest difference {diff:.2g}; {r.stdout.strip().splitlines()[-1]}")

    # --extract the section between two values of small_cnn; --rename and --add-output
    small = os.path.join(ROOT, "Fixtures", "onnx", "valid", "small_cnn.onnx")
    sub = os.path.join(work, "section.onnx")
    r = subprocess.run([args.ferry, "edit", small, sub, "--extract", "p1:f", "--force"], capture_output=True, text=True)
    if r.returncode == 0:
        onnx.checker.check_model(onnx.load(sub), full_check=True)
        exposed = onnx.load(small)
        exposed.graph.output.extend([helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("p1", "f")])
        image = rng.random((1, 1, 16, 16)).astype(np.float32)
        p1, f = ort_session(exposed.SerializeToString()).run(["p1", "f"], {"input": image})
        got = ort_session(sub).run(None, {"p1": p1})[0]
        m = onnx.load(sub)
        ok = float(np.abs(got - f).max()) == 0 and [i.name for i in m.graph.input] == ["p1"] and len(m.graph.node) == 3
        detail = f"{len(m.graph.node)} nodes, {len(m.graph.initializer)} initializers, onnxruntime gives the original's 'f'"
    else:
        ok, detail = False, r.stderr.strip()
    checks.record(ok, "edit --extract p1:f of small_cnn", detail)
    renamed = os.path.join(work, "renamed.onnx")
    r = subprocess.run([args.ferry, "edit", small, renamed, "--rename", "input=image", "--rename", "output=probs",
                        "--add-output", "r1", "--strip-docs", "--force"], capture_output=True, text=True)
    if r.returncode == 0:
        onnx.checker.check_model(onnx.load(renamed), full_check=True)
        image = rng.random((1, 1, 16, 16)).astype(np.float32)
        sess = ort_session(renamed)
        probs, r1 = sess.run(["probs", "r1"], {"image": image})
        exposed = onnx.load(small)
        exposed.graph.output.extend([helper.make_tensor_value_info("r1", TensorProto.FLOAT, None)])
        want_probs, want_r1 = ort_session(exposed.SerializeToString()).run(["output", "r1"], {"input": image})
        ok = np.array_equal(probs, want_probs) and np.array_equal(r1, want_r1)
        detail = f"inputs {[i.name for i in sess.get_inputs()]}, outputs {[o.name for o in sess.get_outputs()]}"
    else:
        ok, detail = False, r.stderr.strip()
    checks.record(ok, "edit --rename --add-output --strip-docs", detail)

    # --merge: a head reading small_cnn's output (its weight named like one of small_cnn's)
    head_w = numpy_helper.from_array(rng.standard_normal((10, 3)).astype(np.float32), "fc.weight")
    head = helper.make_graph([helper.make_node("MatMul", ["probs_in", "fc.weight"], ["y"], name="fc")], "head",
                             [helper.make_tensor_value_info("probs_in", TensorProto.FLOAT, [1, 10])],
                             [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [head_w])
    head_path, merged = os.path.join(work, "head.onnx"), os.path.join(work, "merged.onnx")
    onnx.save(helper.make_model(head, opset_imports=[helper.make_opsetid("", 17)]), head_path)
    r = subprocess.run([args.ferry, "edit", small, merged, "--merge", head_path, "--connect", "output:probs_in", "--force"],
                       capture_output=True, text=True)
    if r.returncode == 0:
        onnx.checker.check_model(onnx.load(merged), full_check=True)
        image = rng.random((1, 1, 16, 16)).astype(np.float32)
        probs = ort_session(small).run(None, {"input": image})[0]
        want = ort_session(head_path).run(None, {"probs_in": probs})[0]
        sess = ort_session(merged)
        got = sess.run(None, {"input": image})[0]
        ok = float(np.abs(got - want).max()) <= 1e-6 and [o.name for o in sess.get_outputs()] == ["y"]
        detail = f"outputs {[o.name for o in sess.get_outputs()]}, the head's output on small_cnn's, difference {float(np.abs(got - want).max()):.2g}"
    else:
        ok, detail = False, r.stderr.strip()
    checks.record(ok, "edit --merge --connect", detail)


def check_graph_pictures(checks, args, work):
    """`ferry inspect --graph`: the DOT parses in Graphviz's own dot, and its SVG has a box for every
    node and an ellipse for every graph input and output; the HTML page embeds that SVG."""
    import shutil
    if not shutil.which("dot"):
        print("Graphviz's dot is not installed: the --graph checks are skipped")
        return
    light = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", "light_resnet50.onnx")
    for path in (light, os.path.join(ROOT, "Fixtures", "keras", "mnist_cnn.h5")):
        name = os.path.basename(path)
        info = json.loads(subprocess.run([args.ferry, "inspect", path, "--json"], capture_output=True, text=True).stdout)
        want = info["node_count"] + len(info["inputs"]) + len(info["outputs"])
        dot_path, html_path = os.path.join(work, name + ".dot"), os.path.join(work, name + ".html")
        r = subprocess.run([args.ferry, "inspect", path, "--graph", dot_path], capture_output=True, text=True)
        h = subprocess.run([args.ferry, "inspect", path, "--graph", html_path], capture_output=True, text=True)
        if r.returncode != 0 or h.returncode != 0:
            checks.record(False, f"{name}: inspect --graph", (r.stderr or h.stderr).strip())
            continue
        svg = subprocess.run(["dot", "-Tsvg", dot_path], capture_output=True, text=True)
        drawn = svg.stdout.count('class="node"')
        with open(html_path, encoding="utf-8") as f:
            page = f.read()
        ok = svg.returncode == 0 and drawn == want and page.count('class="node"') == want and "<script>" in page
        checks.record(ok, f"{name}: --graph parsed by Graphviz, every node drawn",
                      f"{drawn} of {want} nodes, inputs and outputs in dot's SVG; the page {len(page) // 1024} KB, self-contained")
        # a real browser: Debian's headless Chromium loads the page (its script runs) and draws it
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if not browser:
            print("chromium is not installed: the browser check of the --graph page is skipped")
            continue
        os.makedirs(ARTIFACTS, exist_ok=True)
        shot = os.path.join(ARTIFACTS, name + ".png")
        flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,1000"]
        url = "file://" + os.path.abspath(html_path)
        subprocess.run([browser, *flags, f"--screenshot={shot}", url], capture_output=True, timeout=120)
        dom = subprocess.run([browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
        shown = dom.count('class="node"')
        scaled = "transform: translate(" in dom  # the page's script ran: it places the drawing
        ok = shown == want and scaled and os.path.exists(shot) and os.path.getsize(shot) > 5000
        checks.record(ok, f"{name}: the --graph page in headless Chromium",
                      f"{shown} of {want} nodes in the browser's DOM, script ran: {scaled}, screenshot {shot}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ferry", required=True)
    p.add_argument("--shared")
    p.add_argument("--work")
    p.add_argument("--keep-work", action="store_true")
    args = p.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="ferry-tools-")
    os.makedirs(work, exist_ok=True)
    checks = Checks(width=48)
    models = torch_models(work) + handmade(work)
    shared = os.path.join(args.shared or "", "models", SHARED)
    if args.shared and os.path.exists(shared):
        models.append(("paddleocr", shared))
    else:
        print("the shared models are absent: the paddleocr check is skipped")
    for name, path in models:
        check_shapes(checks, args, work, name, path)
    for name, path in models:
        check_diff(checks, args, work, name, path)
    check_keras_diff(checks, args, work)
    check_edit(checks, args, work)
    check_graph_pictures(checks, args, work)
    for name in ("keras/mnist_cnn.h5", "keras/conv2d.h5", "hdf5/tree.h5"):
        check_hdf5_listing(checks, args, os.path.join(ROOT, "Fixtures", name))
    sys.exit(checks.finish(work, args.keep_work))


if __name__ == "__main__":
    main()
