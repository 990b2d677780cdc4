"""The data-quality report: the latest run per source, trends across runs, rows set aside
(by ingest or validation) and why, reconciliation of CRM deals against billing."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from workbench.quality import latest_summary
from workbench.quality.reconcile import differences
from workbench.report.context import ReportContext
from workbench.report.display import layout
from workbench.validate import quarantine

COUNTS = ("rows_read", "rows_rejected", "rows_suppressed", "rows_valid", "rows_quarantined")


def summary(ctx: ReportContext) -> pl.DataFrame:
    """Rows read, rejected at ingest, suppressed, valid and quarantined per source in the
    latest validation run (``rows_read`` is the sum of the four others)."""
    frame = latest_summary(ctx.store)
    wanted = (
        "object",
        "source",
        *COUNTS,
        "quarantine_rate",
        "completeness_avg",
        "freshness_hours",
    )
    keep = [c for c in wanted if c in frame.columns]
    return frame.select(keep)


def quarantine_chart(ctx: ReportContext) -> go.Figure:
    """Share of each source's rows set aside in the latest run: rows ingest could not read
    and rows validation quarantined, stacked."""
    frame = latest_summary(ctx.store)
    read = pl.col("rows_read")
    fig = go.Figure()
    if "rows_rejected" in frame.columns:
        share = frame.select((pl.col("rows_rejected").fill_null(0) / read * 100).alias("s"))["s"]
        fig.add_bar(x=frame["source"], y=share, name="could not be read (ingest)")
    share = frame.select((pl.col("rows_quarantined") / read * 100).alias("s"))["s"]
    fig.add_bar(x=frame["source"], y=share, name="quarantined (validation)", marker_color="#c23b3b")
    return layout(
        fig, "Rows set aside by source (latest run)", "source", "of rows read (%)", barmode="stack"
    )


def trend_chart(ctx: ReportContext) -> go.Figure:
    """Share of every source's rows set aside (rejected at ingest or quarantined) across
    validation runs; runs before the ledger's counts were recorded count quarantined rows
    of the rows staged."""
    frame = ctx.store.frame(
        "SELECT run_id, source, (sum(value) FILTER (metric = 'rows_quarantined') + "
        "coalesce(sum(value) FILTER (metric = 'rows_rejected'), 0)) / nullif(coalesce("
        "sum(value) FILTER (metric = 'rows_read'), sum(value) FILTER (metric = 'rows_staged')),"
        " 0) AS rate FROM dq.metrics WHERE field = '' GROUP BY ALL ORDER BY run_id, source"
    )
    fig = go.Figure()
    for (source,), part in frame.group_by("source", maintain_order=True):
        fig.add_scatter(
            x=part["run_id"], y=part["rate"] * 100, mode="lines+markers", name=str(source)
        )
    return layout(fig, "Rows set aside across validation runs", "validation run", "set aside (%)")


def reasons(ctx: ReportContext) -> pl.DataFrame:
    """Why rows were set aside: one row per failed check and source, most frequent first;
    rows ingest could not read count under the check 'readable row (ingest)'."""
    frame = _reasons(ctx)
    keep = [c for c in frame.columns if c not in ("example", "examples")]
    return frame.select(keep).head(20)


def _reasons(ctx: ReportContext) -> pl.DataFrame:
    """The quarantine's reasons summary with the kind of an unreadable row in its check (the
    examples of other checks are values, which the report does not show)."""
    ingest = pl.col("check") == quarantine.INGEST_CHECK
    return quarantine.reasons_summary(ctx.store).with_columns(
        pl.when(ingest)
        .then(pl.format("{}: {}", "check", "example"))
        .otherwise(pl.col("check"))
        .alias("check")
    )


def reasons_chart(ctx: ReportContext) -> go.Figure:
    """The most frequent reasons rows were set aside."""
    frame = _reasons(ctx).head(12)
    label = frame.select(
        pl.concat_str(
            [pl.col("source"), pl.col("check"), pl.col("column").fill_null("")],
            separator=" · ",
        )
        .str.strip_chars_end(" ·")
        .alias("l")
    )["l"]
    fig = go.Figure(go.Bar(y=label, x=frame["rows"], orientation="h"))
    fig.update_yaxes(autorange="reversed")
    return layout(fig, "Top reasons rows were set aside", "rows", "")


def ingest_rejects(ctx: ReportContext) -> pl.DataFrame:
    """Rows ingest could not read, per source and file of the current loads: how many, of
    which kinds, and the first lines (no raw text: it may hold personal data)."""
    rejects = quarantine.ingest_rejects(ctx.store)
    per_kind = rejects.group_by("object", "source", "file", "kind").agg(pl.len().alias("n"))
    reasons = (
        per_kind.sort("n", "kind", descending=[True, False])
        .group_by("object", "source", "file", maintain_order=True)
        .agg(pl.format("{} ({})", "kind", "n").str.join("; ").alias("reasons"))
    )
    lines = rejects.group_by("object", "source", "file").agg(
        pl.len().alias("rows_rejected"),
        pl.col("line").sort().head(5).cast(pl.String).str.join(", ").alias("first lines"),
    )
    return (
        lines.join(reasons, on=["object", "source", "file"], how="left")
        .select("object", "source", "file", "rows_rejected", "reasons", "first lines")
        .sort("object", "source", "file")
    )


def reconciliation(ctx: ReportContext) -> pl.DataFrame:
    """Months where CRM won deals and billing invoices disagree most."""
    if not ctx.store.table_exists("dq", "reconciliation"):
        return pl.DataFrame({"note": ["no reconciliation recorded yet"]})
    return differences(ctx.store, "month", limit=12)
