"""Commands of identity resolution: resolve, export entities."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from workbench.cli.common import (
    JsonOpt,
    OutOpt,
    ProjectOpt,
    UnmaskOpt,
    WaitOpt,
    check_unmask,
    emit,
    export_frame,
    load_project,
    note,
    out,
    print_frame,
    project_and_store,
)
from workbench.cli.quality import export_app
from workbench.progress import steps
from workbench.terminal import styled

if TYPE_CHECKING:
    import polars as pl

    from workbench.resolve import ResolveReport
    from workbench.store import Store

ObjectOpt = Annotated[
    str | None,
    typer.Option(
        "--object",
        help="Canonical object to resolve (default: the pack's object of people, contacts).",
        show_default=False,
    ),
]


def resolve(
    project: ProjectOpt = Path("."),
    object: ObjectOpt = None,
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
    from workbench.resolve import resolve as run_resolve

    loaded, store = project_and_store(project, wait=wait)
    object = object or loaded.person_object()
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
    object: ObjectOpt = None,
    limit: Annotated[int, typer.Option(help="Pairs to show.")] = 20,
    unmask: UnmaskOpt = False,
    json: JsonOpt = False,
) -> None:
    """List pairs waiting for review, most uncertain first, both records side by side
    (personal data masked).

    With --json: a list of pairs, each with left, right, probability and fields (per field:
    left, right and differs).
    """
    if ctx.invoked_subcommand is not None:
        return
    from workbench.privacy import mask_rules, mask_value
    from workbench.resolve.review import pending, side_by_side

    loaded = load_project(project)
    object = object or loaded.person_object()
    mask = check_unmask(loaded, unmask, what="review")
    _, store = project_and_store(project, read_only=True)
    with store:
        queue = pending(store, object, limit)
        records = side_by_side(store, object, queue)
    rules = mask_rules(loaded.dictionary.object(object)) if mask else {}
    if json:
        pairs = []
        for pair in records:
            fields = {}
            for field, (a, b) in pair["fields"].items():
                differs = a is not None and b is not None and a != b  # compared unmasked
                if field in rules:
                    a, b = (mask_value(v, *rules[field]) for v in (a, b))
                fields[field] = {"left": a, "right": b, "differs": differs}
            pairs.append({**pair, "fields": fields})
        if not pairs:
            note("No pairs are waiting for review.", json=True)
        emit(pairs, json=True)
        return
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
    object: ObjectOpt = None,
    wait: WaitOpt = 0,
) -> None:
    """Record a decision on a pair; the next `workbench resolve` follows it."""
    import getpass

    from workbench.resolve.review import record_decision

    loaded, store = project_and_store(project, wait=wait)
    object = object or loaded.person_object()
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


def export_entities(
    out_file: OutOpt, project: ProjectOpt = Path("."), object: ObjectOpt = None
) -> None:
    """One row per record: source, record_id (the source's own id) and entity_id."""
    from workbench.resolve import members_of

    obj = object or load_project(project).person_object()
    export_frame(project, lambda store: members_of(store, obj), out_file)


def export_golden(
    out_file: OutOpt,
    project: ProjectOpt = Path("."),
    object: ObjectOpt = None,
    unmask: UnmaskOpt = False,
) -> None:
    """One row per entity: its golden record (personal data masked), and where each value
    came from (`*__from`)."""
    from workbench.privacy import mask_frame
    from workbench.resolve.results import golden_of

    loaded = load_project(project)
    object = object or loaded.person_object()
    mask = check_unmask(loaded, unmask, what=f"export golden --out {out_file}")
    spec = loaded.dictionary.object(object)

    def read(store: Store) -> pl.DataFrame:
        frame = golden_of(store, object)
        return mask_frame(frame, spec) if mask else frame

    export_frame(project, read, out_file)


def explain_pair(
    left: Annotated[str, typer.Argument(help="One record, as source:record_id.")],
    right: Annotated[str, typer.Argument(help="The other record.")],
    project: ProjectOpt = Path("."),
    object: ObjectOpt = None,
    json: JsonOpt = False,
) -> None:
    """Why two records match or not: the match-weight waterfall under the latest model.

    With --json: an object with left, right, steps (comparison, level, match_weight,
    running_total), match_weight and match_probability.
    """
    from workbench.resolve.explain import explain

    loaded, store = project_and_store(project, read_only=True)
    object = object or loaded.person_object()
    with store:
        result = explain(loaded, store, object, left, right)
    if json:
        running = 0.0
        waterfall = []
        for step in result.steps:
            running += step.weight
            waterfall.append(
                {
                    "comparison": step.comparison,
                    "level": step.level,
                    "match_weight": step.weight,
                    "running_total": running,
                }
            )
        document = {
            "left": left,
            "right": right,
            "steps": waterfall,
            "match_weight": result.match_weight,
            "match_probability": result.match_probability,
        }
        emit(document, json=True)
        return
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
    object: ObjectOpt = None,
    truth: Annotated[
        Path | None,
        typer.Option(help="CSV with source, record_id, person_id: score against it."),
    ] = None,
    anchor: Annotated[
        str | None,
        typer.Option(
            help="System whose records others should link to.",
            show_default="the pack's anchor system, crm",
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Duplicate rates, cross-system coverage, threshold sensitivity, and accuracy vs a truth.

    With --json: an object with duplicate_rates, coverage (null without a source of the
    anchor system), threshold_sensitivity (lists of the tables' rows) and accuracy (null
    without --truth).
    """
    from workbench.resolve.evaluate import Evaluation

    loaded, store = project_and_store(project, read_only=True)
    object = object or loaded.person_object()
    grid = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]
    with store:
        ev = Evaluation.of_store(store, object)
        rates = ev.duplicate_rates()
        anchor = anchor or loaded.pack.anchor_system
        anchors = [n for n, s in loaded.config.sources.items() if s.system == anchor]
        coverage = ev.coverage(anchors) if anchors else None
        sensitivity = ev.threshold_sensitivity(grid)
        if not json:
            print_frame(rates, title=f"Duplicate rate of {object}")
            if coverage is not None:
                print_frame(coverage, title=f"Linked to a {anchor} record")
            print_frame(sensitivity, title="If the match threshold were ...")
        scores = ev.pairwise_scores(truth) if truth is not None else None
    if json:
        accuracy = None
        if truth is not None and scores is not None:
            accuracy = {
                "truth": str(truth),
                "precision": scores.precision,
                "recall": scores.recall,
                "f1": scores.f1,
                "records": scores.records,
                "predicted_pairs": scores.predicted_pairs,
                "true_pairs": scores.true_pairs,
                "true_positives": scores.true_positives,
            }
        document = {
            "duplicate_rates": rates,
            "coverage": coverage,
            "threshold_sensitivity": sensitivity,
            "accuracy": accuracy,
        }
        emit(document, json=True)
        return
    if truth is None or scores is None:
        return
    out.print(
        f"Against {truth.name}: pairwise precision {scores.precision:.4f}, recall "
        f"{scores.recall:.4f}, F1 {scores.f1:.4f} ({scores.records:,} records)"
    )


def register(app: typer.Typer) -> None:
    export_app.command("entities")(export_entities)
    export_app.command("golden")(export_golden)
    app.command()(resolve)
    app.command("explain")(explain_pair)
    app.command()(evaluate)
