"""Report sections of a staggered rollout (``kpi.rollout``): each group's baseline before its
own launch, each group's effect against the groups not reached yet, the event study, and
what each group returns (:mod:`workbench.roi.cohorts`).

Used by the KPI baseline report (baselines) and the ROI report (effects and value). Every
value reads in its KPI's unit; a section without data says why (:class:`NoData`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import plotly.graph_objects as go
import polars as pl

from workbench.config.kpis import KpiDef
from workbench.errors import ConfigError
from workbench.formatting import SHARE_UNITS, change_text, money_text, percent_text, value_text
from workbench.kpi.periods import step
from workbench.kpi.run import rollout
from workbench.kpi.staggered import StaggeredResult
from workbench.report.context import ReportContext
from workbench.report.display import COLORS, NoData, grid, grid_cell, layout, unit_axis
from workbench.roi.run import RoiResult

MAX_CHARTED = 6  # KPIs in the effect and event-study charts (the tables hold every KPI)

NO_ROLLOUT = (
    "No staggered rollout is configured: with launch dates per group (kpi.rollout in "
    "workbench.yaml, e.g. {column: region, launches: {EMEA: 2026-05-01, NA: 2026-08-01}}) "
    "each group gets its own baseline, effect and value here."
)


def compute(ctx: ReportContext) -> StaggeredResult | NoData:
    """The rollout's cohorts (read-only; nothing is stored), or why there are none."""
    if ctx.project.config.kpi.rollout is None:
        return NoData(NO_ROLLOUT)
    try:
        return rollout(ctx.project, ctx.store, record=False)
    except ConfigError as error:  # the rest of the report stands
        return NoData(_problem(" ".join(p for p in (error.what, error.fix) if p)))


def of_roi(result: RoiResult | NoData) -> StaggeredResult | NoData:
    """The rollout the ROI run measured, or why there is none."""
    if isinstance(result, NoData):
        return result
    if result.rollout_problem:
        return NoData(_problem(result.rollout_problem))
    return result.rollout if result.rollout is not None else NoData(NO_ROLLOUT)


def _problem(why: str) -> str:
    return f"The staggered rollout (kpi.rollout in workbench.yaml) could not be measured: {why}"


def priced(result: RoiResult | NoData) -> list[str]:
    """The KPIs the ROI's value drivers price (charted first)."""
    if isinstance(result, NoData):
        return []
    return list(dict.fromkeys(result.drivers["kpi"].drop_nulls().to_list()))


def charted(staged: StaggeredResult, ctx: ReportContext, first: Sequence[str] = ()) -> list[str]:
    """The KPIs worth a chart: ``first``, then those with a target, then the rest (at most
    MAX_CHARTED), of those with an effect per group."""
    found = list(dict.fromkeys(staged.cohorts["kpi"].to_list()))
    kpis = _kpis(ctx)
    targeted = [k for k in found if k in kpis and kpis[k].target is not None]
    ordered = [k for k in dict.fromkeys([*first, *targeted, *found]) if k in found]
    return ordered[:MAX_CHARTED]


def _kpis(ctx: ReportContext) -> dict[str, KpiDef]:
    return ctx.project.kpis()


def _no_cohorts(staged: StaggeredResult) -> NoData:
    why = "; ".join(staged.notes[-3:])
    return NoData(
        "No group of the rollout has data before and after its launch together with a group "
        f"not reached yet{f' ({why})' if why else ''}."
    )


def baselines(staged: StaggeredResult | NoData, ctx: ReportContext) -> pl.DataFrame | NoData:
    """Per KPI and group: the level over the baseline months before that group's launch,
    with its 95% bootstrap interval."""
    if isinstance(staged, NoData):
        return staged
    if staged.cohorts.is_empty():
        return _no_cohorts(staged)
    months = ctx.project.config.kpi.baseline_months
    kpis, cur = _kpis(ctx), ctx.project.config.base_currency
    rows = []
    for r in staged.cohorts.iter_rows(named=True):
        unit = kpis[r["kpi"]].unit if r["kpi"] in kpis else ""
        start = r["launch"] - step("month", months)
        rows.append(
            {
                "KPI": _title(kpis, r["kpi"]),
                "group": r["cohort"],
                "launch": f"{r['launch']:%Y-%m-%d}",
                "baseline window": f"{start:%b %Y} to {r['launch'] - timedelta(days=1):%b %Y}",
                "level": value_text(r["treated_pre"], unit, cur),
                "95% interval": f"{value_text(r['baseline_low'], unit, cur)} to "
                f"{value_text(r['baseline_high'], unit, cur)}",
                "from": f"{r['baseline_size']:,}",
            }
        )
    return pl.DataFrame(rows)


