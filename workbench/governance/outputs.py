"""What an erasure leaves outside the warehouse's tables: rendered reports and exports.

**Stale reports.** A report of a period that ends after the person's earliest record may
show them; every such run is marked stale in ``meta.report_runs`` (:func:`mark_stale`), so
the index says to render it again.

**Unmasked reports.** Of those periods, the report files rendered unmasked show the
person's values in clear. :func:`unmasked_reports` lists the ones still on disk (the HTML
and the executed notebook beside it): a file is taken as rendered unmasked when the run
recorded with its sha256 was unmasked, or, for a file no run recorded a checksum of, when
the newest run that wrote that path was. :func:`remove_reports` deletes them and records
a ``reports_removed`` audit entry.

**Unmasked exports.** ``export golden`` and ``quarantine export`` with ``--unmask`` are
recorded in the audit trail with the file they wrote; :func:`unmasked_exports` lists them.
Workbench does not delete those: they were written where their owner chose, and may have
been moved, shared or replaced since.

**Warehouse copies.** Backups and the warehouses a restore kept aside predate the erasure
and may hold the person (:func:`warehouse_copies`); they are listed, never deleted.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench import audit
from workbench.config import Project
from workbench.errors import WorkbenchError
from workbench.store import Store

REMOVED = "; its unmasked files were removed"


@dataclass(frozen=True)
class ReportFile:
    """One file of a report rendered unmasked."""

    report: str
    period: str
    path: Path


@dataclass(frozen=True)
class ExportFile:
    """An unmasked export the audit trail recorded: the command, the file, when."""

    view: str
    path: str
    recorded_at: datetime
    exists: bool


def affected_runs(store: Store, earliest: datetime | None) -> list[tuple[int, str, str]]:
    """Report runs (run_id, report, period) of periods ending after ``earliest``."""
    from workbench.kpi import periods

    if earliest is None or not store.table_exists("meta", "report_runs"):
        return []
    affected = []
    for run_id, report, period in store.rows(
        "SELECT run_id, report, period FROM meta.report_runs ORDER BY run_id"
    ):
        try:
            _, _, end = periods.bounds(period)
            end = end if end.tzinfo else end.replace(tzinfo=UTC)
        except WorkbenchError:  # a period this version cannot read: affected to be safe
            end = None
        if end is None or end > earliest:
            affected.append((int(run_id), report, period))
    return affected


def mark_stale(store: Store, earliest: datetime | None, *, mark: str | None) -> list[str]:
    """The reports (``"NAME PERIOD"``) of periods ending after ``earliest``; their runs are
    marked stale with the reason ``mark`` when it is given."""
    from workbench.report.runner import STALE_DDL

    affected = affected_runs(store, earliest)
    if mark and affected:
        store.execute(STALE_DDL)
        store.execute(
            "UPDATE meta.report_runs SET stale = $m "
            "WHERE list_contains($ids::BIGINT[], run_id) AND stale IS NULL",
            {"m": mark, "ids": [a[0] for a in affected]},
        )
    return sorted({f"{report} {period}" for _, report, period in affected})


def unmasked_reports(project: Project, store: Store, earliest: datetime | None) -> list[ReportFile]:
    """Files on disk of reports of periods ending after ``earliest`` that were rendered
    unmasked (see the module doc), in the order of their runs."""
    from workbench.report.files import sha256_of

    periods_hit = {(report, period) for _, report, period in affected_runs(store, earliest)}
    if not periods_hit:
        return []
    has_sha = "sha256" in store.columns("meta", "report_runs")
    runs: dict[str, list[tuple[str, str, bool, str | None]]] = {}
    for report, period, masked, path, sha in store.rows(
        "SELECT report, period, masked, path, "
        + ("sha256" if has_sha else "NULL")
        + " FROM meta.report_runs WHERE status = 'ok' AND path IS NOT NULL ORDER BY run_id"
    ):
        if (report, period) in periods_hit:
            runs.setdefault(path, []).append((report, period, bool(masked), sha))
    out = []
    for path, written in runs.items():
        html = project.resolve(path)
        digest = sha256_of(html)
        if digest is None or not _laid_out_as_report(html, written[-1][0], written[-1][1]):
            continue  # gone, or not where a report run writes (a hand-edited warehouse)
        same = [w for w in written if w[3] == digest]
        if not same and any(w[3] for w in written):
            continue  # a file no run wrote, though runs record checksums: not ours to judge
        report, period, masked, _ = (same or written)[-1]
        if not masked:
            notebook = html.with_suffix(".ipynb")
            for file in (html, notebook) if notebook.exists() else (html,):
                out.append(ReportFile(report, period, file))
    return out


def unmasked_exports(project: Project, store: Store) -> list[ExportFile]:
    """Every unmasked export (a command with ``--out``) the audit trail recorded, oldest
    first; ``exists``: a file is still at that path (as given, or in the project folder)."""
    if not store.table_exists("meta", "audit"):
        return []
    out = []
    for recorded_at, details in store.rows(
        "SELECT recorded_at, details FROM meta.audit WHERE action = 'unmask' ORDER BY entry_id"
    ):
        view = str(_loaded(details).get("view") or "")
        command, sep, path = view.partition(" --out ")
        if not sep or not path.strip():
            continue
        file = Path(path.strip()).expanduser()
        exists = file.exists() or (not file.is_absolute() and (project.root / file).exists())
        out.append(ExportFile(command, path.strip(), recorded_at, exists))
    return out


def _laid_out_as_report(html: Path, report: str, period: str) -> bool:
    """Whether ``html`` is where the runner writes a report: ``<report>/<period>/
    <report>.html`` for one of Workbench's reports, so that a path a hand-edited (or
    restored) ``meta.report_runs`` names can never make erase delete another file."""
    from workbench.report.runner import REPORTS

    return (
        report in REPORTS
        and re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?|-Q[1-4]|-W\d{2})", period) is not None
        and html.name == f"{report}.html"
        and html.parent.name == period
        and html.parent.parent.name == report
    )


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


def remove_reports(
    project: Project, store: Store, files: list[ReportFile], details: dict[str, Any]
) -> list[Path]:
    """Delete ``files`` (and folders they leave empty), note it on their runs' stale reason,
    and record a ``reports_removed`` audit entry with ``details``; returns the files
    removed (a file already gone is left out)."""
    removed = []
    for file in files:
        try:
            file.path.unlink()
        except FileNotFoundError:
            continue
        removed.append(file.path)
        with contextlib.suppress(OSError):  # a folder other files are still in stays
            file.path.parent.rmdir()
    if not removed:
        return removed
    from workbench.report.runner import STALE_DDL

    with store.transaction():
        store.execute(STALE_DDL)
        shown = sorted({(f.report, f.period) for f in files})
        for report, period in shown:
            store.execute(
                "UPDATE meta.report_runs SET stale = coalesce(stale, '') || $r "
                "WHERE report = $n AND period = $p AND NOT contains(coalesce(stale, ''), $r)",
                {"r": REMOVED, "n": report, "p": period},
            )
        entry = {"files": [str(f) for f in removed], **details}
        audit.record(store, "reports_removed", entry, project=project)
    return removed


def _loaded(details: str) -> dict[str, Any]:
    return audit.details_of(details)
