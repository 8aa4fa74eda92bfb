"""Shared plumbing of the interop checks: one line per check, and `N passed, M failed` last."""
import shutil


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
