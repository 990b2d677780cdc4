"""Commands about data quality: validate, dq, quarantine, export dq."""

from __future__ import annotations

import json as jsonlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

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
    warn_deprecated,
)
from workbench.progress import steps
from workbench.terminal import styled

if TYPE_CHECKING:
    import polars as pl

    from workbench.pipeline import QualityResult
    from workbench.store import Store

dq_app = typer.Typer(help="Data-quality history: metrics per run and what regressed.")
quarantine_app = typer.Typer(
    help="Rows set aside by ingest (unreadable) or by validation (failed checks), and why."
)
export_app = typer.Typer(help="Write results as CSV files (formula-safe for spreadsheets).")


def validate(project: ProjectOpt = Path("."), wait: WaitOpt = 0) -> None:
    """Stage, standardize and validate what was loaded; valid rows to core, others quarantined.

    Sources with new loads, or whose mapping changed, are staged first (from the loaded
    rows; no file is read again).

    Exits non-zero (5) only when a blocking limit of `quality.blocking` is breached.
    """
    from workbench.pipeline import run_quality

    loaded, store = project_and_store(project, wait=wait)
    with store, steps("Validating", None) as step:
        result = run_quality(loaded, store, on_step=step)
    warn_deprecated(loaded.deprecated_mappings())
    print_quality(result)


def print_quality(result: QualityResult) -> None:
    """The compact summary of a validation run; raises on breached blocking limits."""
    import polars as pl

    from workbench.errors import ValidationFailed

    if result.staged:
        done = "; ".join(f"{s.source} ({s.rows:,} rows, {s.reason})" for s in result.staged)
        out.print(f"Staged from the loaded data first: {done}.")
    counts = pl.DataFrame(
        [
            {
                "object": c.object,
                "source": c.source,
                "staged": c.rows_staged,
                "valid": c.rows_valid,
                "quarantined": c.rows_quarantined,
                "warned": c.rows_warned,
            }
            for c in result.validation.counts
        ]
    )
    top = (
        result.validation.failures.sort("rows", descending=True)
        .group_by("object", "source", maintain_order=True)
        .agg(
            pl.format(
                "{} {} ({}{})",
                "column",
                "check",
                "rows",
                pl.when(pl.col("severity") == "warn")
                .then(pl.lit(", set aside"))
                .otherwise(pl.lit("")),
            )
            .head(2)
            .str.join("; ")
        )
        .rename({"column": "top reasons"})
    )
    if counts.height:
        summary = counts.join(top, on=["object", "source"], how="left")
        print_frame(summary, title=f"Validation run {result.validation.run_id}")
    if result.breaches:
        raise ValidationFailed(
            "Blocking data-quality limits were breached:\n"
            + "\n".join(f"  - {b.describe()}" for b in result.breaches),
            where="workbench.yaml, key quality.blocking",
            fix="Fix the exports (see `workbench quarantine list`), or relax the limits.",
        )


@dq_app.command("show")
def dq_show(project: ProjectOpt = Path("."), json: JsonOpt = False) -> None:
    """The latest run's metrics per source and object.

    With --json: a list of the table's rows.
    """
    from workbench.quality import latest_summary

    _, store = project_and_store(project, read_only=True)
    with store:
        summary = latest_summary(store)
    emit(summary, json=json, title="Data quality (latest run)")


