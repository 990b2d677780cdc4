"""The one exception family of Workbench.

Every failure a user can cause (a wrong config key, a broken export, a warehouse in use)
is raised as a :class:`WorkbenchError` subclass whose message says *what* went wrong,
*where* (file, line, column or config key) and *how to fix it*. The CLI prints these
messages and exits non-zero; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class WorkbenchError(Exception):
    """Base class of every user-facing Workbench error.

    Args:
        what: one sentence saying what went wrong.
        where: the file, line, column or config key concerned, if known.
        fix: how the user can fix it.
    """

    exit_code = 1

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [self.what.rstrip()]
        if self.where:
            parts.append(f"Where: {self.where}")
        if self.fix:
            parts.append(f"Fix: {self.fix}")
        return "\n".join(parts)


class ConfigError(WorkbenchError):
    """The project configuration (workbench.yaml, dictionary.yaml, ...) is missing or invalid."""

    exit_code = 2


class IngestError(WorkbenchError):
    """An export file could not be read or loaded; the warehouse is left as it was."""

    exit_code = 3


class ValidationFailed(WorkbenchError):
    """A blocking data-quality limit (quality.blocking in workbench.yaml) was breached."""

    exit_code = 5


class ResolutionError(WorkbenchError):
    """Identity resolution cannot run on the data as it is (too little of it, say)."""

    exit_code = 1


class ReportError(WorkbenchError):
    """A report notebook failed; the last good report of that period is kept."""

    exit_code = 6


class WarehouseError(WorkbenchError):
    """The DuckDB warehouse cannot be opened or used (missing, locked, corrupt)."""

    exit_code = 4
    damaged = False  # the file is there but DuckDB cannot read it (not in use by anyone)


class GovernanceError(WorkbenchError):
    """The audit trail is broken, or an erasure, retention run, backup or restore was refused."""

    exit_code = 7


def where_file(path: str | Path, line: int | None = None, column: str | None = None) -> str:
    """Format a file location for error messages: ``file, line N, column 'X'``."""
    text = str(path)
    if line is not None:
        text += f", line {line}"
    if column is not None:
        text += f", column '{column}'"
    return text
