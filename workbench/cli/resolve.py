"""Commands of identity resolution: resolve, export entities."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workbench.cli.common import OutOpt, ProjectOpt, out, project_and_store
from workbench.cli.quality import export_app
from workbench.export import write_csv
from workbench.progress import steps
from workbench.resolve import ResolveReport, members_of
from workbench.resolve import resolve as run_resolve

ObjectOpt = Annotated[str, typer.Option("--object", help="Canonical object to resolve.")]


def resolve(project: ProjectOpt = Path("."), object: ObjectOpt = "contacts") -> None:
    """Match records across and within systems into entities (Splink, from the dictionary)."""
    loaded, store = project_and_store(project)
    with store, steps("Resolving identities", None) as step:
        report = run_resolve(loaded, store, object_name=object, on_step=step)
    print_resolution(report)


def print_resolution(report: ResolveReport) -> None:
    out.print(
        f"Resolved {report.records:,} {report.object} records into {report.entities:,} "
        f"entities (duplicate rate {report.duplicate_rate:.1%}; {report.pairs_scored:,} "
        f"candidate pairs scored; run {report.run_id}, {report.seconds:.1f} s)"
    )


@export_app.command("entities")
def export_entities(
    out_file: OutOpt, project: ProjectOpt = Path("."), object: ObjectOpt = "contacts"
) -> None:
    """One row per record: source, record_id (the source's own id) and entity_id."""
    _, store = project_and_store(project, read_only=True)
    with store:
        frame = members_of(store, object)
    out.print(f"Wrote {frame.height} rows to {write_csv(frame, out_file)}")


def register(app: typer.Typer) -> None:
    app.command()(resolve)
