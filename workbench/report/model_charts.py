"""Charts of a Splink model, drawn with plotly: the match weights of its comparison levels,
their m and u parameters, and a pair's match-weight waterfall. The duplicates report draws
them all (:mod:`workbench.report.duplicates`), the review UI the waterfall.
"""

from __future__ import annotations

import itertools
import textwrap
from typing import Any

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from workbench.formatting import number_text
from workbench.report.display import COLORS, layout
from workbench.report.splink_views import SplinkViews
from workbench.resolve.explain import Explanation

PRIOR = "probability_two_random_records_match"
POSITIVE, NEGATIVE = COLORS[2], COLORS[3]
LABEL_WIDTH = 56  # characters per line of a level label on a chart axis


def _wrap(text: str, width: int = LABEL_WIDTH) -> str:
    """A label on several lines (plotly's ``<br>``) of at most ``width`` characters."""
    return "<br>".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def _lines(label: str) -> int:
    return max(1, len(textwrap.wrap(label, LABEL_WIDTH, break_on_hyphens=False)))


def _bar_px(labels: list[str]) -> int:
    """Pixels each bar of a panel needs (plotly gives every category of an axis the same
    height: that of the longest wrapped label)."""
    return 12 + 15 * max((_lines(label) for label in labels), default=1)


def _levels(found: SplinkViews) -> pl.DataFrame:
    """Splink's records of the model's non-null levels, in the model's order, with whether
    m and u were estimated (else Splink's defaults are used)."""
    estimated: dict[tuple[str, int], tuple[bool, bool]] = {}
    for comparison in found.model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for i, level in enumerate(levels):
            key = (comparison["output_column_name"], len(levels) - 1 - i)
            estimated[key] = ("m_probability" in level, "u_probability" in level)
    frame = found.parameters.filter(
        (pl.col("comparison_name") != PRIOR) & ~pl.col("is_null_level").fill_null(False)
    ).sort("comparison_sort_order", pl.col("comparison_vector_value"), descending=[False, True])
    flags = [
        estimated.get((c, int(v)), (True, True))
        for c, v in frame.select("comparison_name", "comparison_vector_value").iter_rows()
    ]
    return frame.with_columns(
        pl.Series("m_estimated", [m for m, _ in flags]),
        pl.Series("u_estimated", [u for _, u in flags]),
    )


def _panels(parts: list[list[str]], **kwargs: Any) -> tuple[go.Figure, int]:
    """Subplots stacked one per comparison, each as tall as its (wrapped) level labels;
    also the figure's height in pixels."""
    gap, extra = 56, 110  # between panels (title, x ticks); above and below
    rows = [len(labels) * _bar_px(labels) + 10 for labels in parts]
    height = sum(rows) + gap * (len(rows) - 1) + extra
    fig = make_subplots(
        rows=len(rows),
        row_heights=rows,
        vertical_spacing=gap / (height - extra),
        **kwargs,
    )
    fig.update_layout(height=height, uniformtext={"minsize": 10, "mode": "show"})
    return fig, height


def _share_text(value: float) -> str:
    """A probability as a percentage to three significant digits (0.0002%, never 2e-06)."""
    if 0 < value < 1e-5:
        return "under 0.001%"
    return f"{number_text(value * 100, 3)}%"


def _odds_text(bayes_factor: float) -> str:
    """A Bayes factor in words: ``1,503 times more likely a match``."""
    if bayes_factor >= 1:
        return f"{number_text(bayes_factor, 3)} times more likely a match"
    if bayes_factor <= 0:
        return "never a match"
    return f"{number_text(1 / bayes_factor, 3)} times less likely a match"


