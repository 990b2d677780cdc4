"""Report files on disk: their checksum, the lock a run holds while it puts its files in
place, and whether the file it replaced was the one the warehouse says was written.

A report run executes its notebook without holding anything (the notebook reads the
warehouse without keeping it), so two runs of one report and period can overlap. Only the
last step is exclusive: :func:`placing` locks a file of the report folder (kept in the
project's ``.workbench/locks/``, out of the reports) while the run reads the checksum of
the file it is about to replace, moves its own files in, and records the run.
:func:`replacement` then compares with ``meta.report_runs``: a replaced file whose sha256
is not the one recorded for it (changed outside Workbench, or written by a run that was
never recorded), a run overtaken by one that started after it, or a lock lost on the way
(its file removed or replaced) is returned as the details of a ``report_replaced`` audit
entry.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.store import Store

LOCKS = Path(".workbench") / "locks"  # in the project folder


def sha256_of(path: Path) -> str | None:
    """The file's sha256, or None when there is no such file."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        return None


@dataclass
class Placement:
    """A run putting its files in place: the lock it holds and the checksums of the HTML
    file before (``old_sha256``, None if there was none) and after."""

    lock: Path
    fd: int
    old_sha256: str | None = None
    new_sha256: str | None = None

    def lost(self) -> bool:
        """Whether the lock file is no longer the one locked (removed or replaced), so
        another run may have locked a new one meanwhile."""
        try:
            on_disk = os.stat(self.lock)
        except FileNotFoundError:
            return True
        held = os.fstat(self.fd)
        return (on_disk.st_dev, on_disk.st_ino) != (held.st_dev, held.st_ino)


def lock_file(project_root: Path, final: Path) -> Path:
    """The lock file of the report folder ``final`` (``reports/NAME/PERIOD``)."""
    key = hashlib.sha256(str(final.resolve()).encode()).hexdigest()[:24]
    return project_root / LOCKS / f"report-{final.parent.name}-{final.name}-{key}.lock"


@contextmanager
def placing(lock: Path) -> Iterator[Placement]:
    """Hold ``lock`` (see :func:`lock_file`), waiting for another run that holds it;
    released when the block ends."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield Placement(lock, fd)
    finally:
        os.close(fd)  # releases the lock; the file stays for the next run


def replacement(
    store: Store, path: Path, started: datetime, placement: Placement
) -> dict[str, Any] | None:
    """The details of a ``report_replaced`` entry for the run started at ``started`` that
    wrote ``path`` (before this run is recorded), or None when it replaced nothing amiss."""
    recorded = store.rows(
        "SELECT run_id, started_at, sha256 FROM meta.report_runs "
        "WHERE path = $p AND status = 'ok' ORDER BY run_id DESC LIMIT 1",
        {"p": str(path)},
    )
    reasons = []
    if placement.lost():
        reasons.append("the run lost its lock on the report folder (the lock file was removed)")
    recorded_sha = None
    if recorded:
        run_id, their_start, recorded_sha = recorded[0]
        if their_start is not None and their_start > started:
            reasons.append(f"overtaken: run {run_id}, started after this one, had written it")
        if placement.old_sha256 and recorded_sha and placement.old_sha256 != recorded_sha:
            reasons.append(f"the file replaced is not the one run {run_id} recorded")
    elif placement.old_sha256:
        reasons.append("no recorded run wrote the file replaced")
    if not reasons:
        return None
    return {
        "path": str(path),
        "old_sha256": placement.old_sha256,
        "new_sha256": placement.new_sha256,
        "recorded_sha256": recorded_sha,
        "why": reasons,
    }