def effects(staged: StaggeredResult | NoData, ctx: ReportContext) -> pl.DataFrame | NoData:
    """Per KPI: each group's difference-in-differences over its own window against the
    groups not reached yet, then the overall effect, each as a change in the KPI's unit (a
    share's in percentage points, as the canary-vs-control table)."""
    if isinstance(staged, NoData):
        return staged
    if staged.cohorts.is_empty():
        return _no_cohorts(staged)
    kpis, cur = _kpis(ctx), ctx.project.config.base_currency
    rows = []
    overall = {r["kpi"]: r for r in staged.overall.iter_rows(named=True)}
    for (kpi,), part in staged.cohorts.group_by("kpi", maintain_order=True):
        unit = kpis[str(kpi)].unit if kpi in kpis else ""

        def fmt(v: float | None, unit: str = unit) -> str:
            return value_text(v, unit, cur)

        def change(v: float | None, unit: str = unit) -> str:
            return change_text(v, unit, cur)  # a share's in percentage points

        for r in part.iter_rows(named=True):
            rows.append(
                {
                    "KPI": _title(kpis, str(kpi)),
                    "group": r["cohort"],
                    "window": f"{_from(r['launch'])} to {r['post_end'] - timedelta(days=1):%b %Y}",
                    "compared with": r["controls"],
                    "before": fmt(r["treated_pre"]),
                    "after": fmt(r["treated_post"]),
                    "DiD": change(r["did"]),
                    "95% interval": f"{change(r['ci_low'])} to {change(r['ci_high'])}",
                }
            )
        if (o := overall.get(str(kpi))) and o["cohorts"] > 1:
            rows.append(
                {
                    "KPI": _title(kpis, str(kpi)),
                    "group": "overall",
                    "window": "weighted by data after launch",
                    "compared with": "",
                    "before": "",
                    "after": "",
                    "DiD": change(o["did"]),
                    "95% interval": f"{change(o['ci_low'])} to {change(o['ci_high'])}",
                }
            )
    return pl.DataFrame(rows)


def effects_chart(
    staged: StaggeredResult | NoData, ctx: ReportContext, first: Sequence[str] = ()
) -> go.Figure | NoData:
    """Each group's effect on the charted KPIs (:func:`charted`) relative to its own
    baseline level, with 95% intervals."""
    if isinstance(staged, NoData):
        return staged
    names = charted(staged, ctx, first)
    t = staged.cohorts.filter(pl.col("kpi").is_in(names) & (pl.col("treated_pre") != 0))
    if t.is_empty():
        return _no_cohorts(staged)
    kpis = _kpis(ctx)
    fig = go.Figure()
    for i, ((cohort,), part) in enumerate(t.group_by("cohort", maintain_order=True)):
        rel = part["did"] / part["treated_pre"].abs() * 100
        lo = part["ci_low"] / part["treated_pre"].abs() * 100
        hi = part["ci_high"] / part["treated_pre"].abs() * 100
        fig.add_scatter(
            x=rel,
            y=[_title(kpis, k) for k in part["kpi"]],
            mode="markers",
            name=f"{cohort} (launch {part['launch'][0]:%Y-%m-%d})",
            marker={"size": 10, "color": COLORS[i % len(COLORS)]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (hi - rel).abs(),
                "arrayminus": (rel - lo).abs(),
            },
            hovertemplate="%{y}: %{x:.1f}%<extra>" + str(cohort) + "</extra>",
        )
    fig.add_vline(x=0, line_color="#5f6b7a")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(ticksuffix="%")
    n = t["kpi"].n_unique()
    return layout(
        fig,
        "Effect of each rollout group: DiD vs the groups not reached yet, 95% interval",
        "change relative to the group's baseline level",
        "",
        height=max(300, 44 * n + 160),
    )


