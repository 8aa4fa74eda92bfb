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
