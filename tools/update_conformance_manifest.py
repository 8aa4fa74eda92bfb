#!/usr/bin/env python3
"""Writes or checks Fixtures/conformance/manifest.txt, the ONNX conformance cases the interpreter must pass.

    update_conformance_manifest.py [--passed FILE] [--manifest FILE] [--allow-drop]
    update_conformance_manifest.py --check [--manifest FILE] [--exempt-bfloat16]

Without --check: reads the case names the Swift conformance test passed (.build/conformance-passed.txt,
one per line) and writes the manifest: a header comment, then `case rtol atol` per case, sorted, with
the tolerances the `onnx` package gives each case. A case in the old manifest that is not in the
passed list (a regression, or a filtered test run) is refused, one line naming them, unless
--allow-drop.

With --check (writes nothing): every non-expanded case of every op in REQUIRED_OPS (the op of the
case model's main node) must be in the manifest. Missing cases are listed by op; cases whose inputs or
outputs are of types the interpreter cannot hold (strings, complex,
sequences, optionals, maps) are listed as `exempt: type` and do not fail. Exit 1 when any is missing.
"""
import argparse
import os
import sys
import warnings
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSED = os.path.join(ROOT, ".build", "conformance-passed.txt")
MANIFEST = os.path.join(ROOT, "Fixtures", "conformance", "manifest.txt")
HEADER = "# ONNX backend node conformance cases the interpreter must pass: case rtol atol (tools/update_conformance_manifest.py)"

REQUIRED_OPS = """Conv ConvTranspose Gemm MatMul Add Sub Mul Div Pow Sqrt Exp Log Abs Neg Reciprocal Floor Ceil Round
Erf Min Max Sum Mean Where Equal Less Greater And Or Not Relu LeakyRelu PRelu Elu Selu Sigmoid HardSigmoid
HardSwish Tanh Softplus Softsign Gelu Clip Softmax LogSoftmax MaxPool AveragePool GlobalAveragePool
GlobalMaxPool LpNormalization BatchNormalization InstanceNormalization LayerNormalization LRN Dropout
Identity Flatten Reshape Transpose Squeeze Unsqueeze Concat Split Slice Gather GatherElements Expand Tile
Pad Resize Upsample DepthToSpace SpaceToDepth Shape Size ConstantOfShape Constant Range Cast CastLike
ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL2 ArgMax ArgMin TopK CumSum Einsum NonZero
LSTM GRU RNN If Loop QuantizeLinear DequantizeLinear DynamicQuantizeLinear QLinearConv QLinearMatMul ConvInteger
MatMulInteger""".split()

# Tensor element types the interpreter cannot hold (onnx.TensorProto names).
UNHELD = {"STRING", "COMPLEX64", "COMPLEX128"}


# Cases whose expected output is further from the exact result than its tolerance leaves room for
# another, equally close rounding: case -> (rtol, atol, why).
WIDER = {
    "test_attention_4d_causal_fp16_expanded": (
        2e-3, 1e-7,
        "float16 attention: at element 12 the expected output (numpy's float16 arithmetic) is 2.9e-4 above the "
        "float64 result, Ferry (float32 arithmetic, rounded at the graph's Casts to float16) 2.0e-4 below it, "
        "onnxruntime 4.9e-5 above: Ferry and the expected output are two float16 steps apart"),
}


class Failure(Exception):
    """A one-line reason to exit 1."""


def onnx_cases():
    """{name: case} for every ONNX backend node case of the installed onnx package."""
    warnings.filterwarnings("ignore")
    from onnx.backend.test.case.node import collect_testcases
    return {c.name: c for c in collect_testcases(None)}


def read_names(path):
    with open(path, encoding="utf-8") as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]


def read_manifest(path):
    """{case: (rtol, atol)} from a manifest file; empty when it does not exist."""
    if not os.path.exists(path):
        return {}
    out = {}
    for line in read_names(path):
        fields = line.split()
        if len(fields) != 3:
            raise Failure(f"{path}: malformed line {line!r}")
        out[fields[0]] = (float(fields[1]), float(fields[2]))
    return out


def main_op(model):
    """The op type of a case model's main node: its only node, else the node making the first output."""
    nodes = [n for n in model.graph.node if n.domain in ("", "ai.onnx")]
    if len(nodes) == 1:
        return nodes[0].op_type
    first = model.graph.output[0].name if model.graph.output else None
    return next((n.op_type for n in nodes if first in n.output), None)


