"""The pre-launch baseline report: KPI levels with 95% intervals and XmR control charts."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from workbench.kpi.run import BaselineResult, baseline
from workbench.report.context import ReportContext
from workbench.report.display import layout


def compute(ctx: ReportContext) -> BaselineResult:
    """Baselines over the configured window (read-only; nothing is stored by a report)."""
    return baseline(ctx.project, ctx.store, period=ctx.period, record=False)


def levels(result: BaselineResult, ctx: ReportContext) -> pl.DataFrame:
    """One row per KPI: level, 95% interval, what it rests on, control limits."""
    kpis = ctx.project.config.kpi.kpis()
    return result.levels.filter(pl.col("segment") == "all").select(
        "kpi",
        pl.col("kpi").replace_strict({k: v.unit for k, v in kpis.items()}).alias("unit"),
        "level",
        "ci_low",
        "ci_high",
        "basis",
        "size",
        "lcl",
        "ucl",
    )


def intervals_chart(result: BaselineResult) -> go.Figure:
    """Each KPI's baseline level and interval, relative to the level (so all fit one axis)."""
    frame = result.levels.filter(pl.col("segment") == "all")
    lo = (frame["ci_low"] / frame["level"] - 1) * 100
    hi = (frame["ci_high"] / frame["level"] - 1) * 100
    fig = go.Figure(
        go.Scatter(
            x=[0.0] * frame.height,
            y=frame["kpi"],
            mode="markers",
            error_x={"type": "data", "symmetric": False, "array": hi, "arrayminus": -lo},
            hovertext=[
                f"{k}: {v:.4g} ({a:.4g} to {b:.4g})"
                for k, v, a, b in zip(
                    frame["kpi"], frame["level"], frame["ci_low"], frame["ci_high"], strict=True
                )
            ],
        )
    )
    fig.update_yaxes(autorange="reversed")
    return layout(
        fig,
        "Baseline levels: 95% bootstrap interval around each level",
        "interval relative to the level (%)",
        "",
        height=520,
    )


def control_charts(result: BaselineResult, kpis: list[str] | None = None) -> go.Figure:
    """Individuals charts (XmR) of the KPIs: values by month, centre, limits, signals."""
    values = result.values.frame.filter(pl.col("segment") == "all")
    base = result.levels.filter((pl.col("segment") == "all") & pl.col("centre").is_not_null())
    names = kpis or [k for k in base["kpi"].to_list() if k != "duplicate_rate"]
    cols = 2
    rows = (len(names) + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names, vertical_spacing=0.06)
    signals = result.signals.filter(pl.col("shift"))
    for i, kpi in enumerate(names):
        r, c = i // cols + 1, i % cols + 1
        series = values.filter(
            (pl.col("kpi") == kpi) & (pl.col("period_start") >= result.start)
        ).sort("period_start")
        b = base.filter(pl.col("kpi") == kpi).row(0, named=True)
        fig.add_scatter(
            x=series["period"],
            y=series["value"],
            mode="lines+markers",
            line={"color": "#1f5fa8"},
            showlegend=False,
            row=r,
            col=c,
        )
        for y, dash in ((b["centre"], "solid"), (b["lcl"], "dash"), (b["ucl"], "dash")):
            fig.add_scatter(
                x=series["period"],
                y=[y] * series.height,
                mode="lines",
                line={"color": "#5f6b7a", "dash": dash, "width": 1},
                showlegend=False,
                hoverinfo="skip",
                row=r,
                col=c,
            )
        hit = signals.filter(pl.col("kpi") == kpi)
        if hit.height:
            fig.add_scatter(
                x=hit["period"],
                y=hit["value"],
                mode="markers",
                marker={"color": "#c23b3b", "size": 10, "symbol": "diamond"},
                text=hit["rules"],
                showlegend=False,
                row=r,
                col=c,
            )
    fig.update_layout(
        height=260 * rows,
        title={
            "text": "Control charts (XmR): centre and "
            "natural process limits from the baseline; red = signal",
            "x": 0,
        },
    )
    return fig


def targets(result: BaselineResult) -> pl.DataFrame:
    """Target status of each KPI with a target."""
    return result.targets
