"""The governance review pack: data quality and incidents, service levels and error
budgets, identity-resolution health, review backlog, audit trail, schema changes of the
exports, the governance matrix and consent coverage (:mod:`.governance_matrix`),
dictionary (and the deprecated fields sources still map).

An incident is anything the meeting must act on in the report's period: a breached
blocking limit, a regression since the previous validation run, an error budget spent
beyond 100% in the period's months, or an event SLA breached in the period (the inventory
and SLA tables: :mod:`workbench.report.integration`).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import plotly.graph_objects as go
import polars as pl

from workbench.formatting import percent_text
from workbench.ingest import list_schema_changes
from workbench.quality import diff
from workbench.quality.gates import breaches
from workbench.quality.history import run_ids
from workbench.report import integration
from workbench.report.context import ReportContext
from workbench.report.display import NoData, layout
from workbench.report.governance_matrix import consent_coverage, consent_history, governance_matrix
from workbench.store import quote_ident, table


def incidents(ctx: ReportContext) -> pl.DataFrame | NoData:
    """Open incidents: breached blocking limits and regressions of the last validation run,
    error budgets spent beyond 100% and event SLAs breached in the report's period."""
    runs = run_ids(ctx.store)
    budgets = _budget_incidents(ctx) + integration.sla_incidents(ctx)
    if not runs and not budgets:
        return NoData("Nothing has been validated yet: run `workbench validate`.")
    rows = budgets + [
        {"kind": "blocking limit breached", "where": b.describe(), "run": runs[-1]}
        for b in (breaches(ctx.project, ctx.store, runs[-1]) if runs else [])
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
    if not rows:
        return NoData(
            f"No open incident: no blocking limit breached, nothing regressed since the "
            f"previous validation run, no error budget overspent and no event SLA breached "
            f"in {ctx.period}."
        )
    return pl.DataFrame(rows, schema={"kind": pl.String, "where": pl.String, "run": pl.Int64})


def _budget_incidents(ctx: ReportContext) -> list[dict[str, object]]:
    """Error budgets spent beyond 100% in the months of the report's period."""
    frame = _slo_frame(ctx)
    if frame is None:
        return []
    found: list[dict[str, object]] = []
    last = ctx.end - timedelta(microseconds=1)
    months = pl.lit(f"{ctx.start:%Y-%m}"), pl.lit(f"{last:%Y-%m}")
    inside = frame.filter(pl.col("month").is_between(*months))
    for r in inside.iter_rows(named=True):
        kind = _kind(ctx)
        for column, what in (
            ("failure_budget_used", f"{kind} failures"),
            ("latency_budget_used", f"{kind} latency"),
        ):
            used = r[column]
            if used is not None and used > 1:
                found.append(
                    {
                        "kind": "error budget overspent",
                        "where": f"{what} in {r['month']}: {percent_text(used, 0)} of the "
                        "month's budget used",
                        "run": None,
                    }
                )
    return found


def _kind(ctx: ReportContext) -> str:
    log = ctx.project.pack.event_log
    return log.kind if log else "event"


def _no_log(ctx: ReportContext) -> NoData:
    """Why there are no service levels: the pack has no event log, or it is not loaded."""
    log = ctx.project.pack.event_log
    if log is None:
        return NoData(
            "The project's pack declares no event log: service levels and error budgets "
            "are measured on the integration's own log of sync attempts."
        )
    return NoData(
        f"No {log.noun} are loaded: service levels and error budgets are measured on the "
        f"integration's own log (a source of object {log.object} with the fields "
        f"{', '.join(log.fields())})."
    )


def service_levels(ctx: ReportContext) -> list[go.Figure | pl.DataFrame | NoData]:
    """The error-budget chart and the service-level table, or why there are none."""
    if _slo_frame(ctx) is None:
        return [_no_log(ctx)]
    return [budget_chart(ctx), slo(ctx)]


def slo(ctx: ReportContext) -> pl.DataFrame | NoData:
    """Per month: sync success and latency against their service levels, error budget used
    (shares as %)."""
    frame = _slo_frame(ctx)
    if frame is None or frame.height == 0:
        return _no_log(ctx)
    return frame.select(
        "month",
        "events",
        *(
            pl.col(c).map_elements(percent_text, return_dtype=pl.String).alias(c)
            for c in ("success_share", "failure_budget_used")
        ),
        pl.col("latency_at_slo").round(0),
        pl.col("latency_budget_used").map_elements(percent_text, return_dtype=pl.String),
    ).rename(
        {
            "success_share": "succeeded",
            "failure_budget_used": "failure budget used",
            "latency_at_slo": "latency at the SLO share (ms)",
            "latency_budget_used": "latency budget used",
        }
    )


def _slo_frame(ctx: ReportContext) -> pl.DataFrame | None:
    """The service-level figures per month up to the end of the period, from the pack's
    event log (None: no event log, or not loaded with the fields it needs)."""
    g = ctx.project.config.governance
    log = ctx.project.pack.event_log
    if log is None or not ctx.store.table_exists("core", log.object):
        return None
    if not set(log.fields()) <= set(ctx.store.columns("core", log.object)):
        return None
    time, status = quote_ident(log.time), quote_ident(log.status)
    ok = f"{status} = $success"
    if log.latency_ms is None:
        latency = "NULL::DOUBLE AS latency_at_slo, NULL::DOUBLE AS latency_budget_used"
    else:
        ms = quote_ident(log.latency_ms)
        # successful syncs without a latency (blank, or set aside by validation) are
        # neither within nor beyond the SLO: left out of the budget's count too
        timed = f"{ok} AND {ms} IS NOT NULL"
        latency = f"""quantile_cont({ms}, $share) FILTER ({ok}) AS latency_at_slo,
                  count_if({timed} AND {ms} > $ms)
                    / nullif((1 - $share) * count_if({timed}), 0) AS latency_budget_used"""
    return ctx.store.frame(
        f"""SELECT strftime(date_trunc('month', {time}), '%Y-%m') AS month,
                  count(*) AS events,
                  count_if({ok}) / count(*) AS success_share,
                  count_if({status} = $failed) / ((1 - $slo) * count(*)) AS failure_budget_used,
                  {latency}
           FROM {table("core", log.object)} WHERE {time} < $end GROUP BY ALL ORDER BY month""",
        {
            "slo": g.sync_success_slo,
            "share": g.latency_slo_share,
            "ms": g.latency_slo_ms,
            "end": ctx.end,
            "success": log.success,
            "failed": log.failed,
        },
    )


def budget_chart(ctx: ReportContext) -> go.Figure | NoData:
    """Error budget used per month (100% = the whole budget of the month spent)."""
    frame = _slo_frame(ctx)
    if frame is None or frame.height == 0:
        return _no_log(ctx)
    fig = go.Figure()
    kind = _kind(ctx)
    fig.add_bar(x=frame["month"], y=frame["failure_budget_used"], name=f"{kind} failures")
    fig.add_bar(x=frame["month"], y=frame["latency_budget_used"], name="latency")
    fig.add_hline(y=1, line_dash="dash", line_color="#c23b3b", annotation_text="budget")
    fig.update_yaxes(tickformat=".0%")
    return layout(fig, "Error budget used per month", "month", "budget used", barmode="group")


def identity_health(ctx: ReportContext) -> pl.DataFrame | NoData:
    """The last resolution runs: records, entities, duplicate rate, pairs, time taken."""
    if not ctx.store.has_rows("id", "runs"):
        return NoData("Identities have not been resolved yet: run `workbench resolve`.")
    frame = ctx.store.frame(
        """SELECT run_id, object, started_at, records, entities,
                  (records - entities) / records AS duplicate_rate, pairs_scored, threshold,
                  epoch(ended_at - started_at) AS seconds
           FROM id.runs ORDER BY run_id DESC LIMIT 10"""
    )
    return frame.with_columns(
        pl.col("duplicate_rate").map_elements(percent_text, return_dtype=pl.String),
        pl.col("seconds").round(1),
    ).rename({"run_id": "run", "started_at": "started", "duplicate_rate": "duplicate rate"})


def review_backlog(ctx: ReportContext) -> pl.DataFrame | NoData:
    """Uncertain pairs waiting for a person, and decisions taken, per object."""
    if not ctx.store.has_rows("id", "runs"):  # a resolution run fills the queue
        return NoData("No pair has waited for review yet (`workbench resolve` fills the queue).")
    frame = ctx.store.frame(
        """SELECT q.object, count(*) AS queued, count(d.unique_id_l) AS decided,
                  count(*) - count(d.unique_id_l) AS waiting
           FROM id.review_queue q LEFT JOIN id.review_decisions d
             ON d.object = q.object AND d.unique_id_l = q.unique_id_l
            AND d.unique_id_r = q.unique_id_r
           GROUP BY q.object ORDER BY q.object"""
    )
    if frame.height == 0:
        return NoData("No pair waits for review: the last resolution was sure of every pair.")
    return frame


def audit_summary(ctx: ReportContext) -> pl.DataFrame:
    """What changed or showed the warehouse's data: the audit trail per action (older
    warehouses without one: loads by status, validation and resolution runs)."""
    if ctx.store.has_rows("meta", "audit"):
        return ctx.store.frame(
            "SELECT action, count(*) AS times, max(recorded_at) AS last FROM meta.audit "
            "GROUP BY action ORDER BY last DESC"
        )
    parts = [
        "SELECT 'load ' || status AS action, count(*) AS times, max(ended_at) AS last "
        "FROM meta.loads GROUP BY status"
    ]
    if ctx.store.has_rows("dq", "metrics"):
        parts.append("SELECT 'validation run', count(DISTINCT run_id), NULL FROM dq.metrics")
    if ctx.store.has_rows("id", "runs"):
        parts.append("SELECT 'resolution run', count(*), max(ended_at) FROM id.runs")
    if ctx.store.has_rows("id", "runs"):  # decisions are taken on resolved records
        parts.append("SELECT 'review decision', count(*), NULL FROM id.review_decisions")
    return ctx.store.frame(" UNION ALL ".join(parts))


SCHEMA_CHANGES_SHOWN = 50


def schema_changes(ctx: ReportContext) -> pl.DataFrame | NoData:
    """The change log of the exports' columns (the newest changes first): columns added,
    removed, renamed or retyped between a source's loads (``workbench schema-changes``)."""
    logged = list_schema_changes(ctx.store)
    if not logged:
        return NoData(
            "No export changed its columns between loads: every source's files have kept "
            "their layout (names and types) since its first load."
        )
    rows = [
        {
            "source": r.source,
            "load": r.load_id,
            "previous load": r.previous_load_id,
            "change": r.change.kind,
            "column": r.change.column,
            "before": f"{r.change.old_name} ({r.change.old_type})" if r.change.old_name else "",
            "after": f"{r.change.new_name} ({r.change.new_type})" if r.change.new_name else "",
            "detected": f"{r.detected_at:%Y-%m-%d %H:%M}",
        }
        for r in logged[:SCHEMA_CHANGES_SHOWN]
    ]
    return pl.DataFrame(rows)


def deprecated_fields(ctx: ReportContext) -> pl.DataFrame | NoData:
    """Fields the dictionary marks deprecated that a source still maps, with the note."""
    fed = ctx.project.deprecated_mappings()
    if not fed:
        objects = ctx.project.dictionary.objects.values()
        marked = sum(f.deprecated for spec in objects for f in spec.fields.values())
        return NoData(
            f"No source maps a deprecated field ({marked} field(s) of the dictionary are "
            "marked deprecated)."
        )
    return pl.DataFrame(
        [
            {
                "object": m.object,
                "field": m.field,
                "source": m.source,
                "column": m.column or "(constant)",
                "note": m.note or "",
            }
            for m in fed
        ]
    )


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


def matrix(ctx: ReportContext) -> pl.DataFrame:
    """The governance matrix: per object its PII classes and fields, retention, owner, legal
    basis, consent fields and gaps (field names only, never values)."""
    return governance_matrix(ctx.project).rename(
        {
            "pii": "PII classes",
            "contact_fields": "contact PII",
            "sensitive_fields": "sensitive PII",
            "legal_basis": "legal basis",
            "consent_fields": "consent fields",
        }
    )


NO_CONSENT = (
    "No field of the data dictionary records consent: mark the field that holds a person's "
    "consent decision with `consent: true` to measure its coverage."
)


def consent(ctx: ReportContext) -> pl.DataFrame | NoData:
    """Consent coverage of the latest validation run per consent field and source: valid
    records, with a decision recorded, coverage and granted shares, change in coverage since
    the run before (percentage points); a source not mapping the field records none."""
    frame = consent_coverage(ctx.project, ctx.store)
    if frame.height == 0:
        return NoData(NO_CONSENT)
    change = (pl.col("coverage") - pl.col("previous_coverage")) * 100
    status = (
        pl.when(~pl.col("mapped"))
        .then(pl.lit("not recorded by this source"))
        .when(pl.col("run_id").is_null())
        .then(pl.lit("not measured yet: run `workbench validate`"))
        .otherwise(pl.lit(""))
    )
    return frame.select(
        "object",
        "source",
        "field",
        pl.col("valid").alias("valid records"),
        pl.col("recorded").alias("decision recorded"),
        pl.col("coverage").map_elements(percent_text, return_dtype=pl.String),
        pl.col("granted").map_elements(percent_text, return_dtype=pl.String),
        change.round(1).alias("coverage change (pp)"),
        status.alias("note"),
    )


def consent_chart(ctx: ReportContext) -> go.Figure | NoData:
    """Consent coverage per source (and consent field) across validation runs."""
    history = consent_history(ctx.store)
    if history.height == 0:
        has_field = any(s.consent_fields() for s in ctx.project.dictionary.objects.values())
        return NoData("No validation run has measured consent yet." if has_field else NO_CONSENT)
    fig = go.Figure()
    several = history.select("object", "field").n_unique() > 1
    for (obj, source, field), part in history.group_by(
        "object", "source", "field", maintain_order=True
    ):
        fig.add_scatter(
            x=[f"run {r}" for r in part["run_id"]],
            y=part["coverage"],
            mode="lines+markers",
            name=f"{source} ({obj}.{field})" if several else str(source),
            hovertemplate="%{x}: %{y:.1%} with a decision<extra>%{fullData.name}</extra>",
        )
    order = [f"run {r}" for r in history["run_id"].unique(maintain_order=True)]
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    return layout(fig, "Consent coverage across validation runs", "validation run", "coverage")
