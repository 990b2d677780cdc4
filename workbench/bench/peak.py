"""A command's own peak memory, measured apart from the process that starts it.

Linux carries a process's peak resident set across ``fork`` and ``exec``: a command started
by a large process (pytest after some hundred tests, a benchmark driver holding data)
reports at least its parent's peak in ``wait4``. :func:`run_with_peak` starts the command
from a small Python process of its own (``python -m workbench.bench.peak``), whose
``RUSAGE_CHILDREN`` then holds the command's true peak.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any


def run_with_peak(
    command: Sequence[str],
    *,
    timeout: float | None = None,
    stdout: int | IO[Any] | None = None,
    stderr: int | IO[Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int, float]:
    """Run ``command``; returns its exit code (negative: the signal that ended it, as
    ``subprocess`` has it) and its peak resident memory in MiB. After ``timeout`` seconds it
    is killed (exit code -9)."""
    with tempfile.TemporaryDirectory(prefix="wb-peak-") as folder:
        report = Path(folder) / "peak"
        wrapper = [sys.executable, "-m", "workbench.bench.peak", str(report), str(timeout or 0)]
        done = subprocess.run(
            [*wrapper, "--", *command], stdout=stdout, stderr=stderr, env=env, check=False
        )
        peak = float(report.read_text()) if report.exists() else float("nan")
    return done.returncode, peak


def _main(argv: list[str]) -> int:
    """``REPORT TIMEOUT -- COMMAND...``: run COMMAND, write its peak MiB to REPORT, end as it
    ended."""
    report, timeout, _, *command = argv
    proc = subprocess.Popen(command)
    try:
        proc.wait(float(timeout) or None)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    Path(report).write_text(f"{peak}\n")
    if proc.returncode < 0:  # end by the same signal, so the caller sees it as such
        signal.signal(-proc.returncode, signal.SIG_DFL)
        os.kill(os.getpid(), -proc.returncode)
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
