"""What the reports forget when a person is erased (see :mod:`workbench.forget`).

**Stale reports.** A report of a period that ends after the person's earliest record may
show them; every such run is marked stale in ``meta.report_runs`` (:func:`mark_stale`), so
the index says to render it again.

**Unmasked reports.** Of those periods, the report files rendered unmasked show the
person's values in clear. :func:`unmasked_reports` lists the ones still on disk (the HTML
and the executed notebook beside it): a file is taken as rendered unmasked when the run
recorded with its sha256 was unmasked, or, for a file no run recorded a checksum of, when
the newest run that wrote that path was. :func:`remove_reports` deletes them and records
a ``reports_removed`` audit entry.
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
from workbench.kpi import periods
from workbench.report.files import sha256_of
from workbench.report.runner import REPORTS
from workbench.store import Store

REMOVED = "; its unmasked files were removed"


@dataclass(frozen=True)
class ReportFile:
    """One file of a report rendered unmasked."""

    report: str
    period: str
    path: Path


def affected_runs(store: Store, earliest: datetime | None) -> list[tuple[int, str, str]]:
    """Report runs (run_id, report, period) of periods ending after ``earliest``."""
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
    affected = affected_runs(store, earliest)
    if mark and affected:
        store.execute(
            "UPDATE meta.report_runs SET stale = $m "
            "WHERE list_contains($ids::BIGINT[], run_id) AND stale IS NULL",
            {"m": mark, "ids": [a[0] for a in affected]},
        )
    return sorted({f"{report} {period}" for _, report, period in affected})


def unmasked_reports(project: Project, store: Store, earliest: datetime | None) -> list[ReportFile]:
    """Files on disk of reports of periods ending after ``earliest`` that were rendered
    unmasked (see the module doc), in the order of their runs."""
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


def _laid_out_as_report(html: Path, report: str, period: str) -> bool:
    """Whether ``html`` is where the runner writes a report: ``<report>/<period>/
    <report>.html`` for one of Workbench's reports, so that a path a hand-edited (or
    restored) ``meta.report_runs`` names can never make erase delete another file."""
    return (
        report in REPORTS
        and re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?|-Q[1-4]|-W\d{2})", period) is not None
        and html.name == f"{report}.html"
        and html.parent.name == period
        and html.parent.parent.name == report
    )


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
    with store.transaction():
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
