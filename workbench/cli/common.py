"""What every CLI command shares: the options, consoles, tables, JSON output and errors.

Nothing heavy is imported here at module level (``workbench --help`` must start fast):
the project loader, the warehouse and polars are imported by the functions that use them,
when a command runs. Option types stay cheap (Path, str, bool) because Typer evaluates
every command's annotations when it builds the command line.
"""

from __future__ import annotations

import json as jsonlib
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from workbench.errors import WorkbenchError
from workbench.export import is_stdout, write_stdout
from workbench.formatting import cell_text
from workbench.terminal import err as console
from workbench.terminal import out, styled

if TYPE_CHECKING:
    import polars as pl

    from workbench.config import DeprecatedMapping, Project
    from workbench.store import Store

# Results go to stdout (``out``), progress and errors to stderr (``console``): both print
# data as plain text (workbench.terminal). With --json, stdout holds the JSON document
# alone and every note goes to stderr.

__all__ = [
    "JsonOpt",
    "OutOpt",
    "ProjectOpt",
    "UnmaskOpt",
    "WaitOpt",
    "check_unmask",
    "console",
    "emit",
    "export_frame",
    "json_value",
    "load_project",
    "note",
    "open_store",
    "out",
    "print_error",
    "print_frame",
    "project_and_store",
    "styled",
    "warn_deprecated",
    "wrote_csv",
]

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
OutOpt = Annotated[
    Path,
    typer.Option(
        "--out", "-o", help="CSV file to write ('-' writes the CSV to stdout).", dir_okay=False
    ),
]
JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one JSON document to stdout instead of tables (records as objects, "
        "times as ISO text, personal data masked as in the tables); notes go to stderr.",
    ),
]


def load_project(project: Path) -> Project:
    """The project at ``project`` (:func:`workbench.config.load_project`, imported on use)."""
    from workbench.config import load_project as load

    return load(project)


def open_store(project: Project, *, read_only: bool = False, wait: float | None = None) -> Store:
    """The project's warehouse (:func:`workbench.store.open_store`, imported on use)."""
    from workbench.store import open_store as open_

    return open_(project, read_only=read_only, wait=wait)


def check_unmask(project: Project, unmask: bool, *, what: str | None = None) -> bool:
    """Whether to mask personal data (:func:`workbench.privacy.check_unmask`)."""
    from workbench.privacy import check_unmask as check

    return check(project, unmask, what=what)


def project_and_store(
    project: Path, *, read_only: bool = False, wait: float | None = None
) -> tuple[Project, Store]:
    """Load the project at ``project`` and open its warehouse (waiting ``wait`` seconds for
    another process to release it)."""
    loaded = load_project(project)
    return loaded, open_store(loaded, read_only=read_only, wait=wait)


def export_frame(project: Path, read: Callable[[Store], pl.DataFrame], out_file: Path) -> None:
    """Read a frame from the project's warehouse and write it as formula-safe CSV (to
    stdout when ``out_file`` is ``-``)."""
    _, store = project_and_store(project, read_only=True)
    with store:
        frame = read(store)
    wrote_csv(frame, out_file)


def wrote_csv(frame: pl.DataFrame, out_file: Path) -> None:
    """Write ``frame`` as formula-safe CSV to ``out_file`` (``-``: stdout) and say so (on
    stderr when the CSV went to stdout, which then holds the CSV alone)."""
    from workbench.export import write_csv

    target = write_csv(frame, out_file)
    if is_stdout(out_file):
        console.print(f"Wrote {frame.height} rows to stdout")
    else:
        out.print(f"Wrote {frame.height} rows to {target}")


def print_frame(frame: pl.DataFrame, title: str | None = None, *, digits: int = 4) -> None:
    """Print a polars frame as a rich table (floats rounded)."""
    table = Table(*frame.columns, title=title)
    for row in frame.iter_rows():
        table.add_row(*(cell_text(v, digits) for v in row))
    out.print(table)


def emit(data: Any, *, json: bool, title: str | None = None, digits: int = 4) -> None:
    """Print a command's result: with ``json``, ``data`` (a frame, a mapping of frames and
    values, a list...) as one JSON document on stdout (see :func:`json_value`); else
    ``data``, a frame, as a table titled ``title``."""
    if json:
        text = jsonlib.dumps(json_value(data), ensure_ascii=False, indent=2, allow_nan=False)
        write_stdout(text + "\n")
    else:
        print_frame(data, title, digits=digits)


def note(text: Any, *, json: bool) -> None:
    """A line for the reader: on stdout with the tables, on stderr beside a JSON document."""
    if json:
        console.print(text, soft_wrap=True)
    else:
        out.print(text)


def json_value(value: Any) -> Any:
    """``value`` as JSON data: a frame becomes a list of objects (one per row, keyed by
    column), dates and times ISO 8601 text, a duration seconds, Decimal a number, NaN and
    infinities null, paths and anything else text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return json_value(float(value))
    if isinstance(value, Enum):
        return json_value(value.value)
    polars = sys.modules.get("polars")
    if polars is not None and isinstance(value, polars.DataFrame):
        return [json_value(row) for row in value.iter_rows(named=True)]
    if polars is not None and isinstance(value, polars.Series):
        return [json_value(v) for v in value.to_list()]
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [json_value(v) for v in items]
    if is_dataclass(value) and not isinstance(value, type):
        return json_value(asdict(value))
    return str(value)


def warn_deprecated(mappings: list[DeprecatedMapping]) -> None:
    """Warn (on stderr, once per command) about each mapping of a deprecated field."""
    for mapping in mappings:
        console.print(styled("Warning: ", "bold yellow"), end="")
        console.print(mapping.warning(), soft_wrap=True)


def print_error(err: WorkbenchError) -> None:
    console.print(styled("Error: ", "bold red"), end="")
    console.print(err.message, soft_wrap=True)


def print_interrupted() -> None:
    """The one line of a command ended by Ctrl-C (exit 130)."""
    console.print(styled("Interrupted: ", "bold red"), end="")
    console.print(
        "what had been committed is kept and the step under way was rolled back; run the "
        "command again (`workbench ledger` lists a load left 'running', which the next ingest "
        "loads again).",
        soft_wrap=True,
    )
