"""Phone numbers to E.164 with ``phonenumbers``, on every core when there are many.

``phonenumbers`` is pure Python (about 50 µs a number), so a million distinct numbers cost
most of a validation run on one core. From :data:`PARALLEL_FROM` numbers the work is split:
this process parses one share while fresh interpreters running this file alone (``python
-I phones.py``: no package import, numbers in and out as JSON files) parse the others. Fresh
interpreters rather than ``multiprocessing``: a forked child may inherit the locks of
polars' and DuckDB's threads, and a spawned one re-runs the caller's main script. A worker
that fails leaves its share to this process, so the result never depends on them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import phonenumbers

PARALLEL_FROM = 50_000  # distinct numbers worth a worker process each

Numbers = list[tuple[str, str | None]]  # (raw text, ISO region or None)


def e164(raw: str, region: str | None) -> str | None:
    """``raw`` read in ``region`` (ISO country, for national numbers) as E.164; None when
    it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def e164_all(numbers: Numbers, parallel_from: int = PARALLEL_FROM) -> list[str | None]:
    """:func:`e164` of each (raw, region), in order; one share per usable core from
    ``parallel_from`` numbers a share."""
    shares = min(_cores(), -(-len(numbers) // max(parallel_from, 1)))
    if shares < 2:
        return _parse(numbers)
    size = -(-len(numbers) // shares)
    chunks = [numbers[i : i + size] for i in range(0, len(numbers), size)]
    with tempfile.TemporaryDirectory(prefix="workbench-phones-") as folder:
        # the workers read and write files: no thread of this process has to feed them
        # while it parses its own share
        workers = [_Worker(Path(folder) / str(i), chunk) for i, chunk in enumerate(chunks[1:])]
        try:
            started = time.monotonic()
            mine = _parse(chunks[0])
            wait = max(60.0, 2 * (time.monotonic() - started))  # a share takes as long
            return mine + [value for worker in workers for value in worker.result(wait)]
        finally:
            for worker in workers:
                worker.stop()


class _Worker:
    """A fresh interpreter parsing ``numbers`` from a file into another."""

    def __init__(self, path: Path, numbers: Numbers) -> None:
        self.numbers, self.output = numbers, path.with_suffix(".out")
        self.process: subprocess.Popen[bytes] | None = None
        self.fell_back = False  # whether this process parsed the share itself
        try:
            path.write_text(json.dumps(numbers))
            with path.open("rb") as given, self.output.open("wb") as taken:
                self.process = subprocess.Popen(
                    [sys.executable, "-I", __file__],  # -I: this file's folder not on sys.path
                    stdin=given,
                    stdout=taken,
                    stderr=subprocess.DEVNULL,
                )
        except OSError:  # no room for the file, no interpreter: parsed here instead
            self.process = None

    def result(self, timeout: float) -> list[str | None]:
        """The worker's numbers; parsed here if it could not start or finish in time."""
        try:
            if self.process is not None and self.process.wait(timeout) == 0:
                parsed = json.loads(self.output.read_text())
                if isinstance(parsed, list) and len(parsed) == len(self.numbers):
                    return parsed
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self.stop()
        self.fell_back = True
        return _parse(self.numbers)

    def stop(self) -> None:
        """End the worker if it still runs (never left behind)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _parse(numbers: Numbers) -> list[str | None]:
    return [e164(raw, region) for raw, region in numbers]


def _cores() -> int:
    """The cores this process may run on (its CPU affinity; a CPU quota is not seen)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


if __name__ == "__main__":  # a worker: a JSON list of [raw, region] in, of E.164 out
    json.dump(_parse([(raw, region) for raw, region in json.load(sys.stdin)]), sys.stdout)
