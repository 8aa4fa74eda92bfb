"""The command line of the scripts that write Swift sources from the onnx package's schemas:
write the file, or with --check say whether it is what the installed onnx package gives."""
import argparse
import os

import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
