"""The data-quality report: the latest run per source, trends across runs, rows set aside
(by ingest or validation) and why, every check with its result and history (the validation
pages, :mod:`workbench.report.validation_pages`), reconciliation of the pack's two ledgers
(the CRM pack: CRM deals against billing).

Functions with nothing to show return :class:`~workbench.report.display.NoData` with the
reason; shares read as percentages, time stamps to the minute, money with its currency.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from workbench.formatting import money_text, number_text, percent_text, time_text
from workbench.quality import latest_summary, run_ids
from workbench.quality.reconcile import totals
from workbench.report.context import ReportContext
from workbench.report.display import NoData, layout
from workbench.report.validation_pages import (
    check_results,
    show_validation_pages,
    validation_pages,
)
from workbench.validate import quarantine

__all__ = [
    "check_results",
    "ingest_rejects",
    "quarantine_chart",
    "reasons",
    "reasons_chart",
    "reconciliation",
    "show_validation_pages",
    "summary",
    "summary_table",
    "trend_chart",
    "validation_pages",
]

COUNTS = ("rows_read", "rows_rejected", "rows_suppressed", "rows_valid", "rows_quarantined")
SHARE_TICKS = ".2~%"  # small shares stay readable: 0.13%, 2%, 50%
OUTCOME_COLORS = {
    quarantine.QUARANTINED: "#c23b3b",
    quarantine.SET_ASIDE: "#e07b00",
    quarantine.REJECTED: "#5f6b7a",
}
LABEL_CHARS = 70  # of a reason's label on the chart
LARGEST = ("largest", "2nd largest", "3rd largest")  # reconciliation: differences ranked


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


def summary_table(ctx: ReportContext) -> pl.DataFrame:
    """:func:`summary` as the report shows it: counts as whole numbers, shares as
    percentages, freshness in hours."""
    frame = summary(ctx)
    shown = {
        "rows_read": "rows read",
        "rows_rejected": "rejected (ingest)",
        "rows_suppressed": "suppressed (erased)",
        "rows_valid": "valid",
        "rows_quarantined": "quarantined",
        "quarantine_rate": "quarantined (%)",
        "completeness_avg": "completeness (avg)",
        "freshness_hours": "freshness (hours)",
    }
    counts = [c for c in COUNTS if c in frame.columns]
    return frame.with_columns(
        *(pl.col(c).cast(pl.Int64) for c in counts),
        *(
            pl.col(c).map_elements(lambda v: percent_text(v, 2), return_dtype=pl.String)
            for c in ("quarantine_rate", "completeness_avg")
            if c in frame.columns
        ),
        *(
            pl.col(c).map_elements(lambda v: number_text(v, 3), return_dtype=pl.String)
            for c in ("freshness_hours",)
            if c in frame.columns
        ),
    ).rename({k: v for k, v in shown.items() if k in frame.columns})


def quarantine_chart(ctx: ReportContext) -> go.Figure | NoData:
    """Share of each source's rows set aside in the latest run: rows ingest could not read
    and rows validation quarantined, stacked."""
    frame = latest_summary(ctx.store)
    read = pl.col("rows_read")
    has_rejects = "rows_rejected" in frame.columns
    rejected = pl.col("rows_rejected").fill_null(0) if has_rejects else pl.lit(0)
    shares = frame.select(
        "source",
        (rejected / read).alias("rejected"),
        (pl.col("rows_quarantined") / read).alias("quarantined"),
    )
    if not shares.select((pl.col("rejected") + pl.col("quarantined")).sum()).item():
        return NoData(
            "No row was set aside in the latest run: ingest read every row and validation "
            "quarantined none."
        )
    fig = go.Figure()
    for column, name, outcome in (
        ("rejected", "could not be read (ingest)", quarantine.REJECTED),
        ("quarantined", "quarantined (validation)", quarantine.QUARANTINED),
    ):
        if shares[column].sum():
            fig.add_bar(
                x=shares["source"],
                y=shares[column],
                name=name,
                marker_color=OUTCOME_COLORS[outcome],
                hovertemplate=f"%{{x}}: %{{y:.2%}} {name}<extra></extra>",
            )
    fig.update_yaxes(tickformat=SHARE_TICKS, rangemode="tozero")
    title = "Rows set aside by source (latest run)"
    return layout(fig, title, "source", "share of rows read", barmode="stack")


def trend_chart(ctx: ReportContext) -> go.Figure | NoData:
    """Share of every source's rows set aside (rejected at ingest or quarantined) across
    validation runs; runs before the ledger's counts were recorded count quarantined rows
    of the rows staged."""
    if not run_ids(ctx.store):
        return NoData("No validation run has been recorded yet.")
    frame = ctx.store.frame(
        "SELECT m.run_id, m.source, (sum(m.value) FILTER (m.metric = 'rows_quarantined') + "
        "coalesce(sum(m.value) FILTER (m.metric = 'rows_rejected'), 0)) / nullif(coalesce("
        "sum(m.value) FILTER (m.metric = 'rows_read'), sum(m.value) FILTER "
        "(m.metric = 'rows_staged')), 0) AS rate, any_value(v.started_at) AS started_at "
        "FROM dq.metrics m LEFT JOIN meta.validation_runs v USING (run_id) "
        "WHERE m.field = '' GROUP BY ALL ORDER BY m.run_id, m.source"
    )
    frame = frame.filter(pl.col("rate").is_not_null())
    if frame.height == 0:
        return NoData("No validation run recorded how many rows each source had.")
    runs = frame["run_id"].unique(maintain_order=True).to_list()
    fig = go.Figure()
    for (source,), part in frame.group_by("source", maintain_order=True):
        started = [time_text(t) if t is not None else "" for t in part["started_at"]]
        fig.add_scatter(
            x=[f"run {r}" for r in part["run_id"]],
            y=part["rate"],
            customdata=started,
            mode="lines+markers",
            name=str(source),
            hovertemplate="%{x} (%{customdata}): %{y:.2%} set aside<extra>%{fullData.name}</extra>",
        )
    order = [f"run {r}" for r in runs]
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order)
    fig.update_yaxes(tickformat=SHARE_TICKS, rangemode="tozero")
    title = "Rows set aside across validation runs"
    return layout(fig, title, "validation run", "share of rows read set aside")


def reasons(ctx: ReportContext) -> pl.DataFrame | NoData:
    """Why rows were set aside: one row per failed check and source, most frequent first;
    rows ingest could not read count under the check 'readable row (ingest)'."""
    frame = _reasons(ctx)
    if frame.height == 0:
        return NoData("No row was set aside and no value failed a check.")
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


def reasons_chart(ctx: ReportContext) -> go.Figure | NoData:
    """The most frequent reasons rows were set aside: one labelled bar per source, column and
    check (``source · column: check``) with its number of rows, coloured by what happened
    (row quarantined, value set aside, row rejected by ingest)."""
    frame = _reasons(ctx).head(12)
    if frame.height == 0:
        return NoData("No row was set aside and no value failed a check.")
    frame = frame.with_columns(
        pl.format(
            "{} · {}",
            "source",
            pl.when(pl.col("column").is_not_null())
            .then(pl.format("{}: {}", "column", "check"))
            .otherwise(pl.col("check")),
        )
        .map_elements(_short, return_dtype=pl.String)
        .alias("label")
    )
    fig = go.Figure()
    for (outcome,), part in frame.group_by("outcome", maintain_order=True):
        fig.add_bar(
            y=part["label"],
            x=part["rows"],
            orientation="h",
            name=str(outcome),
            marker_color=OUTCOME_COLORS.get(str(outcome)),
            text=[f"{n:,}" for n in part["rows"]],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:,} rows<extra>%{fullData.name}</extra>",
        )
    fig.update_yaxes(
        automargin=True,
        categoryorder="array",
        categoryarray=frame["label"].to_list(),
        autorange="reversed",
    )
    few = int(frame.select(pl.col("rows").max()).item() or 0) <= 10
    fig.update_xaxes(tickformat=",d", rangemode="tozero", dtick=1 if few else None)
    fig.update_layout(height=max(320, 60 + 28 * frame.height), barmode="stack")
    return layout(fig, "Top reasons rows were set aside", "rows", "source · column: check")


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 3] + "..."


def ingest_rejects(ctx: ReportContext) -> pl.DataFrame | NoData:
    """Rows ingest could not read, per source and file of the current loads: how many, of
    which kinds, and the first lines (no raw text: it may hold personal data)."""
    rejects = quarantine.ingest_rejects(ctx.store)
    if rejects.height == 0:
        return NoData("Ingest read every row of the current loads.")
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


def reconciliation(ctx: ReportContext) -> pl.DataFrame | NoData:
    """Every month of the pack's two ledgers (CRM won deals and billing invoices) in month
    order, those that agree too; the column ``largest difference`` ranks the three months
    that differ most (by money, then by count). Amounts with the base currency's code."""
    spec = ctx.project.pack.reconciliation
    if spec is None:
        return NoData("The project's pack declares no two ledgers to reconcile.")
    left, right = spec.left.label, spec.right.label
    if not ctx.store.has_rows("dq", "reconciliation"):
        return NoData(
            f"Nothing has been reconciled yet: the project needs {left} ({spec.left.object}) "
            f"and {right} ({spec.right.object}), then `workbench validate`."
        )
    frame = totals(ctx.store, "month")
    differ = (pl.col("count_diff") != 0) | (pl.col("amount_diff") != 0)
    if frame.filter(differ).height == 0:
        return NoData(
            f"{left} and {right} agree in every month (or the project has no "
            f"{spec.left.object} or {spec.right.object} to compare)."
        )
    largest = (
        frame.filter(differ)
        .sort(
            pl.col("amount_diff").abs(),
            pl.col("count_diff").abs(),
            "month",
            descending=[True, True, False],
        )
        .head(len(LARGEST))["month"]
        .to_list()
    )
    rank = dict(zip(largest, LARGEST, strict=False))
    frame = frame.with_columns(
        pl.col("month")
        .replace_strict(rank, default="", return_dtype=pl.String)
        .alias("largest difference")
    )
    currency = ctx.project.config.base_currency
    money = [c for c in ("crm_amount", "billing_amount", "amount_diff") if c in frame.columns]
    return frame.with_columns(
        pl.col(c).map_elements(
            lambda v: money_text(float(v), currency) if v is not None else "",
            return_dtype=pl.String,
        )
        for c in money
    ).rename(
        {
            "crm_count": left,
            "crm_amount": f"{left}: amount",
            "billing_count": right,
            "billing_amount": f"{right}: amount",
            "count_diff": "count difference",
            "amount_diff": "amount difference",
        },
        strict=False,
    )
