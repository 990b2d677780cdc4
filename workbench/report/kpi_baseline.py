"""The pre-launch baseline report: KPI levels with 95% intervals and XmR control charts.

KPIs are shown by title, each value in its unit (shares as %, money with the base
currency's code); control charts mark the launch; a section without data says why.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import plotly.graph_objects as go
import polars as pl

from workbench.config.kpis import KpiDef
from workbench.formatting import SHARE_UNITS, value_text
from workbench.kpi.run import BaselineResult, baseline
from workbench.report.context import ReportContext
from workbench.report.display import NoData, grid, grid_cell, layout


def compute(ctx: ReportContext) -> BaselineResult:
    """Baselines over the configured window (read-only; nothing is stored by a report)."""
    return baseline(ctx.project, ctx.store, period=ctx.period, record=False)


def _kpis(ctx: ReportContext) -> dict[str, KpiDef]:
    return ctx.project.kpis()


def window(result: BaselineResult) -> str:
    """The baseline window in words (its end is exclusive: the first day after it), and
    whether the data stops short of the latest month."""
    last = result.end - timedelta(days=1)
    text = f"Baseline window: {result.start:%b %Y} to {last:%b %Y}."
    return f"{text} {result.partial}" if result.partial else text


def levels(result: BaselineResult, ctx: ReportContext) -> pl.DataFrame | NoData:
    """One row per KPI: level, 95% interval, what it rests on, control limits, each in the
    KPI's unit."""
    frame = result.levels.filter(pl.col("segment") == "all")
    if frame.height == 0:
        return NoData(_no_levels(result))
    kpis, cur = _kpis(ctx), ctx.project.config.base_currency
    rows = []
    for r in frame.iter_rows(named=True):
        kdef = kpis.get(r["kpi"])
        unit = kdef.unit if kdef else ""

        def fmt(v: float | None, unit: str = unit) -> str:
            return value_text(v, unit, cur)

        rows.append(
            {
                "KPI": kdef.title if kdef else r["kpi"],
                "level": fmt(r["level"]),
                "95% interval": f"{fmt(r['ci_low'])} to {fmt(r['ci_high'])}",
                "from": _basis_text(r["size"], r["basis"]),
                "control limits": (
                    f"{fmt(r['lcl'])} to {fmt(r['ucl'])}" if r["lcl"] is not None else "n/a"
                ),
            }
        )
    return pl.DataFrame(rows)


def _basis_text(size: int | None, basis: str) -> str:
    """What a level rests on, as counted (:class:`workbench.kpi.samples.Sample`): rows for a
    pooled statistic or a share (``1,003 rows``), periods for a mean of period values."""
    noun = "period" if basis == "periods" else "row"
    if size is None:
        return f"{noun}s"
    return f"{size:,} {noun}" + ("" if size == 1 else "s")


def _no_levels(result: BaselineResult) -> str:
    return (
        f"No KPI has values in the baseline window ({result.start:%Y-%m} to "
        f"{result.end:%Y-%m}): load and validate the exports of the months before the launch."
    )


