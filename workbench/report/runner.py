"""Run a report notebook with papermill and render it to offline HTML, all or nothing.

``reports/NAME/PERIOD/NAME.ipynb`` and ``NAME.html`` appear only when the whole run
succeeded: the run writes into a temporary folder beside them and moves it into place at
the end. A failed run keeps the last good report, records which cell failed, and raises
:class:`~workbench.errors.ReportError`. Every run is recorded in ``meta.report_runs``, with
the sha256 of the HTML it wrote; moving the files in and recording the run happen under
the report folder's lock, and a run that replaced a file other than the one recorded, or
was overtaken by a later run, leaves a ``report_replaced`` audit entry (see
:mod:`workbench.report.files`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import papermill as pm
from jupyter_client.manager import KernelManager
from nbconvert import HTMLExporter
from plotly.offline import get_plotlyjs

from workbench import audit
from workbench.config import Project
from workbench.errors import ConfigError, ReportError
from workbench.formatting import percent_text, time_text
from workbench.kpi import periods
from workbench.report.files import (
    Placement,
    lock_file,
    placing,
    replacement,
    sha256_of,
)
from workbench.schema import REPORT_RUNS, next_id
from workbench.store import open_store

REPORTS = ("data_quality", "duplicates", "kpi_baseline", "roi", "governance_review")
TEMPLATES = Path(__file__).parent / "templates"
RECORD_WAIT = 60.0  # seconds a finished run waits for the warehouse to record itself


def notebooks_dir() -> Path:
    """The folder of the report notebooks: ``workbench/report/notebooks``, package data in
    an installed wheel; in a checkout, a link to the project's top-level ``notebooks/``."""
    return Path(__file__).resolve().parent / "notebooks"


@dataclass
class ReportRun:
    """One execution of one report for one period."""

    report: str
    period: str
    status: str
    seconds: float
    html: Path | None
    parameters: dict[str, Any]
    dq_status: str = ""
    changes: list[str] = field(default_factory=list)
    failed_cell: int | None = None
    error: str | None = None
    sha256: str | None = None  # of the HTML written


def check_name(name: str) -> str:
    if name not in REPORTS:
        raise ConfigError(
            f"There is no report named {name!r}.",
            where="workbench report NAME",
            fix=f"Use one of: {', '.join(REPORTS)}, or 'all'.",
        )
    return name


def parse_params(pairs: list[str], notebook: Path) -> dict[str, Any]:
    """``key=value`` pairs checked against the notebook's parameters cell (values as JSON
    where they parse, else text)."""
    known = pm.inspect_notebook(str(notebook))
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in known:
            raise ConfigError(
                f"Unknown report parameter {pair!r}.",
                where="-p KEY=VALUE",
                fix=f"{notebook.stem} takes: {', '.join(known)} (e.g. -p unmask=true).",
            )
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def run_report(
    project: Project,
    name: str,
    period: str,
    *,
    params: dict[str, Any] | None = None,
    reports_dir: Path | None = None,
    kernel: KernelManager | None = None,
) -> ReportRun:
    """Execute and render one report for ``period``; see the module docstring.

    ``kernel``: a running kernel to execute in (see :func:`shared_kernel`), which saves the
    kernel start and the imports when several reports of a period are rendered together.
    """
    check_name(name)
    periods.parse(period)
    source = notebooks_dir() / f"{name}.ipynb"
    if not source.exists():
        raise ConfigError(
            f"The report notebook {source} is missing.",
            where=str(source),
            fix="Restore notebooks/ from the repository.",
        )
    root = (reports_dir or project.root / "reports").resolve()
    final = root / name / period
    tmp = root / f".tmp-{name}-{period}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    parameters = {"project": str(project.root), "period": period, "unmask": False, **(params or {})}
    started = datetime.now(UTC)
    clock = time.perf_counter()
    run = ReportRun(name, period, "ok", 0.0, final / f"{name}.html", parameters)
    held = ExitStack()  # the report folder's lock, from moving the files in to recording
    placement: Placement | None = None
    try:
        pm.execute_notebook(
            str(source),
            str(tmp / f"{name}.ipynb"),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            # written once at the end (and on an error), not at each cell's start and end
            request_save_on_cell_execute=False,
            cwd=str(notebooks_dir()),
            **({"km": kernel} if kernel is not None else {}),
        )
        masked = not parameters.get("unmask")
        page = render_html(tmp / f"{name}.ipynb", banner(project, period, masked))
        (tmp / f"{name}.html").write_text(page, encoding="utf-8")
        placement = held.enter_context(placing(lock_file(project.root, final)))
        placement.old_sha256 = sha256_of(final / f"{name}.html")
        _replace(tmp, final)
        run.sha256 = placement.new_sha256 = sha256_of(final / f"{name}.html")
    except pm.PapermillExecutionError as exc:
        run.status, run.html = "failed", None
        run.failed_cell, run.error = exc.cell_index + 1, f"{exc.ename}: {exc.evalue}"
    except BaseException:
        held.close()
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        run.seconds = time.perf_counter() - clock
    with held:
        _record(project, run, started, placement)
    if run.status == "failed":
        kept = "the last good report is kept" if final.exists() else "no earlier report exists"
        raise ReportError(
            f"Report {name} for {period} failed in cell {run.failed_cell}: {run.error}",
            where=str(source),
            fix=f"Fix the cause and run it again ({kept}); `--debug` is not needed, the "
            "failing cell is named above.",
        )
    return run


