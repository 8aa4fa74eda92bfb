"""Shared helpers of the benchmark scripts: machine description, git revision, shown paths."""
import os
import platform
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def machine() -> str:
    """CPU model, cores, RAM and kernel, for the header of a results table."""
    cpu, ram = "unknown CPU", ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
        with open("/proc/meminfo") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
            ram = f", {kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores{ram}, Linux {platform.release()}"


def cpu_flags() -> str:
    """The vector extensions Ferry's kernels choose between, as /proc/cpuinfo lists them, and the
    FERRY_ISA setting the Ferry binaries run under (best when unset)."""
    wanted = ["avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni", "avx512_vbmi"]
    try:
        with open("/proc/cpuinfo") as f:
            have = next((set(line.split(":", 1)[1].split()) for line in f if line.startswith("flags")), set())
    except OSError:
        have = set()
    present = [flag for flag in wanted if flag in have]
    return f"CPU flags {' '.join(present) or 'none of ' + ' '.join(wanted)}; FERRY_ISA={os.environ.get('FERRY_ISA', 'best')}"


def git_rev() -> str:
    """The checkout's short revision, marked when Sources/ has uncommitted changes."""
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "Sources"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty Sources" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def shown(path: str) -> str:
    """`path` relative to the working folder when it is inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def command_line() -> str:
    """The command that ran this script, as it could be typed again."""
    return shlex.join([shown(sys.executable)] + [shown(a) if os.path.exists(a) else a for a in sys.argv])