def type_names(t, onnx_mod):
    """Every element/container type inside a TypeProto, as onnx names (FLOAT, SEQUENCE...)."""
    kind = t.WhichOneof("value")
    if kind == "tensor_type" or kind == "sparse_tensor_type":
        return [onnx_mod.TensorProto.DataType.Name(getattr(t, kind).elem_type)] + (["SPARSE"] if kind == "sparse_tensor_type" else [])
    if kind == "sequence_type":
        return ["SEQUENCE"] + type_names(t.sequence_type.elem_type, onnx_mod)
    if kind == "optional_type":
        return ["OPTIONAL"] + type_names(t.optional_type.elem_type, onnx_mod)
    if kind == "map_type":
        return ["MAP"]
    return [str(kind)]


def unheld_types(model, exempt):
    import onnx
    found = set()
    for vi in list(model.graph.input) + list(model.graph.output):
        found.update(n for n in type_names(vi.type, onnx) if n in exempt)
    return sorted(found)


def write_manifest(args):
    cases = onnx_cases()
    passed = sorted(set(read_names(args.passed)))
    unknown = [n for n in passed if n not in cases]
    if unknown:
        raise Failure(f"{len(unknown)} passed cases unknown to onnx {__import__('onnx').__version__}: {', '.join(unknown[:5])}")
    old = read_manifest(args.manifest)
    dropped = sorted(set(old) - set(passed))
    if dropped and not args.allow_drop:
        raise Failure(f"{len(dropped)} manifest cases did not pass (regression or filtered run; --allow-drop to remove them): "
                      + ", ".join(dropped[:8]) + (" ..." if len(dropped) > 8 else ""))
    def tolerance(n):
        return WIDER[n][:2] if n in WIDER else (cases[n].rtol, cases[n].atol)

    lines = [HEADER] + [f"{n} {tolerance(n)[0]!r} {tolerance(n)[1]!r}" for n in passed]
    os.makedirs(os.path.dirname(os.path.abspath(args.manifest)), exist_ok=True)
    tmp = args.manifest + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, args.manifest)
    added = len(set(passed) - set(old))
    print(f"{args.manifest}: {len(passed)} cases ({added} added, {len(dropped)} dropped)")
    return 0


# Training-mode Dropout with ratio > 0 draws its mask from NumPy's random generator: no other
# engine can reproduce those outputs (onnxruntime fails them too).
RANDOM_CASES = {"test_training_dropout", "test_training_dropout_default", "test_training_dropout_default_mask",
                "test_training_dropout_mask"}


def check_manifest(args):
    manifest = read_manifest(args.manifest)
    exempt_types = UNHELD | ({"BFLOAT16"} if args.exempt_bfloat16 else set())
    exempt_types |= {"SEQUENCE", "OPTIONAL", "MAP", "SPARSE"}
    missing, exempt, required = defaultdict(list), defaultdict(list), defaultdict(list)
    for name, case in sorted(onnx_cases().items()):
        op = main_op(case.model)
        if "_expanded" in name or op not in REQUIRED_OPS:
            continue
        required[op].append(name)
        if name in manifest:
            continue
        unheld = unheld_types(case.model, exempt_types)
        if name in RANDOM_CASES:
            exempt[op].append(f"{name} (random mask)")
        elif unheld:
            exempt[op].append(f"{name} ({'/'.join(unheld)})")
        else:
            missing[op].append(name)
    for op in REQUIRED_OPS:
        if not required[op]:
            print(f"{op}: no conformance cases in onnx {__import__('onnx').__version__}")
    for op in sorted(exempt):
        print(f"exempt: {op}: {', '.join(exempt[op])}")
    for op in sorted(missing):
        print(f"missing: {op} ({len(missing[op])} of {len(required[op])}): {', '.join(missing[op])}")
    total = sum(len(v) for v in required.values())
    n_missing, n_exempt = sum(len(v) for v in missing.values()), sum(len(v) for v in exempt.values())
    print(f"{total} required cases of {len(REQUIRED_OPS)} ops: {total - n_missing - n_exempt} in the manifest, "
          f"{n_missing} missing ({len(missing)} ops), {n_exempt} exempt (types Ferry cannot hold, random outputs)")
    return 1 if n_missing else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passed", default=PASSED, help="passed case names, one per line (default: .build/conformance-passed.txt)")
    ap.add_argument("--manifest", default=MANIFEST, help="manifest to write or check (default: Fixtures/conformance/manifest.txt)")
    ap.add_argument("--check", action="store_true", help="list required cases missing from the manifest; write nothing")
    ap.add_argument("--allow-drop", action="store_true", help="let cases that did not pass leave the manifest")
    ap.add_argument("--exempt-bfloat16", action="store_true", help="count bfloat16 cases as exempt by type")
    args = ap.parse_args()
    try:
        return check_manifest(args) if args.check else write_manifest(args)
    except (Failure, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