@contextmanager
def shared_kernel(log: Path | None = None) -> Iterator[KernelManager]:
    """One Python kernel for several reports (each report's notebook starts from its own
    parameters and context; the imports stay loaded). The kernel's own messages go to
    ``log`` (default: discarded); cell errors reach the runner through papermill."""
    km = KernelManager(kernel_name="python3")
    with open(log or os.devnull, "ab") as sink:
        km.start_kernel(cwd=str(notebooks_dir()), stderr=sink, stdout=sink)
        try:
            yield km
        finally:
            km.shutdown_kernel(now=True)


def render_html(notebook: Path, banner: dict[str, Any] | None = None) -> str:
    """Offline HTML of an executed notebook: code hidden, plotly embedded, no CDN.

    ``banner`` (see :func:`banner`) puts the report's period, project, time of rendering and
    masking above it, with a link back to the index of every report.
    """
    exporter = HTMLExporter(
        template_name="workbench",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    resources = {"plotly_js": get_plotlyjs(), "wb": banner}
    body, _ = exporter.from_filename(str(notebook), resources=resources)
    return body


def banner(project: Project, period: str, masked: bool) -> dict[str, Any]:
    """What the top of a rendered report says: which period (with its dates) of which
    project, when it was rendered, whether personal data is masked; the index is two
    folders up (reports/NAME/PERIOD/NAME.html)."""
    _, start, end = periods.bounds(period)
    last = end - timedelta(days=1)
    span = f"{start:%d %b %Y} to {last:%d %b %Y}" if last.date() != start.date() else ""
    return {
        "index": "../../index.html",
        "period_text": f"{period} ({span}, UTC)" if span else period,
        "project": project.config.name,
        "rendered": time_text(datetime.now(UTC)),
        "masked": masked,
    }


def _replace(tmp: Path, final: Path) -> None:
    """Move the new report into place; the old one is removed only after that worked."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = final.with_name(f".old-{final.name}-{os.getpid()}")
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _record(
    project: Project, run: ReportRun, started: datetime, placement: Placement | None
) -> None:
    with open_store(project, wait=RECORD_WAIT) as store, store.transaction():
        replaced = (
            replacement(store, run.html, started, placement)
            if placement is not None and run.html is not None
            else None
        )
        state = _fingerprint(project, store)
        previous = store.rows(
            "SELECT fingerprint FROM meta.report_runs WHERE report = $r AND status = 'ok' "
            "ORDER BY run_id DESC LIMIT 1",
            {"r": run.report},
        )
        run.changes = _changes(json.loads(previous[0][0]) if previous else None, state)
        run.dq_status = _dq_status(project, store)
        store.execute(
            "INSERT INTO meta.report_runs (run_id, report, period, status, started_at, seconds, "
            "parameters, masked, dq_status, fingerprint, changes, failed_cell, error, path, "
            "sha256) VALUES ($id, $r, $p, $s, $t, $sec, $par, $m, $dq, $fp, $ch, $cell, $err, "
            "$path, $sha)",
            {
                "id": next_id(store, REPORT_RUNS),
                "r": run.report,
                "p": run.period,
                "s": run.status,
                "t": started,
                "sec": run.seconds,
                "par": json.dumps(run.parameters, sort_keys=True),
                "m": not run.parameters.get("unmask", False),
                "dq": run.dq_status,
                "fp": json.dumps(state, sort_keys=True),
                "ch": "; ".join(run.changes),
                "cell": run.failed_cell,
                "err": run.error,
                "path": str(run.html) if run.html else None,
                "sha": run.sha256,
            },
        )
        masked = not run.parameters.get("unmask", False)
        details = {"report": run.report, "period": run.period, "status": run.status}
        audit.record(store, "report", {**details, "masked": masked}, project=project)
        if replaced is not None:
            replaced = {"report": run.report, "period": run.period, **replaced}
            audit.record(store, "report_replaced", replaced, project=project)


def _fingerprint(project: Project, store: Any) -> dict[str, Any]:
    """What the data a report reads looked like: newest load, validation and resolution,
    the erasures, retention runs and restores that removed rows since, and the project's
    configuration files."""

    def newest(sql: str, schema: str, table: str) -> Any:
        # None until the stage has run (its fixed table is made empty by workbench.schema)
        return store.scalar(sql) if store.has_rows(schema, table) else None

    removals = "SELECT count(*) FROM meta.audit WHERE action IN ('erase', 'retention', 'restore')"
    return {
        "load": newest("SELECT max(load_id) FROM meta.loads", "meta", "loads"),
        "validation": newest("SELECT max(run_id) FROM dq.metrics", "dq", "metrics"),
        "resolution": newest("SELECT max(run_id) FROM id.runs", "id", "runs"),
        "decisions": newest("SELECT count(*) FROM id.review_decisions", "id", "runs"),
        "erasures, retention, restores": newest(removals, "meta", "audit"),
        "configuration": _config_digest(project),
    }


def _config_digest(project: Project) -> str:
    """The first 12 hex digits of the sha256 of the project's YAML files (workbench.yaml,
    roi.yaml, a dictionary of its own...), which the reports read their settings from."""
    digest = hashlib.sha256()
    for path in sorted(project.root.glob("*.y*ml")):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    if before is None:
        return ["first run of this report"]
    out = [f"{k}: {before.get(k)} -> {v}" for k, v in after.items() if before.get(k) != v]
    return out or ["no new data since the previous run"]


def _dq_status(project: Project, store: Any) -> str:
    """The data-quality state of what the report read: the last validation run, its breached
    blocking limits, and the rows it set aside (rejected at ingest, quarantined) and values
    it set aside from rows it kept."""
    from workbench.quality.gates import breaches
    from workbench.quality.history import run_ids
    from workbench.validate.quarantine import set_aside

    runs = run_ids(store)
    if not runs:
        return "not validated"
    found = breaches(project, store, runs[-1])
    counts = dict(
        store.rows(
            "SELECT metric, sum(value) FROM dq.metrics WHERE run_id = $r AND metric IN "
            "('rows_read', 'rows_staged', 'rows_rejected', 'rows_quarantined') GROUP BY metric",
            {"r": runs[-1]},
        )
    )
    read = counts.get("rows_read") or counts.get("rows_staged") or 0
    parts = [f"{len(found)} blocking breach(es)" if found else "ok"]
    for metric, what in (
        ("rows_rejected", "rejected at ingest"),
        ("rows_quarantined", "quarantined"),
    ):
        n = int(counts.get(metric) or 0)
        if n:
            share = f" ({percent_text(n / read)})" if read else ""
            parts.append(f"{n:,} rows {what}{share}")
    warned = 0
    if store.table_exists("quar", "failures"):  # values of kept rows, each counted once
        values = set_aside(store).select("source", "load_id", "row_number", "column")
        warned = values.n_unique() if values.height else 0
    if warned:
        parts.append(f"{int(warned):,} values set aside")
    return f"validation run {runs[-1]}: " + "; ".join(parts)
