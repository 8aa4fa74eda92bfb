#!/usr/bin/env python3
"""Writes Sources/FerryPasses/Opset/OpsetHistory.swift from the onnx package's operator schemas: for
every ONNX-domain op, its schema versions with the element types each takes, and the opset from
which it is deprecated (what `ferry edit --opset N` needs to know: whether an op exists at the
target, and whether it takes the model's element types there).

    gen_opset_history.py [--check]

--check: exit 1 when the file differs from what the installed onnx package gives.
"""
import argparse
import collections
import os
import subprocess
import sys

import onnx
import onnx.defs


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Sources", "FerryPasses", "Opset", "OpsetHistory.swift")


def type_mask(schema, param):
    """Bit k set when the formal parameter takes tensors of ONNX element type k; every bit when it
    takes no tensor (sequences, optionals), which the converter does not check."""
    allowed = {c.type_param_str: c.allowed_type_strs for c in schema.type_constraints}.get(param.type_str, [param.type_str])
    mask = 0
    for t in allowed:
        if t.startswith("tensor(") and t.endswith(")"):
            mask |= 1 << onnx.TensorProto.DataType.Value(t[7:-1].upper())
    return mask or (1 << 64) - 1


def masks(schema, params):
    text = ", ".join("UInt64.max" if m == (1 << 64) - 1 else hex(m) for m in (type_mask(schema, p) for p in params))
    variadic = bool(params) and params[-1].option == onnx.defs.OpSchema.FormalParameterOption.Variadic
    return f"[{text}]", "true" if variadic else "false"


def render():
    schemas, deprecated = collections.defaultdict(dict), {}
    for s in onnx.defs.get_all_schemas_with_history():
        if s.domain not in ("", "ai.onnx"):
            continue
        schemas[s.name][s.since_version] = s
        if s.deprecated:
            deprecated[s.name] = min(deprecated.get(s.name, 1 << 30), s.since_version)
    # an op counts as removed only when its newest schema is deprecated (GroupNormalization-18 was
    # deprecated in favour of GroupNormalization-21, which is not)
    deprecated = {name: v for name, v in deprecated.items() if schemas[name][max(schemas[name])].deprecated}
    lines = [
        f"// Written by tools/gen_opset_history.py from onnx {onnx.__version__}'s operator schemas; do not edit.",
        "",
        "/// For each ONNX op, its schema versions (the first is where it appeared) with the element types",
        "/// each accepts, and the opset from which it is deprecated (nil: it is not).",
        "enum OpsetHistory {",
        "    /// The newest opset these schemas describe.",
        f"    static let newest: Int64 = {onnx.defs.onnx_opset_version()}",
        "",
        "    /// One schema version: the opset it starts at and, per formal input and output, the element",
        "    /// types it takes (bit k: `ElementType` raw value k; all bits: not a tensor, not checked). The",
        "    /// last formal input (output) stands for all the rest when it is variadic.",
        "    struct Schema {",
        "        let since: Int64",
        "        let inputs: [UInt64]",
        "        let variadicInputs: Bool",
        "        let outputs: [UInt64]",
        "        let variadicOutputs: Bool",
        "    }",
        "",
        "    static let ops: [String: (schemas: [Schema], deprecatedFrom: Int64?)] = [",
    ]
    entries = []
    for name in sorted(schemas):
        versions = []
        for v in sorted(schemas[name]):
            s = schemas[name][v]
            ins, vi = masks(s, s.inputs)
            outs, vo = masks(s, s.outputs)
            versions.append(f"Schema(since: {v}, inputs: {ins}, variadicInputs: {vi}, outputs: {outs}, variadicOutputs: {vo})")
        d = deprecated.get(name)
        body = ",\n                ".join(versions)
        entries.append(f'        "{name}": (\n            [\n                {body}\n            ], {d if d is not None else "nil"}\n        )')
    lines += [",\n".join(entries), "    ]", "}", ""]  # no trailing comma, as swift-format writes it
    # laid out by swift-format (long schema lines wrapped), so `make format-check` accepts the file
    return subprocess.run(["swift-format", "format"], input="\n".join(lines), capture_output=True, text=True,
                          check=True, cwd=ROOT).stdout


def write_or_check(doc, out, text, script):
    """Writes `text` to `out`, or with --check compares them; returns the exit status."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    if args.check:
        with open(out, encoding="utf-8") as f:
            if f.read() != text:
                print(f"{out} is not what onnx {onnx.__version__} gives: run tools/{script}")
                return 1
        print(f"{os.path.relpath(out, ROOT)}: up to date with onnx {onnx.__version__}")
        return 0
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


def main():
    return write_or_check(__doc__, OUT, render(), "gen_opset_history.py")


if __name__ == "__main__":
    sys.exit(main())
