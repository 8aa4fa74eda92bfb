"""Shared plumbing of the interop checks: one line per check, `N passed, M failed` last, and the
onnxruntime sessions the checks compare with."""
import shutil

# Graph optimization levels of onnxruntime by the names the checks use.
ORT_OPTIMIZATION = {"none": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
                    "all": "ORT_ENABLE_ALL"}


def ort_session(model, threads=None, optimization="all", save_optimized=None, quiet=False):
    """An onnxruntime CPU session on `model` (a path, or a serialized ModelProto): `threads` intra-op
    threads (None: onnxruntime's choice), one inter-op thread, graph optimizations up to
    `optimization` (none, basic, extended, all), warnings not logged (nothing but fatal errors when
    `quiet`); with `save_optimized`, onnxruntime writes the model it optimized to that path."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    if threads is not None:
        so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, ORT_OPTIMIZATION[optimization])
    so.log_severity_level = 4 if quiet else 3
    if save_optimized:
        so.optimized_model_filepath = save_optimized
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def ort_run(model, feeds, **options):
    """[(output name, value)] of `model` on `feeds` in onnxruntime (options as for ort_session)."""
    sess = ort_session(model, **options)
    return [(o.name, v) for o, v in zip(sess.get_outputs(), sess.run(None, feeds))]


class Failure(Exception):
    """A check that failed, with a one-line reason."""


class Checks:
    """Runs checks and counts them. A check is a function returning a list of details (shown on
    its line) or raising Failure."""

    def __init__(self, width=42):
        self.passed = self.failed = 0
        self.width = width

    def run(self, label, fn):
        try:
            details = fn()
        except Failure as e:
            print(f"FAIL {label}: {e}", flush=True)
            self.failed += 1
        except Exception as e:  # noqa: BLE001 - any crash of a check is a failure, reported on one line
            message = str(e).splitlines()[0][:200] if str(e) else ""
            print(f"FAIL {label}: {type(e).__name__}: {message}", flush=True)
            self.failed += 1
        else:
            print(f"ok   {label:<{self.width}}  ({', '.join(details)})", flush=True)
            self.passed += 1

    def record(self, ok, label, detail):
        """Counts a check whose outcome is already known, with its detail on its line."""
        print(f"{'ok  ' if ok else 'FAIL'} {label:<{self.width}}  {detail}", flush=True)
        self.passed, self.failed = self.passed + bool(ok), self.failed + (not ok)

    def finish(self, work, keep_work):
        """Removes the work folder unless asked to keep it or a check failed; prints the summary
        line; returns the exit status."""
        if not keep_work:
            if self.failed:
                print(f"work dir kept: {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def damage(data: bytes, rs) -> bytes:
    """A copy of `data` with 1 to 4 random faults: bit flips, odd bytes, deletions, insertions."""
    d = bytearray(data)
    for _ in range(rs.randint(1, 4)):
        op, pos = rs.random(), rs.randrange(len(d))
        if op < 0.5:
            d[pos] ^= 1 << rs.randrange(8)
        elif op < 0.7:
            d[pos] = rs.choice([0, 0x7F, 0x80, 0xFF])
        elif op < 0.85:
            del d[pos:pos + rs.randint(1, 8)]
        else:
            d[pos:pos] = bytes(rs.randrange(256) for _ in range(rs.randint(1, 8)))
    return bytes(d)


def check_damaged(binary, seeds, work, suffix, argv_for, count, seed=0):
    """Feeds `count` damaged copies of `seeds` (fixed seed) to the CLI, with arguments
    `argv_for(i, path)`: every run must end with exit 0 or 1, and a refusal must be exactly one
    stderr line (never a crash signal, never a backtrace)."""
    import os
    import random
    import subprocess

    rs = random.Random(seed)
    os.makedirs(work, exist_ok=True)
    case = os.path.join(work, "damaged" + suffix)
    refused = 0
    for i in range(count):
        with open(case, "wb") as f:
            f.write(damage(rs.choice(seeds), rs))
        r = subprocess.run([binary, *argv_for(i, case)], capture_output=True, timeout=120)
        lines = [ln for ln in r.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        if r.returncode not in (0, 1) or (r.returncode == 1 and len(lines) != 1):
            keep = os.path.join(work, f"failing_{i}{suffix}")
            shutil.copyfile(case, keep)
            raise Failure(f"case {i} exited {r.returncode} with {len(lines)} stderr lines; kept {keep}")
        refused += r.returncode == 1
    return [f"{count} damaged files, {refused} refused with one line, none crashed"]
