"""The duplicates report: how many records are the same customer, where, and how sure."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from workbench.report.context import ReportContext
from workbench.report.display import layout
from workbench.resolve.evaluate import Evaluation
from workbench.resolve.explain import Explanation, explain

OBJECT = "contacts"


THRESHOLDS = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999]


def _evaluation(ctx: ReportContext) -> Evaluation:
    return Evaluation.of_store(ctx.store, OBJECT)


def rates(ctx: ReportContext) -> pl.DataFrame:
    """Records, entities and duplicate rate per source and overall."""
    return ctx.cached("rates", lambda: _evaluation(ctx).duplicate_rates())


def _records(ctx: ReportContext) -> int:
    return int(rates(ctx).filter(pl.col("source") == "all")["records"][0])


def rates_chart(ctx: ReportContext) -> go.Figure:
    """Duplicate rate per source: (records - entities) / records."""
    frame = rates(ctx)
    fig = go.Figure(
        go.Bar(
            x=frame["source"],
            y=frame["duplicate_rate"] * 100,
            text=[f"{v:.1%}" for v in frame["duplicate_rate"]],
        )
    )
    return layout(fig, "Duplicate rate by source", "source", "duplicate rate (%)")


def coverage_table(ctx: ReportContext, anchor: str = "crm") -> pl.DataFrame:
    """Share of each other system's records linked to a record of the anchor system."""
    sources = ctx.project.config.sources
    anchors = [n for n, s in sources.items() if s.object == OBJECT and s.system == anchor]
    return _evaluation(ctx).coverage(anchors)


def cluster_sizes(ctx: ReportContext) -> go.Figure:
    """How many entities have 1, 2, 3, ... records."""
    sizes = _evaluation(ctx).cluster_sizes()
    fig = go.Figure(go.Bar(x=sizes["records"].cast(pl.String), y=sizes["entities"]))
    fig.update_yaxes(type="log")
    return layout(fig, "Cluster size distribution", "records per entity", "entities (log scale)")


def example_clusters(ctx: ReportContext, n: int = 8) -> pl.DataFrame:
    """Records of the largest multi-system entities, personal data masked by default."""
    top = ctx.store.frame(
        """SELECT entity_id FROM id.members WHERE object = $o GROUP BY entity_id
           HAVING min(source) <> max(source) ORDER BY count(*) DESC, entity_id LIMIT $n""",
        {"o": OBJECT, "n": n},
    )
    rows = ctx.store.frame(
        """SELECT m.entity_id, c._source AS source, c.record_id, c.first_name, c.last_name,
                  c.email, c.phone, c.company_name, c.city
           FROM id.members m JOIN core.contacts c
             ON c._source = m.source AND c.record_id = m.record_id
           WHERE m.object = $o AND list_contains($ids, m.entity_id)
           ORDER BY m.entity_id, c._source, c.record_id""",
        {"o": OBJECT, "ids": top["entity_id"].to_list()},
    )
    return ctx.mask(rows, OBJECT)


def threshold_chart(ctx: ReportContext) -> go.Figure:
    """Duplicate rate and entity count if the match threshold were elsewhere."""
    grid = _evaluation(ctx).threshold_sensitivity(THRESHOLDS)
    fig = go.Figure(
        go.Scatter(
            x=grid["threshold"],
            y=grid["duplicate_rate"] * 100,
            mode="lines+markers",
            name="duplicate rate",
        )
    )
    fig.add_vline(
        x=ctx.project.config.resolve.threshold,
        line_dash="dash",
        annotation_text="configured threshold",
    )
    return layout(fig, "Threshold sensitivity", "match probability threshold", "duplicate rate (%)")


WATERFALL_MAX_RECORDS = 200_000  # above: scoring one pair costs seconds (term frequencies)


def match_weight_chart(ctx: ReportContext) -> go.Figure:
    """Distribution of the match weights of every scored pair, split at the threshold."""
    frame = ctx.store.frame(
        "SELECT round(match_weight * 2) / 2 AS weight, match_probability >= $t AS linked, "
        "count(*) AS pairs FROM id.pairs WHERE object = $o GROUP BY ALL ORDER BY weight",
        {"o": OBJECT, "t": ctx.project.config.resolve.threshold},
    )
    fig = go.Figure()
    for linked, name in ((True, "linked (at or above the threshold)"), (False, "not linked")):
        part = frame.filter(pl.col("linked") == linked)
        fig.add_bar(x=part["weight"], y=part["pairs"], name=name)
    fig.update_layout(barmode="stack", bargap=0.05)
    return layout(
        fig, "Match weights of the scored candidate pairs", "match weight (bits)", "pairs"
    )


def waterfall(ctx: ReportContext) -> go.Figure | str:
    """Match-weight waterfall of the most uncertain scored pair."""
    records = _records(ctx)
    if records > WATERFALL_MAX_RECORDS:
        return (
            f"With {records:,} records the waterfall of a pair is left to "
            "`workbench explain LEFT RIGHT` (it needs the term frequencies of every record)."
        )
    pair = ctx.store.rows(
        "SELECT unique_id_l, unique_id_r FROM id.pairs WHERE object = $o "
        "ORDER BY abs(match_probability - 0.5), unique_id_l LIMIT 1",
        {"o": OBJECT},
    )
    if not pair:
        return "No scored pairs yet."
    return waterfall_figure(explain(ctx.project, ctx.store, OBJECT, pair[0][0], pair[0][1]))


def waterfall_figure(exp: Explanation) -> go.Figure:
    """A pair's match-weight waterfall: prior, one bar per comparison, the total (record ids
    only, no personal data). The report and the review UI both draw it."""
    steps = exp.steps
    fig = go.Figure(
        go.Waterfall(
            orientation="h",
            measure=["relative"] * len(steps) + ["total"],
            y=[s.comparison for s in steps] + ["match weight"],
            x=[s.weight for s in steps] + [exp.match_weight],
            hovertext=[s.level for s in steps] + [f"probability {exp.match_probability:.4f}"],
            text=[f"{s.weight:+.2f}" for s in steps] + [f"{exp.match_weight:+.2f}"],
            textposition="auto",
        )
    )
    fig.update_layout(yaxis={"autorange": "reversed"}, height=160 + 40 * len(steps))
    return layout(
        fig,
        f"Why {exp.left} and {exp.right} score p = {exp.match_probability:.3f}",
        "match weight (bits)",
        "comparison",
    )


def accuracy(ctx: ReportContext) -> pl.DataFrame | str:
    """Pairwise precision, recall and F1 against truth/contacts_truth.csv, where it exists."""
    path = Path(ctx.project.root) / "truth" / "contacts_truth.csv"
    if not path.exists():
        return "No truth labels in this project: accuracy cannot be measured."
    s = _evaluation(ctx).pairwise_scores(path)
    return pl.DataFrame(
        {"records": [s.records], "precision": [s.precision], "recall": [s.recall], "f1": [s.f1]}
    )
