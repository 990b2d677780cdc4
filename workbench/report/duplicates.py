"""The duplicates report: how many records are the same customer, where, and how sure.

Functions with nothing to show return :class:`~workbench.report.display.NoData` with the
reason. Splink's own views (comparison viewer, cluster studio, the model's m/u parameters
and match weights, a pair's waterfall) come from :mod:`workbench.report.splink_views`,
scored on a small sample and masked, and are drawn by :mod:`workbench.report.model_charts`;
the dashboards are embedded in the report page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import polars as pl

from workbench.formatting import percent_text
from workbench.report import model_charts, splink_dashboards, splink_sample, splink_views
from workbench.report.context import ReportContext
from workbench.report.display import NoData, layout, show, unit_axis
from workbench.report.splink_views import SplinkViews
from workbench.resolve.evaluate import Evaluation
from workbench.store import quote_ident, table

THRESHOLDS = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999]
# entities per number of records, read as buckets above 5 (lower bound, label)
SIZE_BUCKETS = [
    (1, "1"),
    (2, "2"),
    (3, "3"),
    (4, "4"),
    (5, "5"),
    (6, "6-10"),
    (11, "11-20"),
    (21, "21-50"),
    (51, "51-100"),
    (101, "over 100"),
]
EXAMPLES = 8  # entities in the table of example clusters


def _unresolved(ctx: ReportContext) -> NoData:
    if ctx.project.pack.person_object is None and not ctx.store.has_rows("id", "runs"):
        return NoData(
            "Nothing has been resolved: the project's pack names no object of people "
            "(`workbench resolve --object OBJECT` resolves one)."
        )
    return NoData(f"No {ctx.resolved_object} records have been resolved yet.")


def _evaluation(ctx: ReportContext) -> Evaluation:
    return Evaluation.of_store(ctx.store, ctx.resolved_object)


def rates(ctx: ReportContext) -> pl.DataFrame:
    """Records, entities and duplicate rate per source and overall."""
    return ctx.cached("rates", lambda: _evaluation(ctx).duplicate_rates())


def rates_table(ctx: ReportContext) -> pl.DataFrame | NoData:
    """The duplicate rates as a table, rates as percentages."""
    frame = rates(ctx)
    if not frame.height or not frame["records"].max():
        return _unresolved(ctx)
    return frame.select(
        "source",
        "records",
        "entities",
        pl.col("duplicate_rate")
        .map_elements(percent_text, return_dtype=pl.String)
        .alias("duplicate rate"),
    )


def rates_chart(ctx: ReportContext) -> go.Figure | NoData:
    """Duplicate rate per source: (records - entities) / records."""
    frame = rates(ctx)
    if not frame.height:
        return _unresolved(ctx)
    fig = go.Figure(
        go.Bar(
            x=frame["source"],
            y=frame["duplicate_rate"],
            text=[percent_text(v) for v in frame["duplicate_rate"]],
            textposition="auto",
        )
    )
    unit_axis(fig, "share", "")
    return layout(fig, "Duplicate rate by source", "source", "duplicate rate")


def coverage_table(ctx: ReportContext, anchor: str | None = None) -> pl.DataFrame | NoData:
    """Share of each other system's records linked to a record of the anchor system
    (default: the pack's ``anchor_system``)."""
    anchor = anchor or ctx.project.pack.anchor_system
    if anchor is None:
        return NoData("The project's pack names no system for the others to link to.")
    sources = {
        n: s for n, s in ctx.project.config.sources.items() if s.object == ctx.resolved_object
    }
    anchors = [n for n, s in sources.items() if s.system == anchor]
    if not anchors:
        return NoData(
            f"No {ctx.resolved_object} source is of system {anchor}: there is nothing to link to."
        )
    if len(anchors) == len(sources):
        return NoData(
            f"Every {ctx.resolved_object} source is of system {anchor}: no other system to cover."
        )
    frame = _evaluation(ctx).coverage(anchors)
    if not frame.height:
        return NoData(
            f"No {ctx.resolved_object} records outside system {anchor} have been resolved yet."
        )
    return frame.select(
        "source",
        "records",
        pl.col("linked_share")
        .map_elements(percent_text, return_dtype=pl.String)
        .alias(f"linked to {anchor}"),
    )


def entities(ctx: ReportContext) -> pl.DataFrame:
    """One pass over the memberships for three sections (columns part, size, n, entity_id):
    how many entities have each number of records (``sizes``, n), the largest entities
    spanning several systems (``examples``) and cluster studio's candidates (``studio``, n:
    the place within the size; see :data:`~workbench.report.splink_sample.CANDIDATES_SQL`)."""
    sql = f"""WITH sized AS MATERIALIZED ({splink_sample.SIZED_SQL})
        SELECT 'sizes' AS part, size, count(*) AS n, NULL AS entity_id FROM sized GROUP BY size
        UNION ALL
        SELECT 'studio', size, k, entity_id
        FROM ({splink_sample.CANDIDATES_SQL.format(sized="sized")})
        UNION ALL
        SELECT 'examples', size, NULL, entity_id FROM (
            SELECT size, entity_id FROM sized WHERE systems
            ORDER BY size DESC, entity_id LIMIT $examples)"""
    params = {"o": ctx.resolved_object, "examples": EXAMPLES, **splink_sample.CANDIDATES_PARAMS}
    return ctx.cached("entities", lambda: ctx.store.frame(sql, params))


def size_buckets(sizes: pl.DataFrame) -> pl.DataFrame:
    """Entities and records per bucket of entity size (``sizes``: records, entities)."""
    bounds = [b for b, _ in SIZE_BUCKETS]
    labels = [label for _, label in SIZE_BUCKETS]
    at = [max(i for i, b in enumerate(bounds) if b <= n) for n in sizes["records"]]
    frame = sizes.with_columns(pl.Series("bucket", at, dtype=pl.Int64))
    grouped = (
        frame.group_by("bucket")
        .agg(
            pl.col("entities").sum(),
            (pl.col("records") * pl.col("entities")).sum().alias("in_records"),
        )
        .sort("bucket")
    )
    return grouped.with_columns(
        pl.col("bucket").map_elements(lambda i: labels[i], return_dtype=pl.String).alias("size")
    )


def cluster_sizes(ctx: ReportContext) -> go.Figure | NoData:
    """How many entities have 1, 2, 3, ... records (larger sizes bucketed), log scale."""
    sizes = (
        entities(ctx)
        .filter(pl.col("part") == "sizes")
        .select(pl.col("size").alias("records"), pl.col("n").alias("entities"))
        .sort("records")
    )
    if not sizes.height:
        return _unresolved(ctx)
    buckets = size_buckets(sizes)
    fig = go.Figure(
        go.Bar(
            x=buckets["size"],
            y=buckets["entities"],
            text=[f"{n:,}" for n in buckets["entities"]],
            textposition="outside",
            cliponaxis=False,
            customdata=buckets["in_records"],
            hovertemplate="%{y:,} entities of %{x} records (%{customdata:,} records)"
            "<extra></extra>",
        )
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="log", dtick=1, tickformat=",d")
    return layout(
        fig, "Entities by number of records", "records per entity", "entities (log scale)"
    )


def example_clusters(ctx: ReportContext) -> pl.DataFrame | NoData:
    """Records of the EXAMPLES largest multi-system entities (their matching fields),
    personal data masked by default."""
    top = entities(ctx).filter(pl.col("part") == "examples")
    if not top.height:
        return NoData(f"No entity holds {ctx.resolved_object} records of more than one source.")
    obj = ctx.resolved_object
    core = set(ctx.store.columns("core", obj))
    fields = [
        quote_ident(name)
        for name, spec in ctx.project.dictionary.object(obj).fields.items()
        if spec.identity and name in core and name != "record_id"
    ]
    rows = ctx.store.frame(
        f"""SELECT m.entity_id, c._source AS source, c.record_id,
                  {"".join(f"c.{f}, " for f in fields)}
           FROM id.members m JOIN {table("core", obj)} c
             ON c._source = m.source AND c.record_id = m.record_id
           WHERE m.object = $o AND list_contains($ids, m.entity_id)
           ORDER BY m.entity_id, c._source, c.record_id""",
        {"o": obj, "ids": top["entity_id"].to_list()},
    )
    return ctx.shown(rows, ctx.resolved_object)


def _pairs_scored(ctx: ReportContext) -> int:
    return int(
        ctx.store.scalar(
            "SELECT count(*) FROM id.pairs WHERE object = $o", {"o": ctx.resolved_object}
        )
        or 0
    )


def threshold_chart(ctx: ReportContext) -> go.Figure | NoData:
    """Duplicate rate and entity count if the match threshold were elsewhere."""
    if not _pairs_scored(ctx):
        return NoData("No candidate pairs were scored: the threshold changes nothing.")
    grid = _evaluation(ctx).threshold_sensitivity(THRESHOLDS)
    fig = go.Figure(
        go.Scatter(
            x=grid["threshold"],
            y=grid["duplicate_rate"],
            mode="lines+markers",
            name="duplicate rate",
            customdata=grid["entities"],
            hovertemplate="threshold %{x}: duplicate rate %{y:.1%}, %{customdata:,} entities"
            "<extra></extra>",
        )
    )
    fig.add_vline(
        x=ctx.project.config.resolve.threshold,
        line_dash="dash",
        annotation_text="configured threshold",
    )
    unit_axis(fig, "share", "")
    return layout(fig, "Threshold sensitivity", "match probability threshold", "duplicate rate")


def match_weights_histogram(ctx: ReportContext) -> go.Figure | NoData:
    """Distribution of the match weights of every scored pair, split at the threshold."""
    frame = ctx.store.frame(
        "SELECT round(match_weight * 2) / 2 AS weight, match_probability >= $t AS linked, "
        "count(*) AS pairs FROM id.pairs WHERE object = $o GROUP BY ALL ORDER BY weight",
        {"o": ctx.resolved_object, "t": ctx.project.config.resolve.threshold},
    )
    if not frame.height:
        return NoData("No candidate pairs were scored.")
    fig = go.Figure()
    for linked, name in ((True, "linked (at or above the threshold)"), (False, "not linked")):
        part = frame.filter(pl.col("linked") == linked)
        if part.height:
            fig.add_bar(x=part["weight"], y=part["pairs"], name=name)
    fig.update_layout(barmode="stack", bargap=0.05)
    return layout(
        fig, "Match weights of the scored candidate pairs", "match weight (bits)", "pairs"
    )


def accuracy(ctx: ReportContext) -> pl.DataFrame | NoData:
    """Pairwise precision, recall and F1 against truth/<object>_truth.csv (the demo's
    truth/contacts_truth.csv), where it exists."""
    path = Path(ctx.project.root) / "truth" / f"{ctx.resolved_object}_truth.csv"
    if not path.exists():
        return NoData("No truth labels in this project: accuracy cannot be measured.")
    s = _evaluation(ctx).pairwise_scores(path)
    return pl.DataFrame(
        {
            "records": [s.records],
            "precision": [percent_text(s.precision)],
            "recall": [percent_text(s.recall)],
            "F1": [percent_text(s.f1)],
        }
    )


# -- Splink's views --------------------------------------------------------------------------

_VIEWS: dict[int, tuple[ReportContext, SplinkViews | None]] = {}


def views(ctx: ReportContext) -> SplinkViews | None:
    """Splink's views of the latest resolution, built once per report run (None: none)."""
    held = _VIEWS.get(id(ctx))
    if held is None or held[0] is not ctx:
        _VIEWS.clear()
        candidates = None  # cluster studio's, read with the other sections' (if resolved)
        if ctx.store.has_rows("id", "runs"):
            studio = entities(ctx).filter(pl.col("part") == "studio")
            candidates = studio.select("entity_id", "size", pl.col("n").alias("k"))
        built = splink_views.build(
            ctx.project, ctx.store, ctx.resolved_object, masked=ctx.masked, candidates=candidates
        )
        held = _VIEWS[id(ctx)] = (ctx, built)
    return held[1]


def _no_model(ctx: ReportContext) -> NoData:
    return NoData(
        f"No {ctx.resolved_object} resolution has run yet: Splink's views need its trained model."
    )


def sample_note(ctx: ReportContext) -> str | NoData:
    """What Splink's views below are drawn from, in a few sentences."""
    found = views(ctx)
    if found is None:
        return _no_model(ctx)
    s = found.sample
    sizes = s.members.group_by("cluster_id").len()["len"].to_list()
    spread = "all of them" if s.viewer_pairs >= s.pairs_total else "spread over the match weights"
    text = (
        f"Splink's own views of the model, and of a sample scored again with it: "
        f"{s.viewer_pairs:,} of the {s.pairs_total:,} scored pairs ({spread})"
    )
    if sizes:
        low, high = min(sizes), max(sizes)
        shown = f"{low}" if low == high else f"{low} to {high}"
        text += f" and {len(sizes)} entities of {shown} records with the pairs between them"
    text += f"; built in {found.seconds:.1f} s. "
    text += (
        "Personal data is masked in them."
        if found.masked
        else "Personal data is NOT masked in them."
    )
    if not found.exact:
        text += (
            f" With {s.records:,} records, counting how common each value is would take a "
            "pass over every record, so the pairs are scored without term-frequency "
            f"adjustments: their weights differ from the stored ones by up to "
            f"{found.tf_gap:.1f} bits (`workbench explain LEFT RIGHT` shows a pair exactly)."
        )
    return text


def match_weights_chart(ctx: ReportContext) -> go.Figure | NoData:
    """Splink's match weights chart: the prior and the weight (log2 of the Bayes factor) of
    every level of every comparison of the model."""
    found = views(ctx)
    return _no_model(ctx) if found is None else model_charts.match_weights_figure(found)


def m_u_chart(ctx: ReportContext) -> go.Figure | NoData:
    """Splink's m and u parameters chart: per level of each comparison, the share of true
    matches (m) and of non-matches (u) that fall in it."""
    found = views(ctx)
    return _no_model(ctx) if found is None else model_charts.m_u_figure(found)


def waterfall(ctx: ReportContext) -> go.Figure | NoData:
    """Match-weight waterfall of the most uncertain scored pair, each bar labelled with the
    comparison level the pair fell in."""
    found = views(ctx)
    if found is None:
        return _no_model(ctx)
    if found.waterfall is None:
        return NoData("No candidate pairs were scored: there is no pair to explain.")
    return model_charts.waterfall_figure(found.waterfall)


@dataclass(frozen=True)
class Dashboard:
    """One of Splink's dashboards, shown in the report in a frame of its own."""

    title: str
    page: str  # the offline HTML page
    height: int


def comparison_viewer(ctx: ReportContext) -> Dashboard | NoData:
    """Splink's comparison viewer of the sampled pairs: each comparison vector, how often it
    occurs in the sample and example pairs with their waterfall."""
    found = views(ctx)
    if found is None:
        return _no_model(ctx)
    if found.comparison_viewer is None:
        return NoData("No candidate pairs were scored: the comparison viewer has nothing to show.")
    return Dashboard("Splink comparison viewer", found.comparison_viewer, 1500)


def cluster_studio(ctx: ReportContext) -> Dashboard | NoData:
    """Splink's cluster studio of the sampled entities: their records and scored pairs as a
    graph, with each pair's waterfall."""
    found = views(ctx)
    if found is None:
        return _no_model(ctx)
    if found.cluster_studio is None:
        return NoData(
            f"No entity of 2 to {splink_sample.MAX_CLUSTER_RECORDS} records with a scored pair: "
            "cluster studio has nothing to show."
        )
    return Dashboard("Splink cluster studio", found.cluster_studio, 1300)


def show_dashboard(item: Dashboard | NoData | Any) -> None:
    """Display a dashboard in a frame of the report page (``srcdoc``: the page stays one
    file that opens offline), or the reason there is none."""
    if not isinstance(item, Dashboard):
        show(item)
        return
    from IPython.display import display

    display({"text/html": splink_dashboards.embedded(item.page, item.title, item.height)}, raw=True)
