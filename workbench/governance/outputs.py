"""What an erasure leaves outside the warehouse's tables: exports and warehouse copies.

(Rendered reports are the report stage's to forget: :mod:`workbench.report.forget`.)

**Unmasked exports.** ``export golden`` and ``quarantine export`` with ``--unmask`` are
recorded in the audit trail with the file they wrote; :func:`unmasked_exports` lists them.
Workbench does not delete those: they were written where their owner chose, and may have
been moved, shared or replaced since.

**Warehouse copies.** Backups and the warehouses a restore kept aside predate the erasure
and may hold the person (:func:`warehouse_copies`); they are listed, never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from workbench import audit
from workbench.config import Project
from workbench.store import Store


@dataclass(frozen=True)
class ExportFile:
    """An unmasked export the audit trail recorded: the command, the file, when."""

    view: str
    path: str
    recorded_at: datetime
    exists: bool


def unmasked_exports(project: Project, store: Store) -> list[ExportFile]:
    """Every unmasked export (a command with ``--out``) the audit trail recorded, oldest
    first; ``exists``: a file is still at that path (as given, or in the project folder)."""
    out = []
    for recorded_at, details in audit.entries(store, "unmask"):
        view = str(details.get("view") or "")
        command, sep, path = view.partition(" --out ")
        if not sep or not path.strip():
            continue
        file = Path(path.strip()).expanduser()
        exists = file.exists() or (not file.is_absolute() and (project.root / file).exists())
        out.append(ExportFile(command, path.strip(), recorded_at, exists))
    return out


def warehouse_copies(project: Project) -> list[Path]:
    """Copies of the warehouse that an erasure does not reach: backup folders in the
    project's ``backups/`` (any folder holding a ``manifest.json``) and the warehouses a
    restore replaced (``<warehouse>.<time>.bak``), oldest first by name. Each may hold the
    person; restoring one applies the erasure again, but the copy itself keeps them."""
    found: list[Path] = []
    backups = project.root / "backups"
    if backups.is_dir():
        found += sorted(m.parent for m in backups.glob("*/manifest.json"))
    warehouse = project.warehouse_path
    found += sorted(warehouse.parent.glob(f"{glob_escape(warehouse.name)}.*.bak"))
    return found


def glob_escape(name: str) -> str:
    """``name`` with glob's special characters taken literally."""
    import glob

    return glob.escape(name)
