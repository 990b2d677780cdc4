"""The ROI report: KPI trends vs baseline and target, canary vs control, what it returned.

Every KPI reads in its unit (shares as %, money with the base currency's code) and by its
title; a section without data says why in one sentence (:class:`NoData`).
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from workbench.config.kpis import KpiDef
from workbench.formatting import change_text, money_text, percent_text, value_text
from workbench.kpi.run import baseline
from workbench.kpi.targets import target_value
from workbench.report.context import ReportContext
from workbench.report.display import NoData, layout, unit_axis
from workbench.roi.config import ROI_FILE
from workbench.roi.model import ramp
from workbench.roi.run import RoiResult, roi

MAX_TRENDS = 6  # KPI trend charts shown: the priced ones first, then those with a target
RELATIVE = "relative to control's pre-launch level"  # what the DiD chart's % are of


def compute(ctx: ReportContext) -> RoiResult | NoData:
    """The ROI and the canary-vs-control comparison (read-only; nothing is stored), or why
    there is none yet: no launch date, or no roi.yaml (every section then says so)."""
    if ctx.project.config.kpi.launch_date is None:
        return NoData(
            "No ROI yet: the project has no launch date to compare before and after. Set "
            "kpi.launch_date in workbench.yaml (and kpi.treatment for canary vs control)."
        )
    if not (ctx.project.root / ROI_FILE).exists():
        return NoData(
            f"No ROI yet: the project has no {ROI_FILE} with the integration's costs and value "
            "drivers (`workbench init` writes a commented starter)."
        )
    return roi(ctx.project, ctx.store, record=False)


def headline(result: RoiResult | NoData, ctx: ReportContext) -> str:
    """ROI, NPV and payback in one sentence, with their 95% intervals."""
    if isinstance(result, NoData):
        return result
    s = result.summary
    cur = ctx.project.config.base_currency

    def pct(v: float | None) -> str:
        return "n/a" if v is None else percent_text(v, 0)

    def money(v: float | None) -> str:
        return "n/a" if v is None else money_text(v, cur, 0)

    payback, low, high = s["payback_month"], s.get("payback_low"), s.get("payback_high")
    paid = f"payback in month {payback:.0f}" if payback is not None else "no payback within it"
    if payback is not None and low is not None and high is not None:
        paid += f" (95% interval month {low:.0f} to {high:.0f})"
    left_out = "".join(f" Left out of the benefits: {why}." for why in result.left_out)
    return (
        f"Over {s['horizon_months']:.0f} months the integration returns an ROI of "
        f"{pct(s['roi'])} (95% interval {pct(s['roi_low'])} to {pct(s['roi_high'])}; "
        f"P(ROI > 0) = {pct(s['p_roi_positive'])}), an NPV of {money(s['npv'])} "
        f"({money(s['npv_low'])} to {money(s['npv_high'])}), {paid}.{left_out}"
        + _unproven(result.drivers, int(s["horizon_months"] or 0))
        + (f" {result.comparison.cut}" if result.comparison.cut else "")
    )


def _unproven(drivers: pl.DataFrame, horizon: int) -> str:
    """The value drivers whose 95% interval includes zero, with their share of the benefits
    over the horizon: the data do not yet tell them from no effect, and the headline counts
    them."""
    totals = driver_benefits(drivers, horizon)
    total = sum(totals)
    doubtful = [
        (d["driver"], value)
        for d, value in zip(drivers.iter_rows(named=True), totals, strict=True)
        if d["monthly_low"] <= 0 <= d["monthly_high"] and d["monthly_value"] != 0
    ]
    if not doubtful or not total:
        return ""
    named = ", ".join(
        f"{driver} ({percent_text(value / total, 0)} of the benefits)" for driver, value in doubtful
    )
    return (
        f" Not yet told apart from no effect (their 95% interval includes zero), and counted "
        f"in these figures: {named}."
    )


def driver_benefits(drivers: pl.DataFrame, horizon: int) -> list[float]:
    """Each driver's benefits over the horizon, ramping up over its ``ramp_months`` as the
    ROI model counts them (:func:`workbench.roi.model.ramp`)."""
    return [
        d["monthly_value"] * float(ramp(horizon, d["ramp_months"] or 0).sum())
        for d in drivers.iter_rows(named=True)
    ]


def _kpis(ctx: ReportContext) -> dict[str, KpiDef]:
    return ctx.project.kpis()


def _title(ctx: ReportContext, kpi: str) -> str:
    kdef = _kpis(ctx).get(kpi)
    return kdef.title if kdef else kpi


def trend_kpis(result: RoiResult, ctx: ReportContext) -> list[str]:
    """The KPIs worth a trend chart: those with values for both canary and control, the ones
    the ROI prices first, then those with a target, then the rest (at most MAX_TRENDS)."""
    treatment = ctx.project.config.kpi.treatment
    values = result.comparison.values.frame
    both = (
        values.filter(pl.col("segment").is_in([treatment.treated, treatment.control]))
        .group_by("kpi")
        .agg(pl.col("segment").n_unique().alias("n"))
        .filter(pl.col("n") == 2)["kpi"]
        .to_list()
    )
    priced = [k for k in result.drivers["kpi"].drop_nulls().to_list() if k in both]
    kpis = _kpis(ctx)
    targeted = [k for k in kpis if kpis[k].target is not None and k in both]
    ordered = list(dict.fromkeys([*priced, *targeted, *sorted(both)]))
    return ordered[:MAX_TRENDS]


def trend_charts(result: RoiResult | NoData, ctx: ReportContext) -> list[go.Figure | NoData]:
    """A trend chart of each KPI worth one (see :func:`trend_kpis`), or why there is none."""
    if isinstance(result, NoData):
        return [result]
    chosen = trend_kpis(result, ctx)
    if not chosen:
        t = ctx.project.config.kpi.treatment
        return [
            NoData(
                f"No KPI has values for both {t.treated} and {t.control}: set kpi.treatment "
                f"(the field {t.column!r} of the objects) to compare canary and control."
            )
        ]
    goals = trend_targets(ctx, chosen)
    return [trend_chart(result, kpi, ctx, goals.get(kpi)) for kpi in chosen]


def trend_targets(ctx: ReportContext, chosen: list[str]) -> dict[str, tuple[float, float]]:
    """The baseline level and target of each KPI of ``chosen`` that has a target, as the
    KPI baseline report's Targets table has them: the level of the whole population over
    the baseline window (:func:`workbench.kpi.run.baseline`), the target from it
    (:func:`workbench.kpi.targets.target_value`)."""
    defs = {k: d for k, d in _kpis(ctx).items() if k in chosen and d.target is not None}
    if not defs:
        return {}
    found = baseline(ctx.project, ctx.store, period=ctx.period, record=False, kpis=defs)
    levels = found.levels.filter(pl.col("segment") == "all")
    out = {}
    for kpi, level in zip(levels["kpi"], levels["level"], strict=True):
        target = defs[kpi].target
        assert target is not None
        goal = target_value(target, level)
        if goal is not None:  # a relative target on a baseline of 0 has no line to draw
            out[kpi] = (level, goal)
    return out


def trend_chart(
    result: RoiResult, kpi: str, ctx: ReportContext, goal: tuple[float, float] | None = None
) -> go.Figure:
    """One KPI by month for canary and control, with the launch and, for a KPI with a
    target, its baseline and target (``goal``, from :func:`trend_targets`)."""
    kdef = _kpis(ctx)[kpi]
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
    if goal is not None:
        level, target = goal
        fig.add_hline(y=level, line_dash="dot", line_color="#5f6b7a", annotation_text="baseline")
        fig.add_hline(y=target, line_dash="dot", line_color="#2a9d5b", annotation_text="target")
    layout(fig, f"{kdef.title}: canary vs control", "month", kdef.unit)
    fig.update_xaxes(tickformat="%b %Y")
    return unit_axis(fig, kdef.unit, ctx.project.config.base_currency)


def did_chart(result: RoiResult | NoData, ctx: ReportContext) -> go.Figure | NoData:
    """Difference-in-differences of each KPI in % of the control's pre-launch level."""
    if isinstance(result, NoData):
        return result
    t = result.comparison.table.filter(pl.col("control_pre") != 0)
    if t.height == 0:
        return NoData(
            "No KPI could be compared: difference-in-differences needs values of canary "
            "and control both before and after the launch."
        )
    rel = t["did"] / t["control_pre"] * 100
    lo = t["ci_low"] / t["control_pre"] * 100
    hi = t["ci_high"] / t["control_pre"] * 100
    fig = go.Figure(
        go.Bar(
            y=[_title(ctx, k) for k in t["kpi"]],
            x=rel,
            orientation="h",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (hi - rel).abs(),
                "arrayminus": (rel - lo).abs(),
            },
            marker_color=["#c23b3b" if p is False else "#1f5fa8" for p in t["parallel"]],
            hovertemplate=f"%{{y}}: %{{x:+.1f}}% {RELATIVE}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(ticksuffix="%")
    return layout(
        fig,
        "Canary vs control: DiD with 95% interval (red: pre-trends differ)",
        f"DiD {RELATIVE}",
        "",
        height=max(260, 40 * t.height + 120),
    )


def did_table(result: RoiResult | NoData, ctx: ReportContext) -> pl.DataFrame | NoData:
    """The comparison of every KPI, each level in its unit; the DiD and its interval as the
    change in the KPI's unit (a share's in percentage points, ``+4.0 pp``)."""
    if isinstance(result, NoData):
        return result
    table = result.comparison.table
    if table.height == 0:
        return NoData("No KPI has values for canary and control before and after the launch.")
    kpis, cur = _kpis(ctx), ctx.project.config.base_currency
    rows = []
    for r in table.iter_rows(named=True):
        unit = kpis[r["kpi"]].unit if r["kpi"] in kpis else ""

        def fmt(v: float | None, unit: str = unit) -> str:
            return value_text(v, unit, cur)

        def change(v: float | None, unit: str = unit) -> str:
            return change_text(v, unit, cur)

        rows.append(
            {
                "KPI": _title(ctx, r["kpi"]),
                "canary before": fmt(r["treated_pre"]),
                "canary after": fmt(r["treated_post"]),
                "control before": fmt(r["control_pre"]),
                "control after": fmt(r["control_post"]),
                "DiD": change(r["did"]),
                "95% interval": f"{change(r['ci_low'])} to {change(r['ci_high'])}",
                "parallel pre-trends": r["parallel"],
            }
        )
    return pl.DataFrame(rows)


def waterfall(result: RoiResult | NoData, ctx: ReportContext) -> go.Figure | NoData:
    """Benefits of each driver and the costs over the horizon, down to the net."""
    if isinstance(result, NoData):
        return result
    s = result.summary
    horizon = int(s["horizon_months"] or 0)
    names = result.drivers["driver"].to_list()
    values = driver_benefits(result.drivers, horizon)
    names += ["one-time costs", "recurring costs", "net"]
    values += [-(s["one_time_costs"] or 0), -(s["recurring_costs_per_month"] or 0) * horizon, 0]
    cur = ctx.project.config.base_currency
    fig = go.Figure(
        go.Waterfall(
            x=names,
            y=values,
            measure=["relative"] * (len(values) - 1) + ["total"],
            text=[money_text(v, cur, 0) for v in values[:-1]] + [""],
            textposition="outside",
        )
    )
    layout(fig, f"What the integration returned over {horizon} months", "", cur)
    return unit_axis(fig, "base currency", cur)


def payback_curve(result: RoiResult | NoData, ctx: ReportContext) -> go.Figure | NoData:
    """Cumulative net cash flow by month; payback where it crosses zero."""
    if isinstance(result, NoData):
        return result
    f = result.flows
    fig = go.Figure(go.Scatter(x=f["month"], y=f["cumulative"], mode="lines", fill="tozeroy"))
    fig.add_hline(y=0, line_color="#5f6b7a")
    cur = ctx.project.config.base_currency
    layout(fig, "Payback: cumulative net cash flow", "month after launch", cur)
    return unit_axis(fig, "base currency", cur)


def drivers(result: RoiResult | NoData, ctx: ReportContext) -> pl.DataFrame | NoData:
    """Each value driver: its formula, inputs and monthly value with its 95% interval."""
    if isinstance(result, NoData):
        return result
    cur = ctx.project.config.base_currency
    return result.drivers.select(
        "driver",
        pl.col("kpi").replace_strict(
            {k: v.title for k, v in _kpis(ctx).items()}, default=pl.col("kpi")
        ),
        "formula",
        "inputs",
        *(
            pl.col(c).map_elements(lambda v: money_text(v, cur), return_dtype=pl.String).alias(c)
            for c in ("monthly_value", "monthly_low", "monthly_high")
        ),
    ).rename(
        {"kpi": "KPI", "monthly_value": "per month", "monthly_low": "low", "monthly_high": "high"}
    )