def match_weights_figure(found: SplinkViews) -> go.Figure:
    """Splink's match weights chart: the prior and the weight (log2 of the Bayes factor) of
    every level of every comparison of the model."""
    levels = _levels(found)
    prior = found.parameters.filter(pl.col("comparison_name") == PRIOR)
    parts = [("prior", prior, ["two random records match"])]
    for name in levels["comparison_name"].unique(maintain_order=True):
        part = levels.filter(pl.col("comparison_name") == name)
        parts.append((name, part, part["label_for_charts"].to_list()))
    titles = ["prior (the starting match weight)", *(name for name, _, _ in parts[1:])]
    fig, _ = _panels(
        [labels for _, _, labels in parts],
        cols=1,
        shared_xaxes=True,
        subplot_titles=titles,
    )
    for row, (name, part, labels) in enumerate(parts, start=1):
        weights = part["log2_bayes_factor"].to_list()
        fig.add_trace(
            go.Bar(
                orientation="h",
                name=name,
                y=[_wrap(label) for label in labels],
                x=weights,
                marker_color=[POSITIVE if w >= 0 else NEGATIVE for w in weights],
                text=[f"{w:+.2f}" for w in weights],
                textposition="auto",
                hovertext=[
                    f"{label}: {_odds_text(bf)}"
                    for label, bf in zip(labels, part["bayes_factor"], strict=True)
                ],
                hoverinfo="text",
                showlegend=False,
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(autorange="reversed", row=row, col=1)
    fig.update_xaxes(title_text="match weight (bits)", row=len(parts), col=1)
    return layout(fig, "Match weights of the model's comparison levels", "", "")


def m_u_figure(found: SplinkViews) -> go.Figure:
    """Splink's m and u parameters chart: per level of each comparison, the share of true
    matches (m) and of non-matches (u) that fall in it."""
    levels = _levels(found)
    names = levels["comparison_name"].unique(maintain_order=True).to_list()
    parts = [levels.filter(pl.col("comparison_name") == c) for c in names]
    fig, _ = _panels(
        [part["label_for_charts"].to_list() for part in parts],
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.06,
        subplot_titles=[
            t for c in names for t in (f"{c}: m, among matches", "u, among non-matches")
        ],
    )
    for row, (name, part) in enumerate(zip(names, parts, strict=True), start=1):
        labels = [_wrap(label) for label in part["label_for_charts"]]
        for col, key, color in ((1, "m", COLORS[0]), (2, "u", COLORS[1])):
            values = part[f"{key}_probability"].to_list()
            among = "true matches" if key == "m" else "non-matches"
            notes = [
                f"{label}: {_share_text(v)} of {among}"
                + ("" if known else " (not estimated: Splink's default)")
                for label, v, known in zip(
                    part["label_for_charts"], values, part[f"{key}_estimated"], strict=True
                )
            ]
            fig.add_trace(
                go.Bar(
                    orientation="h",
                    name=name,
                    legendgroup=key,
                    y=labels,
                    x=values,
                    marker_color=color,
                    text=[_share_text(v) for v in values],
                    # inside long bars; outside short ones (plotly drops "auto" text of a
                    # bar narrower than a pixel)
                    textposition=["inside" if v > 0.2 else "outside" for v in values],
                    hovertext=notes,
                    hoverinfo="text",
                    showlegend=False,
                ),
                row=row,
                col=col,
            )
            fig.update_xaxes(
                range=[0, 1], tickvals=[0, 0.25, 0.5, 0.75, 1], tickformat=".0%", row=row, col=col
            )
        fig.update_yaxes(autorange="reversed", row=row, col=1)
    return layout(fig, "m and u parameters of the model's comparison levels", "", "")


def waterfall_figure(exp: Explanation) -> go.Figure:
    """A pair's match-weight waterfall: the prior, one bar per comparison labelled with the
    level the pair fell in, the total (record ids only, no personal data). The report and
    the review UI both draw it."""
    steps = exp.steps
    total = f"{exp.match_weight:+.2f} (p = {exp.match_probability:.3f})"
    labels = [f"<b>{s.comparison}</b><br>{_wrap(s.level)}" for s in steps]
    fig = go.Figure(
        go.Waterfall(
            orientation="h",
            measure=["relative"] * len(steps) + ["total"],
            y=[*labels, "<b>match weight</b>"],
            x=[s.weight for s in steps] + [exp.match_weight],
            text=[f"{s.weight:+.2f}" for s in steps] + [total],
            textposition="outside",
            cliponaxis=False,
            hovertext=[f"{s.comparison}: {s.level}, {s.weight:+.2f}" for s in steps] + [total],
            hoverinfo="text",
            increasing={"marker": {"color": POSITIVE}},
            decreasing={"marker": {"color": NEGATIVE}},
            totals={"marker": {"color": COLORS[0]}},
        )
    )
    height = 170 + (len(steps) + 1) * (_bar_px([s.level for s in steps]) + 18)
    ends = list(itertools.accumulate([s.weight for s in steps], initial=0.0))
    pad = 0.15 * (max(ends) - min(ends)) + 1  # room for the weights written beside the bars
    fig.update_xaxes(range=[min(ends) - pad, max(ends) + pad])
    fig.update_layout(yaxis={"autorange": "reversed"}, height=height, margin={"r": 130})
    return layout(
        fig,
        f"Why {exp.left} and {exp.right} score p = {exp.match_probability:.3f}",
        "match weight (bits)",
        "",
    )
