#!/usr/bin/env python3
"""Writes Sources/FerryPasses/Precision/HalfPrecisionOps.swift from the onnx package's operator schemas:
for every ONNX-domain op, the first opset in which one of its type constraints allows float16 and
the first that allows bfloat16 (what `ferry convert --dtype` needs to know to keep an op in float32).

    gen_half_precision_ops.py [--check]

--check: exit 1 when the file differs from what the installed onnx package gives.
"""
import os
import sys

import onnx
import onnx.defs

from generated import write_or_check

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Sources", "FerryPasses", "Precision", "HalfPrecisionOps.swift")


def first_opsets(type_name):
    first = {}
    for s in onnx.defs.get_all_schemas_with_history():
        if s.domain in ("", "ai.onnx") and any(type_name in tc.allowed_type_strs for tc in s.type_constraints):
            first[s.name] = min(first.get(s.name, 1 << 30), s.since_version)
    return first


def render():
    half, bf16 = first_opsets("tensor(float16)"), first_opsets("tensor(bfloat16)")
    lines = [
        f"// Written by tools/gen_half_precision_ops.py from onnx {onnx.__version__}'s operator schemas; do not edit.",
        "",
        "/// For each ONNX op, the first opset whose schema lets it take float16, and bfloat16 (nil: none does).",
        "enum HalfPrecisionOps {",
        "    static let firstOpset: [String: (float16: Int64?, bfloat16: Int64?)] = [",
    ]
    entries = []
    for name in sorted(set(half) | set(bf16)):
        f, b = half.get(name), bf16.get(name)
        entries.append(f'        "{name}": ({f if f is not None else "nil"}, {b if b is not None else "nil"})')
    lines += [",\n".join(entries), "    ]", "}", ""]  # no trailing comma, as swift-format writes it
    return "\n".join(lines)


def main():
    return write_or_check(__doc__, OUT, render(), "gen_half_precision_ops.py")


if __name__ == "__main__":
    sys.exit(main())