def intervals_chart(result: BaselineResult, ctx: ReportContext) -> go.Figure | NoData:
    """Each KPI's baseline level and interval, relative to the level (so all fit one axis)."""
    frame = result.levels.filter(
        (pl.col("segment") == "all") & pl.col("level").is_not_null() & (pl.col("level") != 0)
    )
    if frame.height == 0:
        return NoData(_no_levels(result))
    kpis, cur = _kpis(ctx), ctx.project.config.base_currency
    lo = (frame["ci_low"] / frame["level"] - 1) * 100
    hi = (frame["ci_high"] / frame["level"] - 1) * 100
    units = [kpis[k].unit if k in kpis else "" for k in frame["kpi"]]
    fig = go.Figure(
        go.Scatter(
            x=[0.0] * frame.height,
            y=[kpis[k].title if k in kpis else k for k in frame["kpi"]],
            mode="markers",
            error_x={"type": "data", "symmetric": False, "array": hi, "arrayminus": -lo},
            hovertext=[
                f"{value_text(v, u, cur)} ({value_text(a, u, cur)} to {value_text(b, u, cur)})"
                for v, a, b, u in zip(
                    frame["level"], frame["ci_low"], frame["ci_high"], units, strict=True
                )
            ],
            hoverinfo="text+y",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(ticksuffix="%")
    return layout(
        fig,
        "Baseline levels: 95% bootstrap interval around each level",
        "interval relative to the level",
        "",
        height=max(260, 36 * frame.height + 120),
    )


def control_charts(
    result: BaselineResult, ctx: ReportContext, kpis: list[str] | None = None
) -> go.Figure | NoData:
    """Individuals charts (XmR) of the KPIs: values by month, centre, limits, signals, and
    the launch."""
    values = result.values.frame.filter(pl.col("segment") == "all")
    base = result.levels.filter((pl.col("segment") == "all") & pl.col("centre").is_not_null())
    names = kpis or [k for k in base["kpi"].to_list() if k != "duplicate_rate"]
    if not names:
        return NoData(
            "No KPI has enough baseline periods for control limits (two or more months "
            "with values are needed)."
        )
    defs = _kpis(ctx)
    titles = [defs[k].title if k in defs else k for k in names]
    fig = grid(titles, row_height=320)
    signals = result.signals.filter(pl.col("shift"))
    launch = ctx.project.config.kpi.launch_date
    for i, kpi in enumerate(names):
        r, c = grid_cell(i)
        series = values.filter(
            (pl.col("kpi") == kpi) & (pl.col("period_start") >= result.start)
        ).sort("period_start")
        b = base.filter(pl.col("kpi") == kpi).row(0, named=True)
        fig.add_scatter(
            x=series["period_start"],
            y=series["value"],
            mode="lines+markers",
            line={"color": "#1f5fa8"},
            showlegend=False,
            name=titles[i],
            row=r,
            col=c,
        )
        for y, dash in ((b["centre"], "solid"), (b["lcl"], "dash"), (b["ucl"], "dash")):
            fig.add_scatter(
                x=series["period_start"],
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
                x=hit["period_start"],
                y=hit["value"],
                mode="markers",
                marker={"color": "#c23b3b", "size": 10, "symbol": "diamond"},
                text=hit["rules"],
                showlegend=False,
                name="signal",
                row=r,
                col=c,
            )
        unit = defs[kpi].unit if kpi in defs else ""
        if unit in SHARE_UNITS:
            fig.update_yaxes(tickformat=".0%", row=r, col=c)
        else:
            fig.update_yaxes(tickformat=",~r", row=r, col=c)
        fig.update_xaxes(tickformat="%b %Y", row=r, col=c)
        if launch is not None:
            fig.add_vline(
                x=_ms(launch),
                line_dash="dash",
                line_color="#e07b00",
                annotation_text="launch" if i == 0 else None,
                row=r,
                col=c,
            )
    fig.update_layout(
        title={
            "text": "Control charts (XmR): centre and natural process limits from the "
            "baseline; red = a signal; dashed orange = launch",
            "x": 0,
        },
    )
    return fig


def _ms(day: date) -> float:
    """A date as plotly's time axis counts (milliseconds since 1970, UTC)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000


def targets(result: BaselineResult, ctx: ReportContext) -> pl.DataFrame | NoData:
    """Target status of each KPI with a target, in the KPI's unit."""
    frame = result.targets
    if frame.height == 0:
        return NoData(
            "No KPI with a target has a value yet (targets: kpi.targets in workbench.yaml, "
            "or a KPI's default target)."
        )
    kpis, cur = _kpis(ctx), ctx.project.config.base_currency
    rows = []
    for r in frame.iter_rows(named=True):
        kdef = kpis.get(r["kpi"])
        unit = kdef.unit if kdef else ""
        rows.append(
            {
                "KPI": kdef.title if kdef else r["kpi"],
                "period": r["period"],
                "baseline": value_text(r["baseline"], unit, cur),
                "value": value_text(r["value"], unit, cur),
                "target": value_text(r["target"], unit, cur),
                "deadline": r["deadline"],
                "status": r["status"],
            }
        )
    return pl.DataFrame(rows)
