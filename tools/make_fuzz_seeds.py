#!/usr/bin/env python3
"""Seed corpora for ferry-fuzz, one folder per target, made from the fixtures.

    make_fuzz_seeds.py --ferry PATH OUT

onnx: the small valid and control-flow models; safetensors: those models' weights, written by
`ferry convert --weights-only`; npy / npz: the CLI fixtures' arrays; keras-config: the config.json
of the small .keras fixtures; keras: those archives; hdf5: small Keras and tensor-tree files;
hdf5-reply: the HDF5 reader helper's replies for a Keras file and a tensor tree; torch: the
checkpoints in Fixtures/torch (tools/make_torch_fixtures.py).
Only the standard library is used (no numpy), so `make test` can run it before the venv exists.
"""

import glob
import os
import shutil
import subprocess
import sys
import zipfile


def main() -> int:
    ferry, out = sys.argv[sys.argv.index("--ferry") + 1], sys.argv[-1]
    small = lambda paths, limit: sorted(p for p in paths if os.path.getsize(p) <= limit)
    onnx = small(glob.glob("Fixtures/onnx/valid/*.onnx") + glob.glob("Fixtures/onnx/control/*.onnx"), 16 << 10)
    keras = small(glob.glob("Fixtures/keras/*.keras"), 24 << 10)
    seeds = {
        "onnx": onnx,
        "npy": small(glob.glob("Fixtures/cli/*.npy") + glob.glob("Fixtures/keras/*.input_0.npy"), 4 << 10),
        "npz": glob.glob("Fixtures/cli/*.npz"),
        "keras": keras[:4],
        "hdf5": ["Fixtures/hdf5/tree.h5", "Fixtures/keras/conv2d.h5", "Fixtures/keras/dense_small.h5"],
        "torch": glob.glob("Fixtures/torch/*.pt"),
    }
    shutil.rmtree(out, ignore_errors=True)
    for target, files in seeds.items():
        os.makedirs(f"{out}/{target}")
        for f in files:
            if os.path.exists(f):
                shutil.copy(f, f"{out}/{target}/{os.path.basename(f)}")
    os.makedirs(f"{out}/keras-config")
    for k in keras:
        with zipfile.ZipFile(k) as z:
            with open(f"{out}/keras-config/{os.path.basename(k)[:-6]}.json", "wb") as f:
                f.write(z.read("config.json"))
    os.makedirs(f"{out}/safetensors")
    for model in onnx[:6]:
        target = f"{out}/safetensors/{os.path.basename(model)[:-5]}.safetensors"
        subprocess.run([ferry, "convert", model, target, "--weights-only"], check=False, capture_output=True)
    # The reader helper's replies (after its 8-byte length), written to its descriptor 3.
    os.makedirs(f"{out}/hdf5-reply")
    for h5 in ["Fixtures/keras/conv2d.h5", "Fixtures/hdf5/tree.h5"]:
        helper = f'"$0" --ferry-hdf5-reader file "$1" 0 10 4294967296 3>&1 1>/dev/null'
        reply = subprocess.run(["sh", "-c", helper, ferry, h5], check=False, capture_output=True).stdout
        if len(reply) > 8:
            with open(f"{out}/hdf5-reply/{os.path.basename(h5)[:-3]}.reply", "wb") as f:
                f.write(reply[8:])
    counts = ", ".join(f"{t} {len(os.listdir(f'{out}/{t}'))}" for t in sorted(os.listdir(out)))
    print(f"fuzz seeds in {out}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
