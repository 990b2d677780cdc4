"""Commands about the data dictionary: export it as a document, draft one from an export,
show its governance matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from workbench.cli.common import JsonOpt, ProjectOpt, emit, load_project, out
from workbench.export import is_stdout, write_text_file

app = typer.Typer(
    help="The Canonical Data Dictionary: export it, draft one from a file, or show its "
    "governance matrix."
)


@app.command("export")
def export(
    fmt: Annotated[
        Literal["md", "csv", "html"], typer.Option("--format", "-f", help="Document format.")
    ] = "md",
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write (default, or '-': print to stdout)."),
    ] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Write the project's data dictionary as Markdown, CSV or HTML."""
    from workbench.dictionary_doc import render

    loaded = load_project(project)
    text = render(loaded.dictionary, fmt, title=loaded.config.name)
    if out_file is None or is_stdout(out_file):
        out.print(text, soft_wrap=True)
    else:
        write_text_file(out_file, text)
        out.print(f"Wrote {out_file}")


@app.command("infer")
def infer(
    file: Annotated[Path, typer.Argument(help="An export file (CSV, JSON, Parquet, XLSX).")],
    object: Annotated[str, typer.Option("--object", help="Name for the object section.")],
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter (sniffed if unset).")] = None,
    encoding: Annotated[
        str,
        typer.Option(
            help="CSV encoding, as a source's options.encoding: utf-8, utf-8-sig, latin-1, "
            "cp1252 (windows-1252) or utf-16 (a UTF-16 byte order mark wins)."
        ),
    ] = "utf-8",
    skip_rows: Annotated[
        int,
        typer.Option(
            min=0,
            help="Lines (CSV) or sheet rows (XLSX) above the header, such as title lines, "
            "as a source's options.skip_rows.",
        ),
    ] = 0,
    records: Annotated[
        str | None,
        typer.Option(
            help="JSON: the key of the object that holds the records (Stripe's 'data'), as "
            "a source's options.records.",
        ),
    ] = None,
) -> None:
    """Propose a dictionary section (types, required, allowed values, identity) to edit."""
    from workbench.dictionary_infer import infer_section

    out.print(
        infer_section(
            file,
            object,
            delimiter=delimiter,
            encoding=encoding,
            skip_rows=skip_rows,
            records=records,
        ),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@app.command("matrix")
def matrix(project: ProjectOpt = Path("."), json: JsonOpt = False) -> None:
    """Show the governance matrix: per object its PII classes and fields, retention, owner,
    legal basis, consent fields and what is missing (no warehouse needed)."""
    from workbench.report.governance_matrix import governance_matrix

    emit(governance_matrix(load_project(project)), json=json, title="Governance matrix")
