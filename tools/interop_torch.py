#!/usr/bin/env python3
"""PyTorch checkpoints read by Ferry against torch itself, and hostile pickles refused.

    interop_torch.py --ferry PATH_TO_FERRY [--work DIR]

Needs torch (tools/requirements-torch.txt) and safetensors; skipped with a message where torch is
absent. Each checkpoint is written by torch.save (the zip format torch has written since 1.6; a
`.bin` name as Hugging Face uses), converted by `ferry convert ckpt out.safetensors`, and the
safetensors file read back by safetensors.torch must hold the same keys, dtypes, shapes and bytes
as torch.load gives:

    cnn             the state_dict of a small torchvision-style CNN (Conv2d, BatchNorm2d with its
                    num_batches_tracked int64 counters, Linear; random init)
    dtypes          float16, bfloat16, float64, int8, uint8, int16, int32, int64, bool (complex
                    tensors are read too; safetensors has no type to write them as)
    views           slices with storage offsets, a transpose and a column (non-contiguous views,
                    materialised), several tensors sharing one storage
    gpt2            a GPT-2-style state_dict whose lm_head.weight is tok_emb.weight (tied): the
                    safetensors file stores it once (lm_head.weight absent, as Hugging Face's
                    save_model leaves it) with the tie recorded as ferry.alias.lm_head.weight
    (cnn.pt is also converted to .npz and read back by np.load.)
    training        {'epoch', 'state_dict', 'optimizer' (SGD momentum state), 'args'
                    (argparse.Namespace), 'best' (a numpy float64)}: the tensors come from
                    'state_dict' (said in the metadata), the rest is described, nothing runs;
                    --key optimizer picks the optimizer's state instead
    sharded         the CNN's state_dict in two shards and a pytorch_model.bin.index.json
    legacy_*        cnn, dtypes and views saved with _use_new_zipfile_serialization=False (the
                    format before torch 1.6)
    torchscript     the CNN through torch.jit.script and torch.jit.save: its parameters and
                    buffers named as state_dict() names them

Written back: each of those safetensors files converted to `.pt` by Ferry loads in
torch.load(path, weights_only=True) (torch's own restricted unpickler) with the same keys, dtypes,
shapes and bytes; the GPT-2 file's tied pair shares one storage again, as torch.save writes it.

Hostile files (each must exit 1 with one line naming the file, create no output, and run nothing):
GLOBAL os.system through REDUCE, builtins.eval reached by STACK_GLOBAL through the memo, a nested
pickle.loads, SETITEM on a list, a storage shorter than its tensor, a 1,000,000-deep nesting of
tuples, a compressed data.pkl (a zip bomb's shape), a truncated archive, a truncated legacy file,
an index naming a shard outside its folder.
Prints one line per check and `N passed, M failed`; exit 1 on a failure.
"""
import argparse
import io
import os
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks  # noqa: E402

CHECKS = Checks()


def ferry(args, *argv):
    return subprocess.run([args.ferry, *argv], capture_output=True, text=True)


def same_tensors(torch, want: dict, path: str) -> tuple[bool, str]:
    from safetensors.torch import load_file
    got = load_file(path)
    if sorted(got) != sorted(want):
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        return False, f"keys differ: missing {missing[:3]}, extra {extra[:3]}"
    for k, w in want.items():
        g = got[k]
        if g.dtype != w.dtype or tuple(g.shape) != tuple(w.shape):
            return False, f"{k}: {g.dtype}{tuple(g.shape)} instead of {w.dtype}{tuple(w.shape)}"
        a = g.contiguous().view(-1).view(torch.uint8) if g.numel() else g
        b = w.contiguous().view(-1).view(torch.uint8) if w.numel() else w
        if not torch.equal(a, b):
            return False, f"{k}: bytes differ"
    return True, f"{len(want)} tensors, {sum(t.numel() * t.element_size() for t in want.values())} bytes identical"