def event_study_chart(
    staged: StaggeredResult | NoData, ctx: ReportContext, first: Sequence[str] = ()
) -> go.Figure | NoData:
    """Per charted KPI (:func:`charted`), the effect by month from each group's launch (0 =
    the launch month), relative to the month before launch and averaged over the groups:
    flat before 0 when the groups moved alike before their launches."""
    if isinstance(staged, NoData):
        return staged
    study = staged.event_study
    names = [k for k in charted(staged, ctx, first) if k in set(study["kpi"].to_list())]
    if not names:
        return NoData(
            "No event study: it needs monthly values of a group and of a group not reached "
            "yet in the month before the launch."
        )
    defs = _kpis(ctx)
    fig = grid([_title(defs, k) for k in names], row_height=300)
    for i, kpi in enumerate(names):
        r, c = grid_cell(i)
        series = study.filter(pl.col("kpi") == kpi).sort("event_time")
        fig.add_scatter(x=series["event_time"], y=series["effect"], mode="lines+markers",
                        line={"color": COLORS[0]}, showlegend=False, name=_title(defs, kpi),
                        row=r, col=c)  # fmt: skip
        fig.add_vline(x=-0.5, line_dash="dash", line_color="#e07b00", row=r, col=c)
        fig.add_hline(y=0, line_color="#c9ced6", row=r, col=c)
        unit = defs[kpi].unit if kpi in defs else ""
        fig.update_yaxes(tickformat=".1%" if unit in SHARE_UNITS else ",~r", row=r, col=c)
        fig.update_xaxes(dtick=1, row=r, col=c)
    fig.update_layout(
        title={
            "text": "Event study: effect by month from launch (0 = launch month; dashed = launch)",
            "x": 0,
        },
    )
    return fig


def value_by_group(result: RoiResult | NoData, ctx: ReportContext) -> pl.DataFrame | NoData:
    """What each group returns per month, driver by driver: the group's own improvement
    priced like the driver on the group's share of its volume, then each group's total of
    the drivers split by group (hours saved are not; no ramp-up)."""
    c = _cohort_values(result)
    if isinstance(c, NoData):
        return c
    kpis, cur = _kpis(ctx), ctx.project.config.base_currency
    rows = []
    for r in c.iter_rows(named=True):
        unit = kpis[r["kpi"]].unit if r["kpi"] in kpis else ""
        rows.append(
            {
                "group": r["cohort"],
                "driver": r["driver"],
                "improvement": change_text(r["improvement"], unit, cur),
                "95% interval": f"{change_text(r['improvement_low'], unit, cur)} to "
                f"{change_text(r['improvement_high'], unit, cur)}",
                "share of volume": percent_text(r["volume_share"], 1),
                "per month": money_text(r["monthly_value"], cur, 0),
                "low": money_text(r["monthly_low"], cur, 0),
                "high": money_text(r["monthly_high"], cur, 0),
            }
        )
    for (cohort,), part in c.group_by("cohort", maintain_order=True):
        rows.append(
            {
                "group": str(cohort),
                "driver": "drivers split by group",
                "improvement": "",
                "95% interval": "",
                "share of volume": "",
                "per month": money_text(float(part["monthly_value"].sum()), cur, 0),
                "low": "",
                "high": "",
            }
        )
    return pl.DataFrame(rows)


def value_chart(result: RoiResult | NoData, ctx: ReportContext) -> go.Figure | NoData:
    """Monthly value of each group, stacked by driver."""
    c = _cohort_values(result)
    if isinstance(c, NoData):
        return c
    cur = ctx.project.config.base_currency
    fig = go.Figure()
    for (driver,), part in c.group_by("driver", maintain_order=True):
        fig.add_bar(
            x=part["cohort"],
            y=part["monthly_value"],
            name=str(driver),
            text=[money_text(v, cur, 0) for v in part["monthly_value"]],
            hovertemplate="%{x}: %{text}<extra>" + str(driver) + "</extra>",
        )
    fig.update_layout(barmode="relative")
    layout(fig, "What each rollout group returns per month, by driver", "group", cur)
    return unit_axis(fig, "base currency", cur)


def _cohort_values(result: RoiResult | NoData) -> pl.DataFrame | NoData:
    """The ROI run's values per cohort (roi.cohorts), or why there are none."""
    staged = of_roi(result)
    if isinstance(staged, NoData):
        return staged
    assert isinstance(result, RoiResult)
    if result.cohorts.is_empty():
        return NoData(
            "No value driver prices a KPI with an effect per rollout group (hours saved and "
            "KPIs without an estimate per group are not split)."
        )
    return result.cohorts


def _title(kpis: dict[str, KpiDef], kpi: str) -> str:
    return kpis[kpi].title if kpi in kpis else kpi


def _from(launch: datetime) -> str:
    """When a cohort's window starts: its month, or its day when not the first."""
    return f"{launch:%b %Y}" if launch.day == 1 else f"{launch:%d %b %Y}"
