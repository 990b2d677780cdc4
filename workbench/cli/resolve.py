"""Commands of identity resolution: resolve, export entities."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.table import Table

from workbench.cli.common import (
    OutOpt,
    ProjectOpt,
    UnmaskOpt,
    WaitOpt,
    check_unmask,
    export_frame,
    out,
    print_frame,
    project_and_store,
)
from workbench.cli.quality import export_app
from workbench.config import load_project
from workbench.privacy import mask_value, masker
from workbench.progress import steps
from workbench.resolve import ResolveReport, members_of
from workbench.resolve import resolve as run_resolve
from workbench.resolve.results import golden_of
from workbench.resolve.review import pending, record_decision, side_by_side
from workbench.store import Store
from workbench.terminal import styled

ObjectOpt = Annotated[str, typer.Option("--object", help="Canonical object to resolve.")]


def resolve(
    project: ProjectOpt = Path("."),
    object: ObjectOpt = "contacts",
    incremental: Annotated[
        bool,
        typer.Option(help="Score only new or changed records with the saved model."),
    ] = False,
    wait: WaitOpt = 0,
    retrain: Annotated[
        bool,
        typer.Option(help="Train a new model even if the last one could be reused."),
    ] = False,
) -> None:
    """Match records across and within systems into entities (Splink, from the dictionary)."""
    loaded, store = project_and_store(project, wait=wait)
    with store, steps("Resolving identities", None) as step:
        report = run_resolve(
            loaded,
            store,
            object_name=object,
            incremental=incremental,
            retrain=retrain,
            on_step=step,
        )
    print_resolution(report)


def print_resolution(report: ResolveReport) -> None:
    changes = ", ".join(f"{n:,} {e}" for e, n in sorted(report.events.items())) or "no changes"
    out.print(
        f"Resolved {report.records:,} {report.object} records into {report.entities:,} "
        f"entities (duplicate rate {report.duplicate_rate:.1%}; {report.pairs_scored:,} "
        f"candidate pairs scored; run {report.run_id}, {report.seconds:.1f} s"
        f"{', model of an earlier run reused' if report.model_reused else ''}). "
        f"Entities: {changes}; golden records rebuilt: {report.golden_rebuilt:,} "
        "(an entity of one record has that record as its own). "
        f"Pairs waiting for review: {report.review_queue:,} "
        "(`workbench review`)."
    )


review_app = typer.Typer(
    help="Uncertain pairs for a person to decide; decisions win over the model on every run.",
    invoke_without_command=True,
)


@review_app.callback()
def review(
    ctx: typer.Context,
    project: ProjectOpt = Path("."),
    object: ObjectOpt = "contacts",
    limit: Annotated[int, typer.Option(help="Pairs to show.")] = 20,
    unmask: UnmaskOpt = False,
) -> None:
    """List pairs waiting for review, most uncertain first, both records side by side
    (personal data masked)."""
    if ctx.invoked_subcommand is not None:
        return
    loaded = load_project(project)
    mask = check_unmask(loaded, unmask, what="review")
    _, store = project_and_store(project, read_only=True)
    with store:
        queue = pending(store, object, limit)
        records = side_by_side(store, object, queue)
    rules = masker(loaded.dictionary.object(object)) if mask else {}
    if queue.height == 0:
        out.print("No pairs are waiting for review.")
        return
    for pair in records:
        out.print(
            styled(str(pair["left"]), "bold"),
            "vs",
            styled(str(pair["right"]), "bold"),
            f" probability {pair['probability']:.3f}",
        )
        for field, (a, b) in pair["fields"].items():
            # compared unmasked, shown masked
            mark = "  <- differs" if a is not None and b is not None and a != b else ""
            if field in rules:
                a, b = (mask_value(v, *rules[field]) for v in (a, b))
            out.print(f"    {field:>14}: {a or '':<36} {b or '':<36}{mark}")
    out.print("Decide with: workbench review decide LEFT RIGHT --match | --no-match [--note TEXT]")


@review_app.command("decide")
def decide(
    left: Annotated[str, typer.Argument(help="One record, as source:record_id.")],
    right: Annotated[str, typer.Argument(help="The other record.")],
    is_match: Annotated[bool, typer.Option("--match/--no-match", help="Same person, or not.")],
    note: Annotated[str | None, typer.Option(help="Why (kept with the decision).")] = None,
    reviewer: Annotated[
        str | None, typer.Option(help="Who decides (default: your user name).")
    ] = None,
    project: ProjectOpt = Path("."),
    object: ObjectOpt = "contacts",
    wait: WaitOpt = 0,
) -> None:
    """Record a decision on a pair; the next `workbench resolve` follows it."""
    import getpass

    loaded, store = project_and_store(project, wait=wait)
    with store:
        record_decision(
            store,
            object,
            left,
            right,
            "match" if is_match else "no_match",
            project=loaded,
            reviewer=reviewer or getpass.getuser(),
            note=note,
        )
    verdict = "the same" if is_match else "different"
    out.print(f"Recorded: {left} and {right} are {verdict}. Run `workbench resolve` to apply.")


@export_app.command("entities")
def export_entities(
    out_file: OutOpt, project: ProjectOpt = Path("."), object: ObjectOpt = "contacts"
) -> None:
    """One row per record: source, record_id (the source's own id) and entity_id."""
    export_frame(project, lambda store: members_of(store, object), out_file)


@export_app.command("golden")
def export_golden(
    out_file: OutOpt,
    project: ProjectOpt = Path("."),
    object: ObjectOpt = "contacts",
    unmask: UnmaskOpt = False,
) -> None:
    """One row per entity: its golden record (personal data masked), and where each value
    came from (`*__from`)."""
    loaded = load_project(project)
    mask = check_unmask(loaded, unmask, what=f"export golden --out {out_file}")
    rules = masker(loaded.dictionary.object(object)) if mask else {}

    def read(store: Store) -> pl.DataFrame:
        frame = golden_of(store, object)
        return frame.with_columns(
            pl.Series(c, [mask_value(v, *rules[c]) for v in frame[c].to_list()], dtype=pl.String)
            for c in frame.columns
            if c in rules
        )

    export_frame(project, read, out_file)


def explain_pair(
    left: Annotated[str, typer.Argument(help="One record, as source:record_id.")],
    right: Annotated[str, typer.Argument(help="The other record.")],
    project: ProjectOpt = Path("."),
    object: ObjectOpt = "contacts",
) -> None:
    """Why two records match or not: the match-weight waterfall under the latest model."""
    from workbench.resolve.explain import explain

    loaded, store = project_and_store(project, read_only=True)
    with store:
        result = explain(loaded, store, object, left, right)
    table = Table("comparison", "level", "match weight", "running total",
                  title=f"{left} vs {right}")  # fmt: skip
    total = 0.0
    for step in result.steps:
        total += step.weight
        table.add_row(step.comparison, step.level, f"{step.weight:+.2f}", f"{total:+.2f}")
    out.print(table)
    out.print(
        f"Match weight {result.match_weight:+.2f}: probability {result.match_probability:.4f}"
    )


def evaluate(
    project: ProjectOpt = Path("."),
    object: ObjectOpt = "contacts",
    truth: Annotated[
        Path | None,
        typer.Option(help="CSV with source, record_id, person_id: score against it."),
    ] = None,
    anchor: Annotated[
        str, typer.Option(help="System whose records others should link to.")
    ] = "crm",
) -> None:
    """Duplicate rates, cross-system coverage, threshold sensitivity, and accuracy vs a truth."""
    from workbench.resolve.evaluate import Evaluation

    loaded, store = project_and_store(project, read_only=True)
    with store:
        ev = Evaluation.of_store(store, object)
        print_frame(ev.duplicate_rates(), title=f"Duplicate rate of {object}")
        anchors = [n for n, s in loaded.config.sources.items() if s.system == anchor]
        if anchors:
            print_frame(ev.coverage(anchors), title=f"Linked to a {anchor} record")
        grid = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]
        print_frame(ev.threshold_sensitivity(grid), title="If the match threshold were ...")
        if truth is None:
            return
        scores = ev.pairwise_scores(truth)
    out.print(
        f"Against {truth.name}: pairwise precision {scores.precision:.4f}, recall "
        f"{scores.recall:.4f}, F1 {scores.f1:.4f} ({scores.records:,} records)"
    )


def register(app: typer.Typer) -> None:
    app.command()(resolve)
    app.command("explain")(explain_pair)
    app.command()(evaluate)
