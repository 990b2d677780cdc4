"""The governance review's integration section: the inventory of connected systems and the
event SLA table, each measured over the report's period (:mod:`workbench.quality.integration`).

A breached event SLA is an incident of the period (:func:`sla_incidents`, listed by
:func:`workbench.report.governance.incidents`).
"""

from __future__ import annotations

from datetime import datetime

import plotly.graph_objects as go
import polars as pl

from workbench.formatting import percent_text, time_text
from workbench.quality import integration
from workbench.report.context import ReportContext
from workbench.report.display import NoData, layout

NOT_LISTED = "(not in the inventory)"


def _inventory(ctx: ReportContext) -> pl.DataFrame:
    return ctx.cached(
        "inventory", lambda: integration.inventory(ctx.project, ctx.store, ctx.start, ctx.end)
    )


def _slas(ctx: ReportContext) -> pl.DataFrame:
    return ctx.cached(
        "event slas", lambda: integration.event_slas(ctx.project, ctx.store, ctx.start, ctx.end)
    )


def inventory_table(ctx: ReportContext) -> pl.DataFrame | NoData:
    """Each system: owner, API, contact, sources, last load, freshness, the period's syncs
    touching it; a system with sources but missing from the inventory says so."""
    frame = _inventory(ctx)
    if frame.height == 0:
        return NoData("No system is configured: add sources (and `integration.systems`).")
    return frame.select(
        "system",
        pl.when(pl.col("in_inventory")).then(pl.col("owner")).otherwise(pl.lit(NOT_LISTED))
        .alias("owner"),
        pl.col("primary_api").alias("primary API"),
        "contact",
        "sources",
        pl.col("last_load").map_elements(_when, return_dtype=pl.String).alias("last load"),
        pl.col("freshness_hours").round(1).alias("freshness (hours)"),
        pl.col("syncs").alias(f"syncs in {ctx.period}"),
        pl.col("failure_rate").map_elements(percent_text, return_dtype=pl.String)
        .alias("failed"),
        pl.col("latency_ms").round(0).alias("latency at the SLO share (ms)"),
    )  # fmt: skip


def _when(value: datetime | None) -> str:
    return time_text(value) if value is not None else ""


def sla_table(ctx: ReportContext) -> pl.DataFrame | NoData:
    """Each event SLA: the period's syncs, failure rate, latency and age against their
    limits, and whether it held."""
    frame = _slas(ctx)
    if frame.height == 0:
        return _why_no_slas(ctx)
    return frame.select(
        "event",
        "syncs",
        _against("failure_rate", "max_failure_rate", percent_text).alias("failed (limit)"),
        pl.format(
            "{} at {} ({})",
            pl.col("latency_ms").map_elements(_ms, pl.String).fill_null("-"),
            pl.col("latency_share").map_elements(lambda v: percent_text(v, 0), pl.String),
            pl.col("max_latency_ms").map_elements(_ms, pl.String),
        ).alias("latency (limit)"),
        _against("age_hours", "max_age_hours", lambda v: f"{v:,.1f} h").alias(
            "since newest (limit)"
        ),
        pl.when(pl.col("breached") != "")
        .then(pl.format("breached: {}", pl.col("breached")))
        .otherwise(pl.col("status"))
        .alias("status"),
    )


def _ms(value: float) -> str:
    """Milliseconds to the whole, with thousands separators: ``2,324 ms``."""
    return f"{value:,.0f} ms"


def _against(value: str, limit: str, text: object) -> pl.Expr:
    """``<value> (<limit>)`` as text, the limit left out when there is none."""
    shown = pl.col(value).map_elements(text, return_dtype=pl.String)  # type: ignore[arg-type]
    bound = pl.col(limit).map_elements(text, return_dtype=pl.String)  # type: ignore[arg-type]
    return (
        pl.when(pl.col(limit).is_null())
        .then(shown)
        .otherwise(pl.format("{} ({})", shown.fill_null("-"), bound))
    )


def _why_no_slas(ctx: ReportContext) -> NoData:
    if not ctx.project.config.integration.event_slas:
        return NoData(
            "No event SLA is configured: add `integration.event_slas` to workbench.yaml "
            "(event, from, to, max_latency_ms, max_failure_rate, max_age_hours)."
        )
    log = ctx.project.pack.event_log
    if log is None or log.event is None:
        return NoData("The project's pack declares no event log with an event field.")
    missing = integration.missing_fields(ctx.project, ctx.store)
    if missing:
        return NoData(
            f"The {log.noun} are loaded without the fields {', '.join(missing)}: map them in "
            f"the sources of {log.object} to measure event SLAs."
        )
    return NoData(
        f"No {log.noun} are loaded: event SLAs are measured on the integration's own log "
        f"(a source of object {log.object})."
    )


def sla_chart(ctx: ReportContext) -> go.Figure | NoData:
    """Share of each SLA limit used in the period (above 100%: breached)."""
    frame = _slas(ctx).filter(pl.col("syncs") > 0)
    if frame.height == 0:
        return (
            _why_no_slas(ctx)
            if _slas(ctx).height == 0
            else NoData(f"No syncs of a configured event in {ctx.period}.")
        )
    fig = go.Figure()
    for value, limit, name in (
        ("latency_ms", "max_latency_ms", "latency"),
        ("failure_rate", "max_failure_rate", "failure rate"),
        ("age_hours", "max_age_hours", "time since newest"),
    ):
        used = frame.select("event", (pl.col(value) / pl.col(limit)).alias("used"))
        used = used.drop_nulls("used")
        if used.height:
            fig.add_bar(y=used["event"], x=used["used"], name=name, orientation="h")
    fig.add_vline(x=1, line_dash="dash", line_color="#c23b3b", annotation_text="limit")
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(automargin=True)  # route labels in full
    return layout(fig, f"Event SLAs in {ctx.period}: share of each limit used", "of the limit",
                  "event", barmode="group")  # fmt: skip


def sla_incidents(ctx: ReportContext) -> list[dict[str, object]]:
    """The event SLAs breached in the report's period, as incidents."""
    frame = _slas(ctx).filter(pl.col("status") == integration.BREACHED)
    return [
        {
            "kind": "event SLA breached",
            "where": f"{r['event']} in {ctx.period}: {r['breached']}",
            "run": None,
        }
        for r in frame.iter_rows(named=True)
    ]