@dq_app.command("diff")
def dq_diff(
    project: ProjectOpt = Path("."),
    all_changes: Annotated[
        bool, typer.Option("--all", help="List every change, not only regressions.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Compare the last validation run with the one before and list regressions.

    With --json: an object with changes (the table's rows, regression true or false),
    regressions and other_changes (counts of every change).
    """
    import polars as pl

    from workbench.quality import diff

    _, store = project_and_store(project, read_only=True)
    with store:
        changes = diff(store)
    shown = [c for c in changes if all_changes or c.regression]
    frame = pl.DataFrame(
        [
            {
                "object": c.object,
                "source": c.source,
                "field": c.field,
                "metric": c.metric,
                "before": c.before,
                "after": c.after,
                "regression": "yes" if c.regression else "",
            }
            for c in shown
        ]
    )
    regressions = sum(c.regression for c in changes)
    if json:
        records = [{**row, "regression": row["regression"] == "yes"} for row in frame.to_dicts()]
        emit(
            {
                "changes": records,
                "regressions": regressions,
                "other_changes": len(changes) - regressions,
            },
            json=True,
        )
        return
    if frame.height:
        print_frame(frame, title="Data-quality changes")
    out.print(f"{regressions} regression(s), {len(changes) - regressions} other change(s).")


@dq_app.command("reconcile")
def dq_reconcile(
    project: ProjectOpt = Path("."),
    level: Annotated[
        Literal["month", "account"], typer.Option(help="Compare per month or per account.")
    ] = "month",
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 30,
    json: JsonOpt = False,
) -> None:
    """Where the pack's two ledgers disagree (counts and base-currency money).

    The CRM pack compares CRM won deals (columns crm_*) with billing invoices (billing_*);
    differences are billing minus CRM.
    """
    from workbench.quality.reconcile import differences

    loaded, store = project_and_store(project, read_only=True)
    with store:
        frame = differences(store, level, limit=limit)
    spec = loaded.pack.reconciliation
    what = f"{spec.left.label} vs {spec.right.label}" if spec else "Reconciliation"
    emit(frame, json=json, title=f"{what} per {level}: differences (right - left)")


SlaPeriodOpt = Annotated[
    str | None,
    typer.Option(
        "--period",
        help="One period: 2026-09, 2026-Q3, 2026-W39 or 2026-09-30.",
        show_default="the last complete month",
    ),
]


def _period(period: str | None) -> tuple[str, datetime, datetime]:
    from workbench.kpi import periods

    label = period or periods.last_complete(datetime.now(UTC).date())
    _, start, end = periods.bounds(label)
    return label, start, end


@dq_app.command("inventory")
def dq_inventory(
    project: ProjectOpt = Path("."), period: SlaPeriodOpt = None, json: JsonOpt = False
) -> None:
    """The connected systems (`integration.systems`, and every source's system): owner, API,
    contact, sources, last load, freshness, and the period's syncs from or to each."""
    from workbench.quality.integration import inventory

    loaded, store = project_and_store(project, read_only=True)
    label, start, end = _period(period)
    with store:
        frame = inventory(loaded, store, start, end)
    emit(frame, json=json, title=f"Integration inventory ({label})")
    missing = frame.filter(~frame["in_inventory"])["system"].to_list()
    if missing:
        note(f"Not in the inventory (integration.systems): {', '.join(missing)}.", json=json)


@dq_app.command("slas")
def dq_slas(
    project: ProjectOpt = Path("."), period: SlaPeriodOpt = None, json: JsonOpt = False
) -> None:
    """Each event SLA (`integration.event_slas`) measured on the sync log over the period:
    syncs, failure rate, latency and time since the newest against their limits."""
    from workbench.quality.integration import BREACHED, event_slas

    loaded, store = project_and_store(project, read_only=True)
    label, start, end = _period(period)
    with store:
        frame = event_slas(loaded, store, start, end)
    if frame.height == 0:
        note(
            "No event SLA is measured: add `integration.event_slas` (and a sync log source).",
            json=json,
        )
    emit(frame, json=json, title=f"Event SLAs ({label})")
    breached = frame.filter(frame["status"] == BREACHED).height
    note(f"{breached} of {frame.height} event SLA(s) breached in {label}.", json=json)


@quarantine_app.command("list")
def quarantine_list(
    project: ProjectOpt = Path("."),
    object: Annotated[str | None, typer.Option("--object", help="Only this object.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
    unmask: UnmaskOpt = False,
    json: JsonOpt = False,
) -> None:
    """Quarantined rows with the reasons, and a count per check (personal data masked).

    Values set aside from rows that were kept (a failed check of severity warn: the row is
    in core, the value NULL there) are listed apart, and so are rows ingest could not read
    (ragged rows, bad bytes, NDJSON lines that are not objects), with file, line, reason and
    an excerpt of the raw text, counted under the check 'readable row (ingest)'.

    With --json: an object with by_check, rows (null before the first validation),
    values_set_aside (null then too) and ingest_rejects, each a list of the table's rows.
    """
    from workbench.validate.quarantine import (
        ingest_rejects,
        quarantined,
        reasons_summary,
        reject_excerpts,
        set_aside,
        validated,
    )

    loaded = load_project(project)
    mask = check_unmask(loaded, unmask, what="quarantine list")
    masked_by = loaded.dictionary if mask else None
    _, store = project_and_store(project, read_only=True)
    with store:
        summary = reasons_summary(store, object=object, source=source, masked_by=masked_by)
        rows = values = None
        if validated(store):
            rows = quarantined(
                store, object=object, source=source, limit=limit, masked_by=masked_by
            )
            values = set_aside(
                store, object=object, source=source, limit=limit, masked_by=masked_by
            )
        rejects = ingest_rejects(store, object=object, source=source, limit=limit)
    shown = reject_excerpts(rejects, mask=mask).select(
        "source", "file", "line", "reason", "excerpt"
    )
    if json:
        if rows is None:
            note("Nothing has been validated yet: run `workbench validate`.", json=True)
        document = {
            "by_check": summary,
            "rows": None if rows is None else rows.drop("record"),
            "values_set_aside": None if values is None else values.drop("load_id"),
            "ingest_rejects": shown,
        }
        emit(document, json=True)
        return
    print_frame(summary, title="Quarantine by check")
    if rows is not None:
        print_frame(rows.drop("record"), title=f"Rows validation quarantined (first {limit})")
    if values is not None and values.height:
        title = f"Values set aside, their rows kept (first {limit})"
        print_frame(values.drop("load_id"), title=title)
    if rows is None:
        out.print("Nothing has been validated yet: run `workbench validate`.")
    if rejects.height:
        print_frame(shown, title=f"Rows ingest could not read (first {limit})")


@quarantine_app.command("show")
def quarantine_show(
    record: Annotated[str, typer.Argument(help="SOURCE:RECORD_ID of a quarantined row.")],
    project: ProjectOpt = Path("."),
    unmask: UnmaskOpt = False,
    json: JsonOpt = False,
) -> None:
    """One quarantined row (or a kept row with values set aside) in full, and every check it
    failed with its severity (personal data masked).

    With --json: an object with object, record, load_id, row_number, values (the row's
    fields) and failed_checks (the table's rows).
    """
    from workbench.record_ids import split_unique_id, unique_id
    from workbench.validate.quarantine import record_failures

    source, record_id = split_unique_id(record)
    loaded = load_project(project)
    mask = check_unmask(loaded, unmask, what=f"quarantine show {record}")
    _, store = project_and_store(project, read_only=True)
    with store:
        masked_by = loaded.dictionary if mask else None
        row, failures = record_failures(store, source, record_id, masked_by=masked_by)
    fields = jsonlib.loads(row["record"])
    if json:
        document = {
            "object": row["object"],
            "record": unique_id(source, record_id),
            "load_id": row["load_id"],
            "row_number": row["row_number"],
            "values": fields,
            "failed_checks": failures,
        }
        emit(document, json=True)
        return
    out.print(
        styled(str(row["object"]), "bold"),
        f"{unique_id(source, record_id)} (load {row['load_id']}, row {row['row_number']})",
    )
    for key, value in fields.items():
        out.print(f"  {key}: {value}")
    print_frame(failures, title="Failed checks")


@quarantine_app.command("export")
def quarantine_export(
    out_file: OutOpt, project: ProjectOpt = Path("."), unmask: UnmaskOpt = False
) -> None:
    """Write every quarantined row with its reasons to a CSV file (personal data masked).

    One row per row set aside: `stage` says whether ingest could not read it or validation
    quarantined it; `outcome` says row quarantined, value set aside (the row kept) or row
    rejected; then object, source, record_id, file, load_id, row_number, line, reasons and
    record (the staged record as JSON, the value set aside, or the raw text ingest read).
    """
    from workbench.validate.quarantine import quarantine_export as quarantine_frame

    loaded = load_project(project)
    mask = check_unmask(loaded, unmask, what=f"quarantine export --out {out_file}")

    def read(store: Store) -> pl.DataFrame:
        return quarantine_frame(store, loaded.dictionary, mask=mask)

    export_frame(project, read, out_file)


@export_app.command("dq")
def export_dq(out_file: OutOpt, project: ProjectOpt = Path(".")) -> None:
    """The latest data-quality run as CSV: one row per source and object with its metrics."""
    from workbench.quality import latest_summary

    export_frame(project, latest_summary, out_file)


def register(app: typer.Typer) -> None:
    app.command()(validate)
