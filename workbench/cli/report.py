"""Commands about reports: report NAME|all, schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from workbench.cli.common import ProjectOpt, load_project, out
from workbench.errors import ReportError
from workbench.progress import steps
from workbench.terminal import styled

ReportsOut = Annotated[
    Path | None,
    typer.Option(
        "--out", help="Reports folder.", file_okay=False, show_default="reports/ in the project"
    ),
]


def report(
    name: Annotated[
        str,
        typer.Argument(
            help="data_quality, duplicates, kpi_baseline, roi, governance_review, or all"
        ),
    ],
    period: Annotated[
        str,
        typer.Option(
            "--period",
            help="Period the report is about: 2026-09 (or 'previous' for the last complete month).",
        ),
    ],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Notebook parameter KEY=VALUE (e.g. unmask=true)."),
    ] = None,
    reports_dir: ReportsOut = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Run a report notebook with papermill and render it to offline HTML.

    Writes reports/NAME/PERIOD/NAME.ipynb and NAME.html only when the whole run succeeds
    (a failed run keeps the last good report and exits non-zero), then reports/index.html.
    """
    from workbench.cli.common import check_unmask
    from workbench.kpi import periods
    from workbench.report.index import write_index
    from workbench.report.runner import (
        REPORTS,
        check_name,
        notebooks_dir,
        parse_params,
        run_report,
        shared_kernel,
    )
    from workbench.store import open_store

    loaded = load_project(project)
    if period == "previous":
        period = periods.last_complete(datetime.now(UTC).date())
    periods.parse(period)
    names = list(REPORTS) if name == "all" else [check_name(name)]
    params = parse_params(param or [], notebooks_dir() / f"{names[0]}.ipynb")
    # refused here unless allowed; the notebook's context writes the audit entry itself
    check_unmask(loaded, bool(params.get("unmask")))
    if loaded.warehouse_path.exists():
        # in use by another process: said now, not as a failed cell or a wait to record
        open_store(loaded, read_only=True).close()
    root = (reports_dir or loaded.root / "reports").resolve()
    failures: list[ReportError] = []
    try:
        root.mkdir(parents=True, exist_ok=True)
        kernel_log = root / "kernel.log"
        with (
            steps(f"Reports for {period}", len(names)) as step,
            shared_kernel(kernel_log) as kernel,
        ):
            for each in names:
                step(each)
                try:
                    run = run_report(
                        loaded, each, period, params=params, reports_dir=root, kernel=kernel
                    )
                    changes = "; ".join(run.changes)
                    out.print(f"{each}: {run.html} ({run.seconds:.1f} s; {changes})")
                except ReportError as err:
                    failures.append(err)
                    out.print(styled(f"{each}: failed", "red"), f"({err.what})")
        index = write_index(loaded, root)
    except OSError as exc:  # read-only, full, or not a folder: the files are not written
        raise ReportError(
            f"The reports folder cannot be written: {exc.strerror or exc}.",
            where=str(exc.filename or root),
            fix="Make the folder writable (and free space on its disk), or pass --out DIR "
            "for another folder; reports rendered before are kept.",
        ) from None
    out.print(f"Index: {index}")
    if failures:
        raise failures[0]


def schedule(
    report_name: Annotated[str, typer.Option("--report", help="Report to schedule, or all.")],
    cron: Annotated[
        str, typer.Option("--cron", help="When, as cron fields, e.g. '0 6 1 * *'.")
    ] = "0 6 1 * *",
    install: Annotated[
        bool, typer.Option("--install", help="Add the line to your crontab.")
    ] = False,
    reports_dir: ReportsOut = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Print (or --install) the crontab line that renders a report for the previous period."""
    from workbench.report import schedule as sched
    from workbench.report.runner import check_name

    if report_name != "all":
        check_name(report_name)
    load_project(project)  # a line for a folder that is no project would fail at every run
    line = sched.cron_line(report_name, cron, project, reports_dir)
    if install:
        sched.install(line, report_name)
        out.print(f"Installed in your crontab:\n{line}")
    else:
        out.print(line, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(report)
    app.command()(schedule)
