"""What every CLI command shares: the --project option, consoles, tables and errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.table import Table

from workbench.config import Project, load_project
from workbench.errors import WorkbenchError
from workbench.formatting import cell_text
from workbench.privacy import check_unmask as check_unmask
from workbench.store import Store, open_store
from workbench.terminal import err as console
from workbench.terminal import out, styled

# Results go to stdout (``out``), progress and errors to stderr (``console``): both print
# data as plain text (workbench.terminal).

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
UnmaskOpt = Annotated[
    bool,
    typer.Option(
        "--unmask", help="Show personal data unmasked (needs privacy.allow_unmask: true)."
    ),
]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        metavar="SECONDS",
        help="If another command is using the warehouse, wait up to this long for it "
        "instead of failing at once.",
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="CSV file to write.", dir_okay=False)]


def project_and_store(
    project: Path, *, read_only: bool = False, wait: float | None = None
) -> tuple[Project, Store]:
    """Load the project at ``project`` and open its warehouse (waiting ``wait`` seconds for
    another process to release it)."""
    loaded = load_project(project)
    return loaded, open_store(loaded, read_only=read_only, wait=wait)


def export_frame(project: Path, read: Callable[[Store], pl.DataFrame], out_file: Path) -> None:
    """Read a frame from the project's warehouse and write it as formula-safe CSV."""
    from workbench.export import write_csv

    _, store = project_and_store(project, read_only=True)
    with store:
        frame = read(store)
    out.print(f"Wrote {frame.height} rows to {write_csv(frame, out_file)}")


def print_frame(frame: pl.DataFrame, title: str | None = None, *, digits: int = 4) -> None:
    """Print a polars frame as a rich table (floats rounded)."""
    table = Table(*frame.columns, title=title)
    for row in frame.iter_rows():
        table.add_row(*(cell_text(v, digits) for v in row))
    out.print(table)


def print_error(err: WorkbenchError) -> None:
    console.print(styled("Error: ", "bold red"), end="")
    console.print(err.message, soft_wrap=True)
