#!/usr/bin/env python3
"""`ferry edit --opset N` against onnxruntime and the onnx package's own version converter.

    interop_opset.py --ferry PATH_TO_FERRY [--shared DIR] [--work DIR] [--keep-work] [--targets 11,13,18,21]

conformance  every node case of the installed onnx package (onnx.backend.test.case.node) in the
             default domain, from opset 7 on, with tensor inputs and outputs, whose model
             onnxruntime runs at its own opset to the expected outputs (make test takes up to
             5 cases per op, each to 2 of the targets in turn; --all: every case to every
             target): converted by Ferry. A conversion must either be refused with one line on
             stderr (exit 1), or pass onnx.checker's check at the target (the full check when
             the case passes it) and give the expected
             outputs in onnxruntime (rtol 1e-3, atol 1e-5: the backend tests' tolerance,
             widened for float16 cases). onnx.version_converter converts the same cases; the
             summary counts where each converted and the other refused (Ferry's refusals where
             onnx's converter gave a model that runs right are listed).
old opsets   models written at opsets 7 to 10 with the ops whose form changed since (Upsample,
             Slice, TopK, Clip, Pad, BatchNormalization's spatial, Dropout's ratio, Scatter),
             upgraded to 13 and 18: onnxruntime gives the originals' outputs.
real models  a small CNN and a transformer encoder exported by torch.onnx.export (opset 17:
             HardSwish, LayerNormalization, Softmax, Split, ReduceMean, Squeeze/Unsqueeze),
             Fixtures/cli/opset_modern.onnx (opset 20: HardSwish, LayerNormalization, both
             Gelus, which downgrades write as the ops defining them), the shared PaddleOCR
             classifier when present: down to 13 and 11 and up to 21, equal outputs in
             onnxruntime (within 1e-5 of the range).
Prints one line per check, then `N passed, M failed`; exit 1 on a failure.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from checks import Checks, Failure, ort_run, ort_session

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = "ch_ppocr_mobile_v2.0_cls_infer.onnx"


def ferry_opset(args, src, dst, target):
    """Runs `ferry edit SRC DST --opset TARGET`: (converted, message); raises Failure when the
    refusal is not one line with exit 1."""
    r = subprocess.run([args.ferry, "edit", src, dst, "--opset", str(target), "--force"], capture_output=True, text=True)
    if r.returncode == 0:
        return True, r.stdout.strip()
    lines = r.stderr.strip().splitlines()
    if r.returncode != 1 or len(lines) != 1:
        raise Failure(f"ferry edit --opset {target} ended with {r.returncode}: {r.stderr.strip()[:300]}")
    return False, lines[0]


def same(got, want, rtol=1e-3, atol=1e-5):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        return False
    if got.dtype.kind in "fc":
        return bool(np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True))
    return bool(np.array_equal(got, want))


def runs_right(model, data_sets):
    """True when onnxruntime runs `model` (a path or bytes) to every data set's expected outputs."""
    try:
        # quiet: the conformance cases make onnxruntime log kernel errors
        sess = ort_session(model, threads=1, quiet=True)
        for inputs, outputs in data_sets:
            got = sess.run(None, inputs)
            if len(got) != len(outputs) or not all(same(g, w) for g, w in zip(got, outputs)):
                return False
        return True
    except Exception:  # noqa: BLE001 - onnxruntime refusing the model is a 'no'
        return False


def conformance_cases():
    """(name, model, data sets as [(feeds, expected outputs)]) of the onnx package's node cases
    Ferry's conversion applies to."""
    import onnx.backend.test.case.node as node

    cases = []
    for case in node.collect_testcases(None):
        m = case.model
        opsets = {o.domain: o.version for o in m.opset_import}
        if set(opsets) - {"", "ai.onnx"} or m.functions or any(n.domain not in ("", "ai.onnx") for n in m.graph.node):
            continue
        if max(opsets.values()) < 7 or any(not v.type.HasField("tensor_type") for v in list(m.graph.input) + list(m.graph.output)):
            continue
        data = []
        for inputs, outputs in case.data_sets:
            feeds = {v.name: numpy_helper.to_array(a) if isinstance(a, TensorProto) else np.asarray(a)
                     for v, a in zip(m.graph.input, inputs)}
            data.append((feeds, [numpy_helper.to_array(a) if isinstance(a, TensorProto) else np.asarray(a) for a in outputs]))
        cases.append((case.name, m, data))
    return cases


