"""The ``workbench`` command line: thin commands over the package.

Every command takes ``--project DIR`` (default: the current folder). Errors a user can fix
are printed as one message (what, where, how to fix) with a non-zero exit code; ``--debug``
shows the traceback too.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.table import Table

from workbench import __version__
from workbench.config import CONFIG_FILE, Project, load_project
from workbench.errors import ConfigError, WorkbenchError
from workbench.ingest import IngestReport, list_loads
from workbench.ingest import ingest as run_ingest
from workbench.pipeline import run_pipeline
from workbench.progress import console, steps
from workbench.store import open_store

app = typer.Typer(
    name="workbench",
    help="Data-quality and ROI workbench for CRM integration projects.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
# Results go to stdout (wide when piped, so tables keep whole file names); progress and errors
# go to stderr.
out = Console(width=None if sys.stdout.isatty() else 160)

ProjectOpt = Annotated[
    Path,
    typer.Option(
        "--project",
        "-P",
        help="Project folder (holding workbench.yaml).",
        file_okay=False,
        show_default="current folder",
    ),
]


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if version:
        out.print(f"workbench {__version__}")
        raise typer.Exit()


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing workbench.yaml.")] = False,
) -> None:
    """Write a commented starter project (workbench.yaml and folders) to edit."""
    target = directory / CONFIG_FILE
    if target.exists() and not force:
        raise ConfigError(
            f"{target} already exists.",
            where=str(target),
            fix="Edit it, or pass --force to replace it with the starter file.",
        )
    for sub in ("exports", "data", "reports"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    template = resources.files("workbench") / "templates" / CONFIG_FILE
    target.write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
    out.print(f"Created {target}")
    out.print("Next: put your exports under exports/, edit the sources, run `workbench ingest`.")


@app.command()
def demo(
    project: ProjectOpt = Path("demo"),
    contacts: Annotated[int, typer.Option(min=100, help="Contact records to generate.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 42,
) -> None:
    """Create (or refresh) a demo project with generated exports, then run the pipeline."""
    from workbench.demo import generate_demo

    with steps("Generating demo data", None) as step:
        generate_demo(project, contacts=contacts, seed=seed, progress=step)
    out.print(f"Demo exports for {contacts:,} contact records written to {project / 'exports'}")
    _run_and_report(load_project(project))


@app.command()
def ingest(
    file: Annotated[
        Path | None, typer.Argument(help="Load only this file (needs --source).")
    ] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Configured source name(s).")
    ] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Load the configured exports (or one FILE as --source) into the warehouse."""
    loaded = load_project(project)
    if file is not None and not source:
        raise ConfigError(
            f"Which source is {file.name}?",
            fix=f"Add --source NAME; configured sources: {', '.join(loaded.config.sources)}.",
        )
    with open_store(loaded) as store, steps("Loading exports", None) as step:
        report = run_ingest(loaded, store, sources=source, file=file, on_file=step)
    _print_loads(report)
    if report.failures:
        _fail_loads(report)


@app.command()
def ledger(
    source: Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """List the load ledger: every file loaded or refused, with its row counts."""
    loaded = load_project(project)
    with open_store(loaded, read_only=True) as store:
        rows = list_loads(store, source)
    table = Table("load", "source", "file", "status", "read", "loaded", "rejected", "current")
    for r in rows:
        table.add_row(
            str(r.load_id),
            r.source,
            Path(r.file).name,
            r.status,
            _n(r.rows_read),
            _n(r.rows_loaded),
            _n(r.rows_rejected),
            "yes" if r.is_current else "",
        )
    out.print(table)


def _run_and_report(project: Project) -> None:
    with open_store(project) as store, steps("Running pipeline", None) as step:
        result = run_pipeline(project, store, on_step=step)
    _print_loads(result.ingest)
    out.print(f"Warehouse: {project.warehouse_path}")
    if result.ingest.failures:
        _fail_loads(result.ingest)


def _print_loads(report: IngestReport) -> None:
    table = Table("source", "file", "result", title="Ingest")
    for r in report.loads:
        style = {"failed": "red", "unchanged": "dim"}.get(r.status, "")
        table.add_row(r.source, r.file.name, f"[{style}]{r.message}[/]" if style else r.message)
    out.print(table)
    staged = ", ".join(f"{k} {v}" for k, v in report.staged.items())
    out.print(f"Staged rows per source: {staged}")


def _fail_loads(report: IngestReport) -> None:
    for r in report.failures:
        assert r.error is not None
        _print_error(r.error)
    raise typer.Exit(3)


def _n(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _print_error(err: WorkbenchError) -> None:
    console.print("[bold red]Error:[/] ", end="")
    console.print(err.message, highlight=False, markup=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``workbench`` console script."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        code = app(args=args, prog_name="workbench", standalone_mode=False)
    except WorkbenchError as err:
        if debug:
            raise
        _print_error(err)
        return err.exit_code
    except click.exceptions.Exit as done:
        return int(done.exit_code or 0)
    except click.ClickException as usage:
        usage.show()
        return usage.exit_code
    except click.exceptions.Abort:
        console.print("Aborted.")
        return 130
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    raise SystemExit(main())
