#!/usr/bin/env python3
"""Round-trip ONNX models through Ferry's CLI and check nothing changed.

    interop_onnx.py --ferry PATH_TO_FERRY [--shared DIR] [--conformance DIR] [--work DIR]

For every model: `ferry convert IN OUT --force` (and, for some, with
`--external-data weights.bin --size-threshold 0`), then
  checker        onnx.checker passes on OUT when it passed on IN
                 (full_check if that passed on IN, else the basic check)
  equal          IN and OUT are the same ModelProto once every TensorProto is
                 reduced to its values (storage form may change, nothing else)
  ort            onnxruntime gives bit-identical outputs for IN and OUT
                 (only when onnxruntime can load IN)
  deterministic  converting twice gives byte-identical files
Plus, for every Fixtures/onnx/malformed/*.onnx: `ferry inspect FILE` exits 1
with exactly one stderr line naming the file. With --conformance DIR (the output
of ../shared/tools/gen_onnx_conformance.py), every ONNX backend conformance model
must convert and come back equal. Finally, 300 randomly damaged copies of the
valid fixtures (fixed seed) must each be read or refused cleanly, never crash.

Prints one line per model and, last, `N passed, M failed`. Exit 1 on failure.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from google.protobuf.descriptor import FieldDescriptor
from onnx import TensorProto, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks, Failure, check_damaged, ort_session  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Fixtures", "onnx")
EXT_ARGS = ["--external-data", "weights.bin", "--size-threshold", "0"]
TIMEOUT = 120

ort.set_default_logger_severity(3)


# ---------------------------------------------------------------- normaliser


def _is_repeated(field: FieldDescriptor) -> bool:
    rep = getattr(field, "is_repeated", None)
    if rep is not None:
        return rep
    return field.label == FieldDescriptor.LABEL_REPEATED


def _scalar(field: FieldDescriptor, value):
    if field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return ("f", struct.pack("<d", value).hex())  # exact: keeps -0.0 and NaN bits apart
    return value


def _is_default(field: FieldDescriptor, value) -> bool:
    if field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return struct.pack("<d", value) == struct.pack("<d", float(field.default_value or 0.0))
    return value == field.default_value


def tensor_values(t: TensorProto, base_dir: str):
    if t.data_type == TensorProto.STRING:
        return [bytes(s) for s in t.string_data]
    try:
        arr = numpy_helper.to_array(t, base_dir)
    except Exception as e:  # noqa: BLE001
        return ("undecodable", type(e).__name__, str(e).splitlines()[0] if str(e) else "")
    if arr.dtype == np.bool_:
        # onnx keeps whatever int32_data held; a stored boolean is 0 or 1, so compare truth values.
        arr = arr.view(np.uint8) != 0
    return (str(arr.dtype), arr.tobytes().hex())


def normalise(msg, base_dir: str):
    """Descriptor-driven canonical form of a protobuf message.

    Every TensorProto (wherever it occurs) becomes its name, type, dims,
    decoded values, doc_string and metadata_props, so the storage form
    (typed fields, raw_data, external data) does not matter. Scalar fields
    outside a oneof that hold their default value count as unset; oneof
    members and sub-messages keep their presence (dim_value 0 is not an
    unknown dim, an empty shape is not a missing shape)."""
    if isinstance(msg, TensorProto):
        return {
            "<tensor>": True,
            "name": msg.name,
            "data_type": msg.data_type,
            "dims": list(msg.dims),
            "values": tensor_values(msg, base_dir),
            "doc_string": msg.doc_string,
            "metadata_props": [normalise(p, base_dir) for p in msg.metadata_props],
        }
    out = {}
    for field in msg.DESCRIPTOR.fields:
        is_msg = field.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP)
        if _is_repeated(field):
            values = getattr(msg, field.name)
            if len(values) == 0:
                continue
            if is_msg and field.message_type.GetOptions().map_entry:
                out[field.name] = sorted((k, normalise(v, base_dir) if hasattr(v, "DESCRIPTOR") else v)
                                         for k, v in values.items())
            elif is_msg:
                out[field.name] = [normalise(v, base_dir) for v in values]
            else:
                out[field.name] = [_scalar(field, v) for v in values]
        elif is_msg:
            if msg.HasField(field.name):
                out[field.name] = normalise(getattr(msg, field.name), base_dir)
        else:
            value = getattr(msg, field.name)
            if field.containing_oneof is not None:
                if msg.HasField(field.name):
                    out[field.name] = _scalar(field, value)
            elif not _is_default(field, value):
                out[field.name] = _scalar(field, value)
    return out


def first_difference(a, b, path="model"):
    if type(a) is not type(b):
        return f"{path}: {_short(a)} != {_short(b)}"
    if isinstance(a, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a:
                return f"{path}.{k}: missing in original, {_short(b[k])} in output"
            if k not in b:
                return f"{path}.{k}: {_short(a[k])} in original, missing in output"
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, (list, tuple)):
        for i, (x, y) in enumerate(zip(a, b)):
            name = x.get("name") if isinstance(x, dict) and isinstance(x.get("name"), str) else None
            d = first_difference(x, y, f"{path}[{name!r}]" if name else f"{path}[{i}]")
            if d:
                return d
        if len(a) != len(b):
            return f"{path}: {len(a)} entries in original, {len(b)} in output"
        return None
    return None if a == b else f"{path}: {_short(a)} != {_short(b)}"


def _short(v, n=80):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "..."


# ---------------------------------------------------------------- onnxruntime

ORT_DTYPES = {
    "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
    "tensor(int8)": np.int8, "tensor(int16)": np.int16, "tensor(int32)": np.int32, "tensor(int64)": np.int64,
    "tensor(uint8)": np.uint8, "tensor(uint16)": np.uint16, "tensor(uint32)": np.uint32,
    "tensor(uint64)": np.uint64, "tensor(bool)": np.bool_, "tensor(string)": object,
}


def session(path: str) -> ort.InferenceSession:
    return ort_session(path, threads=1)


def make_inputs(sess: ort.InferenceSession):
    rs = np.random.RandomState(0)
    feeds = {}
    for i in sess.get_inputs():
        dtype = ORT_DTYPES.get(i.type)
        if dtype is None:
            raise Failure(f"ort: unsupported input type {i.type} for {i.name}")
        shape = [d if isinstance(d, int) and d >= 0 else 1 for d in (i.shape or [])]
        if dtype is np.bool_:
            feeds[i.name] = np.asarray(rs.random_sample(shape) < 0.5)
        elif dtype is object:
            feeds[i.name] = np.asarray(rs.choice(["a", "ferry", ""], size=shape)).astype(object)
        elif np.issubdtype(dtype, np.floating):
            feeds[i.name] = np.asarray(rs.uniform(-1.0, 1.0, shape)).astype(dtype)
        else:
            feeds[i.name] = np.asarray(rs.randint(0, 3, shape)).astype(dtype)
    return feeds


def output_key(v):
    """Bit-exact comparable form of an onnxruntime output."""
    if isinstance(v, np.ndarray):
        if v.dtype == object:
            return ("strings", v.shape, [x.encode() if isinstance(x, str) else bytes(x) for x in v.reshape(-1)])
        return ("tensor", str(v.dtype), v.shape, v.tobytes())
    if isinstance(v, list):
        return ("sequence", [output_key(x) for x in v])
    if isinstance(v, dict):
        return ("map", sorted((k, output_key(x)) for k, x in v.items()))
    if v is None:
        return ("none",)
    if hasattr(v, "dense_shape") and hasattr(v, "values"):  # onnxruntime SparseTensor
        idx = v.get_coo_data().indices() if str(v.format).endswith("COO") else None
        return ("sparse", str(v.format), list(v.dense_shape()), output_key(np.asarray(v.values())),
                None if idx is None else output_key(np.asarray(idx)))
    return ("other", repr(v))


# ---------------------------------------------------------------- model checks


def run_ferry(ferry: str, args):
    try:
        return subprocess.run([ferry, *args], capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure(f"ferry {args[0]} timed out after {TIMEOUT}s") from None


def convert(ferry: str, src: str, dst: str, extra):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    p = run_ferry(ferry, ["convert", src, dst, "--force", *extra])
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        raise Failure(f"convert exited {p.returncode}: {err[0] if err else '(no stderr)'}")
    if not os.path.isfile(dst):
        raise Failure("convert exited 0 but wrote no output")


def checker_level(path: str):
    """'full', 'basic' or None: the strongest onnx.checker level the file passes."""
    try:
        onnx.checker.check_model(path, full_check=True)
        return "full"
    except Exception:  # noqa: BLE001
        pass
    try:
        onnx.checker.check_model(path)
        return "basic"
    except Exception:  # noqa: BLE001
        return None


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def all_tensors(msg):
    """Every TensorProto inside msg, found through the descriptors."""
    if isinstance(msg, TensorProto):
        yield msg
        return
    for field, value in msg.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        for sub in (value if _is_repeated(field) else [value]):
            yield from all_tensors(sub)


def external_count(m: onnx.ModelProto) -> int:
    return sum(1 for t in all_tensors(m) if t.data_location == TensorProto.EXTERNAL)


def check_model(ferry: str, src: str, work: str, extra, expect: dict | None) -> list[str]:
    done = []
    base = os.path.basename(src)
    out_a = os.path.join(work, "a", base)
    out_b = os.path.join(work, "b", base)
    convert(ferry, src, out_a, extra)
    convert(ferry, src, out_b, extra)

    if extra:
        data_a = os.path.join(work, "a", "weights.bin")
        if not os.path.isfile(data_a):
            raise Failure("--external-data: no weights.bin next to the output")
        raw_out = onnx.load(out_a, load_external_data=False)
        if external_count(raw_out) == 0:
            raise Failure("--external-data --size-threshold 0: no tensor stored externally")

    # 1. checker
    level = checker_level(src)
    if expect is not None and expect.get("checker_full") and level != "full":
        raise Failure("original no longer passes the full checker (manifest says it does)")
    if level:
        try:
            onnx.checker.check_model(out_a, full_check=(level == "full"))
        except Exception as e:  # noqa: BLE001
            raise Failure(f"checker ({level}) fails on output: {str(e).splitlines()[0][:200]}") from None
        done.append("checker" if level == "full" else "checker-basic")
    else:
        done.append("checker n/a")

    # 2. semantic equality
    orig = onnx.load(src)
    conv = onnx.load(out_a)
    diff = first_difference(normalise(orig, os.path.dirname(src)), normalise(conv, os.path.dirname(out_a)))
    if diff:
        raise Failure(f"differs: {diff}")
    done.append("equal")

    # 3. onnxruntime
    try:
        s_orig = session(src)
    except Exception as e:  # noqa: BLE001
        if expect is not None and expect.get("ort"):
            raise Failure(f"ort cannot load original (manifest says it can): {str(e).splitlines()[0][:160]}") from None
        s_orig = None
    if s_orig is None:
        done.append("ort n/a")
    else:
        try:
            s_conv = session(out_a)
        except Exception as e:  # noqa: BLE001
            raise Failure(f"ort cannot load output: {str(e).splitlines()[0][:200]}") from None
        feeds = make_inputs(s_orig)
        names = [o.name for o in s_orig.get_outputs()]
        if names != [o.name for o in s_conv.get_outputs()]:
            raise Failure("ort: output names differ")
        r_orig = s_orig.run(None, feeds)
        r_conv = s_conv.run(None, feeds)
        for name, x, y in zip(names, r_orig, r_conv):
            if output_key(x) != output_key(y):
                raise Failure(f"ort: output {name} differs")
        done.append("ort")

    # 4. determinism
    if read(out_a) != read(out_b):
        raise Failure("not deterministic: two conversions differ")
    if extra and read(os.path.join(work, "a", "weights.bin")) != read(os.path.join(work, "b", "weights.bin")):
        raise Failure("not deterministic: two external data files differ")
    done.append("deterministic")
    return done


def check_conformance(ferry: str, root: str, work: str) -> list[str]:
    """Round-trips every ONNX backend conformance model (DIR/node/*/model.onnx): each must
    convert and come back semantically equal. Reports one line for the whole set."""
    from concurrent.futures import ThreadPoolExecutor

    models = sorted(glob.glob(os.path.join(root, "node", "*", "model.onnx")))
    if not models:
        raise Failure(f"no conformance models under {root}")

    def one(src: str) -> str | None:
        case = os.path.basename(os.path.dirname(src))
        out = os.path.join(work, case + ".onnx")
        try:
            convert(ferry, src, out, [])
            diff = first_difference(normalise(onnx.load(src), os.path.dirname(src)), normalise(onnx.load(out), work))
            return f"{case}: differs: {diff}" if diff else None
        except Failure as e:
            return f"{case}: {e}"

    os.makedirs(work, exist_ok=True)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        problems = [p for p in pool.map(one, models) if p]
    if problems:
        raise Failure(f"{len(problems)} of {len(models)} conformance models: " + "; ".join(problems[:5]))
    return [f"{len(models)} models converted, all equal"]


def check_mutations(ferry: str, work: str) -> list[str]:
    """300 damaged copies of the valid fixtures through `ferry inspect` and `ferry convert`."""
    seeds = [read(p) for p in sorted(glob.glob(os.path.join(FIXTURES, "valid", "*.onnx")))]
    out = os.path.join(work, "out.onnx")
    return check_damaged(ferry, seeds, work, ".onnx", count=300,
                         argv_for=lambda i, case: ["inspect", case] if i % 2 == 0 else ["convert", case, out, "--force"])


def check_malformed(ferry: str, path: str) -> list[str]:
    # a model whose external data file is missing: inspect shows its structure and names the
    # file (issue 18); reading it to convert or run is what must fail
    argv = ["inspect", path]
    if os.path.basename(path) == "ext_missing.onnx":
        shown = run_ferry(ferry, ["inspect", path])
        if shown.returncode != 0 or b"\nmissing " not in shown.stdout:
            raise Failure(f"inspect exited {shown.returncode} without naming the missing file")
        argv = ["convert", path, os.path.join(tempfile.mkdtemp(), "out.onnx")]
    p = run_ferry(ferry, argv)
    err = p.stderr.decode("utf-8", "replace")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if p.returncode < 0:
        raise Failure(f"inspect killed by signal {-p.returncode}")
    if p.returncode != 1:
        raise Failure(f"inspect exited {p.returncode}, expected 1")
    if "Traceback" in err or "Fatal error" in err:
        raise Failure(f"inspect crashed: {lines[0][:160] if lines else ''}")
    if len(lines) != 1:
        raise Failure(f"inspect printed {len(lines)} stderr lines, expected 1")
    if os.path.basename(path) not in lines[0]:
        raise Failure(f"stderr does not name the file: {lines[0][:160]}")
    return ["rejected"]


# ---------------------------------------------------------------- driver


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ferry", required=True, help="path to the ferry binary")
    ap.add_argument("--shared", help="directory holding models/*.onnx")
    ap.add_argument("--work", help="scratch directory (default: a temporary one, removed afterwards)")
    ap.add_argument("--conformance", help="directory written by gen_onnx_conformance.py: round-trip every case model")
    args = ap.parse_args()
    ferry = os.path.abspath(args.ferry)

    work = args.work or tempfile.mkdtemp(prefix="ferry-interop-")
    os.makedirs(work, exist_ok=True)

    valid = os.path.join(FIXTURES, "valid")
    with open(os.path.join(valid, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)

    jobs = []  # (label, path, extra args, manifest entry)
    for entry in manifest:
        jobs.append((f"valid/{entry['file']}", os.path.join(valid, entry["file"]), [], entry))
    for rel in ("external/model.onnx", "small_cnn.onnx"):
        entry = next(e for e in manifest if e["file"] == rel)
        jobs.append((f"valid/{rel} [external-data]", os.path.join(valid, rel), EXT_ARGS, entry))
    light = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
    for path in sorted(glob.glob(os.path.join(light, "*.onnx"))):
        jobs.append((f"onnx/light/{os.path.basename(path)}", path, [], None))
    shared_models = os.path.join(args.shared, "models") if args.shared else None
    if shared_models and os.path.isdir(shared_models):
        for path in sorted(glob.glob(os.path.join(shared_models, "*.onnx"))):
            jobs.append((f"shared/{os.path.basename(path)}", path, [], None))
    else:
        print("shared models: skipped (../shared absent)")

    malformed = sorted(glob.glob(os.path.join(FIXTURES, "malformed", "*.onnx")))
    checks = Checks(width=max(len(label) for label in [j[0] for j in jobs] + [f"malformed/{os.path.basename(p)}" for p in malformed]))
    report = checks.run
    for i, (label, path, extra, entry) in enumerate(jobs):
        job_dir = os.path.join(work, f"{i:03d}")
        report(label, lambda: check_model(ferry, path, job_dir, extra, entry))
    for path in malformed:
        report(f"malformed/{os.path.basename(path)}", lambda: check_malformed(ferry, path))
    report("damaged copies of the fixtures", lambda: check_mutations(ferry, os.path.join(work, "mutations")))
    if args.conformance:
        report("onnx conformance models", lambda: check_conformance(ferry, args.conformance, os.path.join(work, "conformance")))
    else:
        print("onnx conformance models: skipped (no --conformance DIR; it needs ../shared/tools)")

    return checks.finish(work, keep_work=bool(args.work))


if __name__ == "__main__":
    sys.exit(main())
