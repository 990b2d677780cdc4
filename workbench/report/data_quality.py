"""The data-quality report: the latest run per source, trends across runs, quarantine
reasons, reconciliation of CRM deals against billing."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from workbench.quality import latest_summary
from workbench.quality.reconcile import differences
from workbench.report.context import ReportContext
from workbench.report.display import layout
from workbench.validate.quarantine import reasons_summary


def summary(ctx: ReportContext) -> pl.DataFrame:
    """Rows read, valid and quarantined per source in the latest validation run."""
    frame = latest_summary(ctx.store)
    wanted = (
        "object",
        "source",
        "rows_read",
        "rows_valid",
        "rows_quarantined",
        "quarantine_rate",
        "completeness",
        "freshness_hours",
    )
    keep = [c for c in wanted if c in frame.columns]
    return frame.select(keep)


def quarantine_chart(ctx: ReportContext) -> go.Figure:
    """Share of each source's rows quarantined in the latest run."""
    frame = latest_summary(ctx.store).with_columns(
        (pl.col("rows_quarantined") / pl.col("rows_read")).alias("share")
    )
    fig = go.Figure(go.Bar(x=frame["source"], y=frame["share"] * 100, marker_color="#c23b3b"))
    return layout(fig, "Quarantined rows by source (latest run)", "source", "quarantined (%)")


def trend_chart(ctx: ReportContext) -> go.Figure:
    """Quarantine rate of every source across validation runs."""
    frame = ctx.store.frame(
        "SELECT run_id, source, sum(value) FILTER (metric = 'rows_quarantined') / "
        "nullif(sum(value) FILTER (metric = 'rows_read'), 0) AS rate FROM dq.metrics "
        "WHERE field = '' GROUP BY ALL ORDER BY run_id, source"
    )
    fig = go.Figure()
    for (source,), part in frame.group_by("source", maintain_order=True):
        fig.add_scatter(
            x=part["run_id"], y=part["rate"] * 100, mode="lines+markers", name=str(source)
        )
    return layout(
        fig, "Quarantine rate across validation runs", "validation run", "quarantined (%)"
    )


def reasons(ctx: ReportContext) -> pl.DataFrame:
    """Why rows were quarantined: one row per failed check and source, most frequent first."""
    frame = reasons_summary(ctx.store)
    keep = [c for c in frame.columns if c not in ("example", "examples")]
    return frame.select(keep).head(20)


def reasons_chart(ctx: ReportContext) -> go.Figure:
    """The most frequent quarantine reasons."""
    frame = reasons_summary(ctx.store)
    count = "rows" if "rows" in frame.columns else frame.columns[-1]
    label = frame.select(
        pl.concat_str(
            [pl.col(c).cast(pl.String) for c in frame.columns[:2]], separator=" · "
        ).alias("l")
    )["l"]
    fig = go.Figure(go.Bar(y=label.head(12), x=frame[count].head(12), orientation="h"))
    fig.update_yaxes(autorange="reversed")
    return layout(fig, "Top quarantine reasons", "rows", "")


def reconciliation(ctx: ReportContext) -> pl.DataFrame:
    """Months where CRM won deals and billing invoices disagree most."""
    if not ctx.store.table_exists("dq", "reconciliation"):
        return pl.DataFrame({"note": ["no reconciliation recorded yet"]})
    return differences(ctx.store, "month", limit=12)
