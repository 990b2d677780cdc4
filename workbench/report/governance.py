"""The governance review pack: data quality and incidents, service levels and error
budgets, identity-resolution health, review backlog, audit trail, dictionary."""

from __future__ import annotations

import hashlib

import plotly.graph_objects as go
import polars as pl

from workbench.quality import diff
from workbench.quality.gates import breaches
from workbench.quality.history import run_ids
from workbench.report.context import ReportContext
from workbench.report.display import layout


def incidents(ctx: ReportContext) -> pl.DataFrame:
    """Open data-quality incidents: breached blocking limits and regressions of the last run."""
    runs = run_ids(ctx.store)
    if not runs:
        return pl.DataFrame({"incident": ["no validation run yet"]})
    rows = [
        {"kind": "blocking limit breached", "where": b.describe(), "run": runs[-1]}
        for b in breaches(ctx.project, ctx.store, runs[-1])
    ]
    rows += [
        {
            "kind": "regression",
            "where": f"{c.object}/{c.source}{'.' + c.field if c.field else ''}"
            f": {c.metric} {c.before} -> {c.after}",
            "run": runs[-1],
        }
        for c in (diff(ctx.store) if len(runs) > 1 else [])
        if c.regression
    ]
    return pl.DataFrame(rows, schema={"kind": pl.String, "where": pl.String, "run": pl.Int64})


def slo(ctx: ReportContext) -> pl.DataFrame:
    """Per month: sync success and latency against their service levels, error budget used."""
    g = ctx.project.config.governance
    if not ctx.store.table_exists("core", "sync_events"):
        return pl.DataFrame({"note": ["no sync events loaded"]})
    return ctx.store.frame(
        """SELECT strftime(date_trunc('month', occurred_at), '%Y-%m') AS month,
                  count(*) AS events,
                  count_if(status = 'success') / count(*) AS success_share,
                  count_if(status = 'failed') / ((1 - $slo) * count(*)) AS failure_budget_used,
                  quantile_cont(latency_ms, $share) FILTER (status = 'success') AS latency_at_slo,
                  count_if(status = 'success' AND latency_ms > $ms)
                    / nullif((1 - $share) * count_if(status = 'success'), 0)
                    AS latency_budget_used
           FROM core.sync_events WHERE occurred_at < $end GROUP BY ALL ORDER BY month""",
        {
            "slo": g.sync_success_slo,
            "share": g.latency_slo_share,
            "ms": g.latency_slo_ms,
            "end": ctx.end,
        },
    )


def budget_chart(ctx: ReportContext) -> go.Figure:
    """Error budget used per month (100% = the whole budget of the month spent)."""
    frame = slo(ctx)
    fig = go.Figure()
    if "month" in frame.columns:
        fig.add_bar(x=frame["month"], y=frame["failure_budget_used"] * 100, name="sync failures")
        fig.add_bar(x=frame["month"], y=frame["latency_budget_used"] * 100, name="latency")
        fig.add_hline(y=100, line_dash="dash", line_color="#c23b3b", annotation_text="budget")
    return layout(fig, "Error budget used per month", "month", "budget used (%)", barmode="group")


def identity_health(ctx: ReportContext) -> pl.DataFrame:
    """Every resolution run: records, entities, duplicate rate, pairs, time taken."""
    if not ctx.store.table_exists("id", "runs"):
        return pl.DataFrame({"note": ["identities not resolved yet"]})
    return ctx.store.frame(
        """SELECT run_id, object, started_at, records, entities,
                  (records - entities) / records AS duplicate_rate, pairs_scored, threshold,
                  epoch(ended_at - started_at) AS seconds
           FROM id.runs ORDER BY run_id DESC LIMIT 10"""
    )


def review_backlog(ctx: ReportContext) -> pl.DataFrame:
    """Uncertain pairs waiting for a person, and decisions taken, per object."""
    if not ctx.store.table_exists("id", "review_queue"):
        return pl.DataFrame({"note": ["no review queue yet"]})
    return ctx.store.frame(
        """SELECT q.object, count(*) AS queued, count(d.unique_id_l) AS decided,
                  count(*) - count(d.unique_id_l) AS waiting
           FROM id.review_queue q LEFT JOIN id.review_decisions d
             ON d.object = q.object AND d.unique_id_l = q.unique_id_l
            AND d.unique_id_r = q.unique_id_r
           GROUP BY q.object ORDER BY q.object"""
    )


def audit_summary(ctx: ReportContext) -> pl.DataFrame:
    """What changed or showed the warehouse's data: the audit trail per action (older
    warehouses without one: loads by status, validation and resolution runs)."""
    if ctx.store.table_exists("meta", "audit"):
        return ctx.store.frame(
            "SELECT action, count(*) AS times, max(recorded_at) AS last FROM meta.audit "
            "GROUP BY action ORDER BY last DESC"
        )
    parts = [
        "SELECT 'load ' || status AS action, count(*) AS times, max(ended_at) AS last "
        "FROM meta.loads GROUP BY status"
    ]
    if ctx.store.table_exists("dq", "metrics"):
        parts.append("SELECT 'validation run', count(DISTINCT run_id), NULL FROM dq.metrics")
    if ctx.store.table_exists("id", "runs"):
        parts.append("SELECT 'resolution run', count(*), max(ended_at) FROM id.runs")
    if ctx.store.table_exists("id", "review_decisions"):
        parts.append("SELECT 'review decision', count(*), NULL FROM id.review_decisions")
    return ctx.store.frame(" UNION ALL ".join(parts))


def dictionary_summary(ctx: ReportContext) -> pl.DataFrame:
    """The data dictionary in use: fields, required and PII fields per object, and its hash
    (a changed hash between two packs means the dictionary changed)."""
    d = ctx.project.dictionary
    digest = hashlib.sha256(repr(d.model_dump()).encode()).hexdigest()[:12]
    return pl.DataFrame(
        [
            {
                "object": name,
                "fields": len(spec.fields),
                "required": sum(f.required for f in spec.fields.values()),
                "pii": sum(f.pii != "none" for f in spec.fields.values()),
                "dictionary_hash": digest,
            }
            for name, spec in d.objects.items()
        ]
    )
