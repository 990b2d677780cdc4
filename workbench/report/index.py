"""``reports/index.html``: every report, its periods, status, run time, parameters, the
data-quality status of what it read and what changed since its previous run."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from workbench.config import Project
from workbench.store import open_store


def _parameters(text: str) -> str:
    """A run's parameters as a person reads them: ``period=2026-09, unmask=false`` (the
    project folder is the index's own and is left out)."""
    try:
        values = json.loads(text)
    except (TypeError, ValueError):
        return str(text or "")
    if not isinstance(values, dict):
        return str(text)
    shown = {k: v for k, v in values.items() if k != "project"}
    return ", ".join(
        f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in shown.items()
    )


def write_index(project: Project, reports_dir: Path) -> Path:
    """Write ``index.html`` into ``reports_dir`` from ``meta.report_runs``; returns its path."""
    with open_store(project, read_only=True) as store:
        exists = store.table_exists("meta", "report_runs")
        # set by an erasure (workbench.governance.erasure): the report may show erased data
        stale = "stale" if exists and "stale" in store.columns("meta", "report_runs") else "NULL"
        rows = (
            store.rows(
                f"""SELECT report, period, status, started_at, seconds, parameters, masked,
                          dq_status, changes, failed_cell, error, path, {stale}
                   FROM meta.report_runs
                   QUALIFY row_number() OVER (PARTITION BY report, period
                                              ORDER BY run_id DESC) = 1
                   ORDER BY period DESC, report"""
            )
            if exists
            else []
        )
    body = []
    for (
        report,
        period,
        status,
        started,
        seconds,
        params,
        masked,
        dq,
        changes,
        cell,
        err,
        path,
        stale_reason,
    ) in rows:
        link = html.escape(report)
        if path and Path(path).exists():
            rel = os.path.relpath(path, reports_dir)
            link = f"<a href='{html.escape(rel)}'>{html.escape(report)}</a>"
        state = "ok" if status == "ok" else f"failed in cell {cell}: {err}"
        # the data the report read broke a blocking data-quality limit
        flagged = "blocking breach" in (dq or "")
        if flagged and status == "ok":
            state = "ok, but its input breached data-quality limits"
        stale_note = (
            f" <b class='stale'>stale</b>: {html.escape(stale_reason)}; render it again"
            if stale_reason
            else ""
        )
        body.append(
            "<tr>"
            + "".join(
                f"<td>{c}</td>"
                for c in (
                    link,
                    html.escape(period),
                    f"<span class='{'warn' if flagged else ''}'>{html.escape(state)}</span>"
                    + stale_note,
                    html.escape(f"{started:%Y-%m-%d %H:%M} UTC"),
                    f"{seconds:.1f} s",
                    html.escape(_parameters(params)),
                    "masked" if masked else "<b>unmasked</b>",
                    f"<span class='{'warn' if flagged else ''}'>{html.escape(dq or '')}</span>",
                    html.escape(changes or ""),
                )
            )
            + "</tr>"
        )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Workbench reports</title>
<style>
body {{ font-family: Inter, Segoe UI, Helvetica, Arial, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #e6e9ef; padding: 4px 8px; }}
th {{ background: #f4f6f9; text-align: left; }}
.warn {{ color: #b35900; font-weight: 600; }}
</style></head><body>
<h1>Reports of {html.escape(project.config.name)}</h1>
<table><thead><tr><th>report</th><th>period</th><th>status</th><th>run at</th>
<th>run time</th><th>parameters</th><th>personal data</th><th>data quality of its input</th>
<th>changed since the previous run</th></tr></thead>
<tbody>{"".join(body) or "<tr><td colspan='9'>No reports yet.</td></tr>"}</tbody></table>
</body></html>
"""
    reports_dir.mkdir(parents=True, exist_ok=True)
    out = reports_dir / "index.html"
    out.write_text(page, encoding="utf-8")
    return out


def refresh_indexes(project: Project) -> list[Path]:
    """Write again each ``index.html`` next to the folders of reports that ``meta.report_runs``
    records (reports/NAME/PERIOD/NAME.html), so that runs an erasure marked stale say so
    before they are rendered again; returns the indexes written."""
    with open_store(project, read_only=True) as store:
        if not store.table_exists("meta", "report_runs"):
            return []
        paths = [p for (p,) in store.rows("SELECT DISTINCT path FROM meta.report_runs")]
    folders = {Path(p).parent.parent.parent for p in paths if p}
    return [write_index(project, f) for f in sorted(folders) if (f / "index.html").is_file()]