def sample(cases, per_op, targets):
    """(case, targets) pairs: at most `per_op` cases per op under test (the first node's op),
    spread over its variants, each with two of `targets` in turn; every pair with --all."""
    if per_op is None:
        return [(c, targets) for c in cases]
    by_op = {}
    for c in cases:
        by_op.setdefault(c[1].graph.node[0].op_type if c[1].graph.node else "", []).append(c)
    chosen, turn = [], 0
    for op in sorted(by_op):
        group = by_op[op]
        step = max(1, len(group) // per_op)
        for c in group[::step][:per_op]:
            chosen.append((c, [targets[turn % len(targets)], targets[(turn + 1 + len(targets) // 2) % len(targets)]]))
            turn += 1
    return chosen


def convert_case(args, work, index, name, model, data, targets):
    """Ferry's conversions of one case: [(target, converted, message or Failure, path)]."""
    src = os.path.join(work, f"case{index}.onnx")
    with open(src, "wb") as f:
        f.write(model.SerializeToString())
    own = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    results = []
    for target in targets:
        if target == own:
            continue
        dst = os.path.join(work, f"case{index}_{target}.onnx")
        try:
            converted, message = ferry_opset(args, src, dst, target)
            results.append((target, converted, message, dst))
        except Failure as e:
            results.append((target, None, str(e), dst))
    return results


def check_conformance(checks, args, work, targets):
    from concurrent.futures import ThreadPoolExecutor

    from onnx import version_converter

    cases = [c for c in conformance_cases() if runs_right(c[1].SerializeToString(), c[2])]
    chosen = sample(cases, None if args.all else 5, targets)
    counts = dict(runnable=len(cases), tried=len(chosen), converted=0, refused=0, onnx_converted=0, onnx_right=0, both=0)
    wrong, crashed, gaps, only_ferry = [], [], [], []
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(convert_case, args, work, i, c[0], c[1], c[2], t) for i, (c, t) in enumerate(chosen)]
        outcomes = [(c, j.result()) for (c, _), j in zip(chosen, jobs)]
    for (name, model, data), results in outcomes:
        try:
            onnx.checker.check_model(model, full_check=True)
            full = True
        except Exception:  # noqa: BLE001 - some cases' declared shapes disagree with onnx's inference already
            full = False
        for target, converted, message, dst in results:
            if converted is None:
                crashed.append(f"{name}->{target}: {message}")
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    theirs = version_converter.convert_version(model, target)
                    onnx.checker.check_model(theirs)
                    theirs_right = runs_right(theirs.SerializeToString(), data)
                    counts["onnx_converted"] += 1
                except Exception:  # noqa: BLE001 - the reference converter refusing is counted, not a failure
                    theirs_right = False
            counts["onnx_right"] += theirs_right
            if not converted:
                counts["refused"] += 1
                if theirs_right:
                    gaps.append(f"{name}->{target} ({message.split(': ', 1)[-1][:90]})")
                continue
            counts["converted"] += 1
            ours = onnx.load(dst)
            version = max(o.version for o in ours.opset_import if o.domain in ("", "ai.onnx"))
            try:
                if version != target:
                    raise ValueError(f"opset {version} written")
                onnx.checker.check_model(ours, full_check=full)
                if not runs_right(dst, data):
                    raise ValueError("outputs differ from the expected ones in onnxruntime")
            except Exception as e:  # noqa: BLE001
                wrong.append(f"{name}->{target}: {str(e).splitlines()[0][:120]}")
                continue
            counts["both"] += theirs_right
            if not theirs_right:
                only_ferry.append(f"{name}->{target}")
    detail = (f"{counts['tried']} of {counts['runnable']} cases, to opsets {','.join(map(str, targets))}: Ferry converted {counts['converted']} "
              f"(all right), refused {counts['refused']}; onnx's converter gave {counts['onnx_right']} that run right; "
              f"{len(only_ferry)} only Ferry converted right, {len(gaps)} only onnx's")
    for g in gaps[:40]:
        print(f"     only onnx's converter: {g}")
    for w in wrong[:20]:
        print(f"     wrong: {w}")
    for c in crashed[:20]:
        print(f"     not one line: {c}")
    checks.record(not wrong and not crashed and counts["converted"] > 0, "conformance cases converted", detail)


def old_models():
    """(name, model, feeds) at opsets 7-10, with the ops whose form changed since."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 3, 4, 6)).astype(np.float32)
    f = lambda name, shape: helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)  # noqa: E731
    out = []

    def model(name, opset, nodes, inputs, outputs, inits=()):
        g = helper.make_graph(nodes, name, inputs, outputs, list(inits))
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 3 if opset <= 8 else (4 if opset == 9 else 5)
        if m.ir_version < 4:  # every initializer a graph input before IR 4
            g.input.extend(helper.make_tensor_value_info(t.name, t.data_type, t.dims) for t in inits)
        return m

    out.append(("upsample-7", model("upsample7", 7, [helper.make_node("Upsample", ["x"], ["y"], mode="nearest", scales=[1.0, 1.0, 2.0, 3.0])],
                                      [f("x", [1, 3, 4, 6])], [f("y", [1, 3, 8, 18])]), {"x": x}))
    out.append(("upsample-9 linear", model("upsample9", 9, [helper.make_node("Upsample", ["x", "s"], ["y"], mode="linear")],
                                            [f("x", [1, 3, 4, 6])], [f("y", [1, 3, 8, 12])],
                                            [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "s")]), {"x": x}))
    out.append(("resize-10", model("resize10", 10, [helper.make_node("Resize", ["x", "s"], ["y"], mode="nearest")],
                                    [f("x", [1, 3, 4, 6])], [f("y", [1, 3, 6, 9])],
                                    [numpy_helper.from_array(np.array([1, 1, 1.5, 1.5], np.float32), "s")]), {"x": x}))
    out.append(("slice-1 topk-1", model("slice1", 9, [
        helper.make_node("Slice", ["x"], ["s"], starts=[1, 0], ends=[3, -1], axes=[1, 3]),
        helper.make_node("TopK", ["s"], ["v", "i"], k=2, axis=-1)],
        [f("x", [1, 3, 4, 6])], [f("v", [1, 2, 4, 2]), helper.make_tensor_value_info("i", TensorProto.INT64, [1, 2, 4, 2])]),
        {"x": x}))
    out.append(("clip-6 pad-2", model("clip6", 9, [
        helper.make_node("Clip", ["x"], ["c"], min=-0.5, max=0.75),
        helper.make_node("Pad", ["c"], ["y"], pads=[0, 0, 1, 2, 0, 0, 2, 1], value=1.5)],
        [f("x", [1, 3, 4, 6])], [f("y", [1, 3, 7, 9])]), {"x": x}))
    bn = [numpy_helper.from_array(rng.standard_normal(3).astype(np.float32) * s + o, n)
          for n, s, o in (("g", 0.3, 1), ("b", 0.3, 0), ("m", 0.3, 0), ("v", 0.1, 1))]
    out.append(("batchnorm-7 dropout-7 softmax-1", model("bn7", 7, [
        helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], ["n"], spatial=1, epsilon=1e-3),
        helper.make_node("Dropout", ["n"], ["d"], ratio=0.3),
        helper.make_node("Softmax", ["d"], ["y"], axis=2)],
        [f("x", [1, 3, 4, 6])], [f("y", [1, 3, 4, 6])], bn), {"x": x}))
    idx = np.array([[0, 2, 1]], np.int64)
    out.append(("scatter-9", model("scatter9", 9, [helper.make_node("Scatter", ["d", "i", "u"], ["y"], axis=1)],
                                    [f("d", [1, 5]), helper.make_tensor_value_info("i", TensorProto.INT64, [1, 3]), f("u", [1, 3])],
                                    [f("y", [1, 5])]),
                {"d": rng.standard_normal((1, 5)).astype(np.float32), "i": idx, "u": rng.standard_normal((1, 3)).astype(np.float32)}))
    return out


def check_old_opsets(checks, args, work):
    for name, model, feeds in old_models():
        src = os.path.join(work, "old.onnx")
        onnx.save(model, src)

        def check(src=src, model=model, feeds=feeds):
            want = [v for _, v in ort_run(src, feeds, optimization="basic")]
            details = []
            for target in (13, 18):
                dst = os.path.join(work, f"old_{target}.onnx")
                converted, message = ferry_opset(args, src, dst, target)
                if not converted:
                    raise Failure(f"refused to {target}: {message}")
                onnx.checker.check_model(onnx.load(dst), full_check=True)
                got = [v for _, v in ort_run(dst, feeds, optimization="basic")]
                err = max(float(np.abs(g.astype(np.float64) - w).max()) for g, w in zip(got, want))
                if not all(same(g, w, rtol=0, atol=1e-6) for g, w in zip(got, want)):
                    raise Failure(f"opset {target}: outputs differ from the original's by {err:.2e}")
                details.append(f"{target}: equal ({err:.0e})")
            return details

        checks.run(f"opset {model.opset_import[0].version} {name} -> 13, 18", check)


def torch_models(work):
    """Small models exported by torch at opset 17; [] without torch."""
    try:
        import torch
    except ImportError:
        print("torch is absent: the exported models' checks are skipped")
        return []
    torch.manual_seed(0)

    class CNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(8)
            self.c2 = torch.nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)
            self.fc = torch.nn.Linear(8, 5)

        def forward(self, x):
            y = torch.nn.functional.silu(self.bn(self.c1(x)))
            y = torch.nn.functional.hardswish(self.c2(y))
            a, b = torch.split(y, 4, dim=1)
            y = torch.cat([a * torch.sigmoid(b), b], 1)
            y = torch.nn.functional.interpolate(y, scale_factor=2, mode="nearest")
            return torch.softmax(self.fc(y.mean(dim=(2, 3))), dim=-1)

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Linear(12, 32)
            self.layer = torch.nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True, activation="gelu")
            self.norm = torch.nn.LayerNorm(32)

        def forward(self, x):
            h = self.norm(self.layer(self.emb(x)))
            return h.unsqueeze(1).squeeze(1).mean(dim=1)

    made = []
    for name, module, shape in (("cnn", CNN(), (2, 3, 16, 16)), ("encoder", Encoder(), (2, 7, 12))):
        module.eval()
        path = os.path.join(work, f"{name}.onnx")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (torch.randn(*shape),), path, opset_version=17, dynamo=False,
                              input_names=["x"], output_names=["y"])
        made.append((name, path, {"x": np.random.default_rng(1).standard_normal(shape).astype(np.float32)}))
    return made


def check_real_model(checks, args, work, name, path, feeds):
    def check():
        want = [v for _, v in ort_run(path, feeds)]
        details = []
        for target in (11, 13, 21):
            dst = os.path.join(work, f"{name}_{target}.onnx")
            converted, message = ferry_opset(args, path, dst, target)
            if not converted:
                if "exists from opset" in message:
                    details.append(f"{target}: refused ({message.split(': ')[-1]})")
                    continue
                raise Failure(f"refused to {target}: {message}")
            onnx.checker.check_model(onnx.load(dst), full_check=True)
            got = [v for _, v in ort_run(dst, feeds)]
            scale = max(float(np.abs(w).max()) for w in want) or 1.0
            err = max(float(np.abs(g.astype(np.float64) - w).max()) for g, w in zip(got, want)) / scale
            if err > 1e-5:
                raise Failure(f"opset {target}: outputs differ by {err:.2e} of the range")
            details.append(f"{target}: equal ({err:.0e})")
        return details

    checks.run(f"{name} -> 11, 13, 21", check)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ferry", required=True)
    p.add_argument("--shared")
    p.add_argument("--work")
    p.add_argument("--keep-work", action="store_true")
    p.add_argument("--targets", default="11,13,18,21")
    p.add_argument("--all", action="store_true", help="every case to every target (make test takes 5 per op, 2 targets each)")
    args = p.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="ferry-opset-")
    os.makedirs(work, exist_ok=True)
    checks = Checks(width=48)
    check_conformance(checks, args, work, [int(t) for t in args.targets.split(",")])
    check_old_opsets(checks, args, work)
    models = torch_models(work)
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5)).astype(np.float32)
    models.append(("opset_modern", os.path.join(ROOT, "Fixtures", "cli", "opset_modern.onnx"), {"x": x}))
    shared = os.path.join(args.shared or "", "models", SHARED)
    if args.shared and os.path.exists(shared):
        c, h, w = 3, 48, 192
        models.append(("paddleocr", shared, {"x": np.random.default_rng(2).random((2, c, h, w), dtype=np.float32)}))
    else:
        print("the shared models are absent: the paddleocr check is skipped")
    for name, path, feeds in models:
        check_real_model(checks, args, work, name, path, feeds)
    sys.exit(checks.finish(work, args.keep_work))


if __name__ == "__main__":
    main()