def loaded_back(torch, path: str, want: dict) -> tuple[bool, str]:
    """torch.load(weights_only=True) of a checkpoint Ferry wrote, against `want`."""
    got = torch.load(path, weights_only=True)
    if sorted(got) != sorted(want):
        return False, f"keys {sorted(got)[:3]} instead of {sorted(want)[:3]}"
    for k, w in want.items():
        g = got[k]
        if g.dtype != w.dtype or tuple(g.shape) != tuple(w.shape) or not torch.equal(
                g.contiguous().view(-1).view(torch.uint8), w.contiguous().view(-1).view(torch.uint8)):
            return False, f"{k}: {g.dtype}{tuple(g.shape)} differs from {w.dtype}{tuple(w.shape)}"
    return True, f"{len(want)} tensors identical in torch.load(weights_only=True)"


def metadata(path: str) -> dict:
    from safetensors import safe_open
    with safe_open(path, "pt") as f:
        return f.metadata() or {}


def checkpoints(args, work: str, torch) -> None:
    from torch import nn
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, 32, 3, 2), nn.BatchNorm2d(32),
                        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))
    base = torch.arange(60, dtype=torch.float32).reshape(6, 10)
    dtypes = {str(d).replace("torch.", ""): (torch.randn(3, 4) * 50).to(d) for d in
              (torch.float16, torch.bfloat16, torch.float64, torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64,
               torch.bool)}
    emb = torch.randn(50, 8)
    gpt2 = {"tok_emb.weight": emb, "h.0.attn.c_attn.weight": torch.randn(8, 24), "lm_head.weight": emb}
    sd = cnn.state_dict()
    opt = torch.optim.SGD(cnn.parameters(), lr=0.1, momentum=0.9)
    cnn(torch.randn(2, 3, 16, 16)).sum().backward()
    opt.step()
    import argparse as ap
    import numpy as np
    training = {"epoch": 3, "state_dict": sd, "optimizer": opt.state_dict(), "args": ap.Namespace(lr=0.1, arch="cnn"),
                "best": np.float64(0.5)}
    cases = {
        "cnn.pt": (sd, sd, []),
        "dtypes.pth": (dtypes, dtypes, []),
        "views.pt": ({"rows": base[2:5], "t": base.t(), "column": base[:, 3], "whole": base},
                     {"rows": base[2:5], "t": base.t(), "column": base[:, 3], "whole": base}, []),
        "pytorch_model.bin": (gpt2, gpt2, []),
        "training.pt": (training, sd, []),
    }
    for name in ("cnn.pt", "dtypes.pth", "views.pt"):
        obj, want, extra = cases[name]
        cases["legacy_" + name] = (obj, want, extra)
    cases["torchscript.pt"] = (None, cnn.state_dict(), [])
    for name, (obj, want, extra) in cases.items():
        path = os.path.join(work, name)
        if name == "torchscript.pt":
            torch.jit.save(torch.jit.script(cnn.eval()), path)
        else:
            torch.save(obj, path, _use_new_zipfile_serialization=not name.startswith("legacy_"))
        out = os.path.join(work, name + ".safetensors")
        r = ferry(args, "convert", path, out, "--force", *extra)
        if r.returncode != 0:
            CHECKS.record(False, f"{name}: ferry convert", (r.stderr or r.stdout).strip().splitlines()[-1:])
            continue
        stored = {k: v for k, v in want.items() if not (name == "pytorch_model.bin" and k == "lm_head.weight")}
        ok, detail = same_tensors(torch, stored, out)
        CHECKS.record(ok, f"{name}: same tensors as torch.load" + (" (the tied copy stored once)" if len(stored) < len(want) else ""),
                      detail)
        back = os.path.join(work, "back_" + name.split(".")[0] + ".pt")
        r = ferry(args, "convert", out, back, "--force")
        ok, detail = loaded_back(torch, back, want) if r.returncode == 0 else (False, r.stderr.strip())
        CHECKS.record(ok, f"{name} -> safetensors -> .pt: loads in torch", detail)
    back = torch.load(os.path.join(work, "back_pytorch_model.pt"), weights_only=True)
    tied = back["lm_head.weight"].untyped_storage().data_ptr() == back["tok_emb.weight"].untyped_storage().data_ptr()
    CHECKS.record(tied, "pytorch_model.bin written back: the tied pair shares one storage", "")
    # NumPy's archive: np.load gives the same arrays by name
    import numpy as np
    out = os.path.join(work, "cnn.npz")
    r = ferry(args, "convert", os.path.join(work, "cnn.pt"), out, "--force")
    if r.returncode == 0:
        z = np.load(out)
        bad = [k for k in sd if k not in z.files or z[k].dtype != sd[k].numpy().dtype or not np.array_equal(z[k], sd[k].numpy())]
        ok, detail = not bad and len(z.files) == len(sd), f"{len(z.files)} arrays" + (f", differing: {bad[:3]}" if bad else " identical in np.load")
    else:
        ok, detail = False, r.stderr.strip()
    CHECKS.record(ok, "cnn.pt -> .npz: np.load", detail)
    # Hugging Face's sharded form: two shards and the index naming them
    import json
    names = list(sd)
    shards = {"pytorch_model-00001-of-00002.bin": names[: len(names) // 2],
              "pytorch_model-00002-of-00002.bin": names[len(names) // 2:]}
    for shard, keys in shards.items():
        torch.save({k: sd[k] for k in keys}, os.path.join(work, shard))
    index = os.path.join(work, "pytorch_model.bin.index.json")
    with open(index, "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": {k: s for s, ks in shards.items() for k in ks}}, f)
    out = os.path.join(work, "sharded.safetensors")
    r = ferry(args, "convert", index, out, "--force")
    ok, detail = same_tensors(torch, sd, out) if r.returncode == 0 else (False, r.stderr.strip())
    CHECKS.record(ok, "sharded pytorch_model.bin.index.json: same tensors", detail)
    meta = metadata(os.path.join(work, "pytorch_model.bin.safetensors"))
    CHECKS.record(meta.get("ferry.alias.lm_head.weight") == "tok_emb.weight", "pytorch_model.bin: tied weights recorded",
                  f"metadata {sorted(meta)[:4]}")
    meta = metadata(os.path.join(work, "training.pt.safetensors"))
    ok = (meta.get("ferry.tensors_from") == "key 'state_dict'" and meta.get("epoch") == "3"
          and "argparse.Namespace" in meta.get("args", "") and "numpy" in meta.get("best", ""))
    CHECKS.record(ok, "training.pt: tensors from 'state_dict', the rest described",
                  ", ".join(f"{k}={v}" for k, v in sorted(meta.items()))[:200])
    out = os.path.join(work, "optimizer.safetensors")
    r = ferry(args, "convert", os.path.join(work, "training.pt"), out, "--key", "optimizer", "--force")
    if r.returncode == 0:
        want = {f"state.{k}.momentum_buffer": v["momentum_buffer"] for k, v in opt.state_dict()["state"].items()}
        ok, detail = same_tensors(torch, want, out)
    else:
        ok, detail = False, r.stderr.strip()
    CHECKS.record(ok, "training.pt --key optimizer: the momentum buffers", detail)
    r = ferry(args, "inspect", os.path.join(work, "training.pt"))
    CHECKS.record(r.returncode == 0 and "argparse.Namespace" in r.stdout and "state_dict" in r.stdout,
                  "training.pt: ferry inspect shows the non-tensor entries", r.stdout.strip().splitlines()[0] if r.stdout else r.stderr)


def zipped(path: str, pickle: bytes, storages: dict | None = None, compress: bool = False) -> None:
    """A torch-style zip checkpoint holding `pickle` as data.pkl."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as z:
        z.writestr("archive/data.pkl", pickle)
        z.writestr("archive/byteorder", "little")
        for k, v in (storages or {}).items():
            z.writestr(f"archive/data/{k}", v, compress_type=zipfile.ZIP_STORED)
        z.writestr("archive/version", "3\n")


def hostile(args, work: str, torch) -> None:
    import pickle
    marker = os.path.join(work, "pwned")

    def op(*parts) -> bytes:
        return b"".join(p if isinstance(p, bytes) else p.encode() for p in parts)

    def unicode(s: str) -> bytes:
        b = s.encode()
        return bytes([0x8C, len(b)]) + b

    cmd = f"touch {marker}"
    files = {
        "system.pt": op(b"\x80\x02", b"cos\nsystem\n", unicode(cmd), b"\x85R."),
        "eval_memo.pt": op(b"\x80\x04", unicode("builtins"), b"\x94", unicode("eval"), b"\x94", b"0", b"h\x00h\x01\x93",
                           unicode(f"__import__('os').system('{cmd}')"), b"\x85R."),
        "nested_loads.pt": op(b"\x80\x02", b"c_pickle\nloads\n", b"C", bytes([len(pickle.dumps(0))]), pickle.dumps(0),
                              b"\x85R."),
        "setitem_list.pt": op(b"\x80\x02]", unicode("k"), unicode("v"), b"s."),
        "recursion.pt": op(b"\x80\x02)", b"\x85" * 1_000_000, b"."),
    }
    # a storage of 4 floats under a tensor of 16
    short = op(b"\x80\x02", b"ctorch._utils\n_rebuild_tensor_v2\n(", b"(", unicode("storage"), b"ctorch\nFloatStorage\n",
               unicode("0"), unicode("cpu"), b"K\x04tQ", b"K\x00", b"K\x04K\x04\x86", b"K\x04K\x01\x86", b"\x89", b"}", b"tR")
    files["short_storage.pt"] = op(b"\x80\x02}", unicode("w"), short, b"s.")
    for name, data in files.items():
        zipped(os.path.join(work, name), data, {"0": b"\0" * 16} if name == "short_storage.pt" else None)
    with open(os.path.join(work, "escape.bin.index.json"), "w") as f:
        f.write('{"weight_map": {"w": "../../etc/passwd"}}')
    zipped(os.path.join(work, "compressed.pt"), b"\x80\x02" + b"N" * 10_000_000 + b".", compress=True)
    good = os.path.join(work, "good.pt")
    torch.save({"w": torch.randn(100, 100)}, good)
    with open(good, "rb") as f:
        data = f.read()
    with open(os.path.join(work, "truncated.pt"), "wb") as f:
        f.write(data[: len(data) // 2])
    torch.save({"w": torch.randn(1000)}, os.path.join(work, "legacy.pt"), _use_new_zipfile_serialization=False)
    with open(os.path.join(work, "legacy.pt"), "rb") as f:
        data = f.read()
    with open(os.path.join(work, "truncated_legacy.pt"), "wb") as f:
        f.write(data[: len(data) - 100])
    for name in list(files) + ["compressed.pt", "truncated.pt", "truncated_legacy.pt", "escape.bin.index.json"]:
        path, out = os.path.join(work, name), os.path.join(work, name + ".safetensors")
        r = ferry(args, "convert", path, out)
        lines = r.stderr.strip().splitlines()
        ok = (r.returncode == 1 and len(lines) == 1 and name in lines[0] and not os.path.exists(out)
              and not os.path.exists(marker))
        CHECKS.record(ok, f"hostile {name}: refused", f"exit {r.returncode}: {lines[0] if lines else r.stdout.strip()[:120]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--work", help="keep the written files here")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("interop_torch: torch is not installed (tools/requirements-torch.txt): skipping the PyTorch checks")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        checkpoints(args, work, torch)
        hostile(args, work, torch)
        return CHECKS.finish(work, keep_work=bool(args.work))


if __name__ == "__main__":
    sys.exit(main())
