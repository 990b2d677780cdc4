"""The ROI report: KPI trends vs baseline and target, canary vs control, what it returned."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from workbench.kpi.did import SUMMARY_COLUMNS
from workbench.report.context import ReportContext
from workbench.report.display import layout
from workbench.roi.run import RoiResult, roi


def compute(ctx: ReportContext) -> RoiResult:
    """The ROI and the canary-vs-control comparison (read-only; nothing is stored)."""
    return roi(ctx.project, ctx.store, record=False)


def headline(result: RoiResult) -> str:
    """ROI, NPV and payback in one sentence, with their 95% intervals."""
    s = result.summary

    def num(v: float | None, spec: str) -> str:
        return "n/a" if v is None else format(v, spec)

    return (
        f"Over {s['horizon_months']:.0f} months the integration returns ROI {s['roi']:.2f} "
        f"(95% interval {num(s['roi_low'], '.2f')} to {num(s['roi_high'], '.2f')}, "
        f"P(ROI > 0) = {s['p_roi_positive']:.0%}); NPV {s['npv']:,.0f} "
        f"({num(s['npv_low'], ',.0f')} to {num(s['npv_high'], ',.0f')}); payback in month "
        f"{num(s['payback_month'], '.0f')}."
    )


def trend_chart(result: RoiResult, kpi: str, ctx: ReportContext) -> go.Figure:
    """One KPI by month for canary and control, with launch, baseline and target."""
    kdef = ctx.project.config.kpi.kpis()[kpi]
    values = result.comparison.values.frame.filter(pl.col("kpi") == kpi)
    fig = go.Figure()
    for seg in (ctx.project.config.kpi.treatment.treated, ctx.project.config.kpi.treatment.control):
        part = values.filter(pl.col("segment") == seg).sort("period_start")
        fig.add_scatter(x=part["period_start"], y=part["value"], mode="lines+markers", name=seg)
    fig.add_vline(
        x=result.comparison.windows.launch.timestamp() * 1000,
        line_dash="dash",
        annotation_text="launch",
    )
    target = kdef.target
    pre = result.comparison.table.filter(pl.col("kpi") == kpi)
    if target is not None and pre.height:
        base = (pre["treated_pre"][0] + pre["control_pre"][0]) / 2
        goal = target.value if target.value is not None else base * (1 + (target.change or 0))
        fig.add_hline(y=goal, line_dash="dot", line_color="#2a9d5b", annotation_text="target")
    return layout(fig, f"{kdef.title}: canary vs control", "month", kdef.unit)


def did_chart(result: RoiResult) -> go.Figure:
    """Difference-in-differences of each KPI relative to the control's pre-launch level."""
    t = result.comparison.table.filter(pl.col("control_pre") != 0)
    rel = t["did"] / t["control_pre"] * 100
    lo = t["ci_low"] / t["control_pre"] * 100
    hi = t["ci_high"] / t["control_pre"] * 100
    fig = go.Figure(
        go.Bar(
            y=t["kpi"],
            x=rel,
            orientation="h",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (hi - rel).abs(),
                "arrayminus": (rel - lo).abs(),
            },
            marker_color=["#c23b3b" if p is False else "#1f5fa8" for p in t["parallel"]],
        )
    )
    fig.update_yaxes(autorange="reversed")
    return layout(
        fig,
        "Canary vs control: DiD with 95% interval (red: pre-trends differ)",
        "change vs control before launch (%)",
        "",
        height=520,
    )


def did_table(result: RoiResult) -> pl.DataFrame:
    return result.comparison.table.select(SUMMARY_COLUMNS)


def waterfall(result: RoiResult) -> go.Figure:
    """Benefits of each driver and the costs over the horizon, down to the net."""
    s = result.summary
    horizon = int(s["horizon_months"] or 0)
    names, values = [], []
    for d in result.drivers.iter_rows(named=True):
        ramp = min(horizon, d["ramp_months"]) if d["ramp_months"] else 0
        months = horizon - ramp + sum((m + 1) / d["ramp_months"] for m in range(ramp))
        names.append(d["driver"])
        values.append(d["monthly_value"] * months)
    names += ["one-time costs", "recurring costs", "net"]
    values += [-(s["one_time_costs"] or 0), -(s["recurring_costs_per_month"] or 0) * horizon, 0]
    fig = go.Figure(
        go.Waterfall(x=names, y=values, measure=["relative"] * (len(values) - 1) + ["total"])
    )
    return layout(fig, f"What the integration returned over {horizon} months", "", "base currency")


def payback_curve(result: RoiResult) -> go.Figure:
    """Cumulative net cash flow by month; payback where it crosses zero."""
    f = result.flows
    fig = go.Figure(go.Scatter(x=f["month"], y=f["cumulative"], mode="lines", fill="tozeroy"))
    fig.add_hline(y=0, line_color="#5f6b7a")
    return layout(fig, "Payback: cumulative net cash flow", "month after launch", "base currency")


def drivers(result: RoiResult) -> pl.DataFrame:
    return result.drivers.select(
        "driver", "formula", "inputs", "monthly_value", "monthly_low", "monthly_high"
    )
