"""Commands about KPIs and ROI: kpi, kpi list, baseline, roi, export kpis."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workbench.cli.common import (
    JsonOpt,
    OutOpt,
    ProjectOpt,
    emit,
    load_project,
    note,
    out,
    print_frame,
    project_and_store,
    wrote_csv,
)
from workbench.cli.quality import export_app
from workbench.progress import steps
from workbench.terminal import styled

if TYPE_CHECKING:
    from datetime import datetime

    import polars as pl

    from workbench.kpi.periods import Grain

kpi_app = typer.Typer(
    help="KPI values per period and segment (`workbench kpi --period 2026-09`), and the "
    "registry (`workbench kpi list`).",
    invoke_without_command=True,
)

PeriodOpt = Annotated[
    str | None,
    typer.Option("--period", help="One period: 2026-09, 2026-Q3, 2026-W39 or 2026-09-30."),
]
GrainOpt = Annotated[
    str | None,
    typer.Option("--grain", help="day, week, month or quarter.", show_default="month"),
]
SegmentOpt = Annotated[
    str | None,
    typer.Option(
        "--segment",
        help="Break down by a field: region, segment (canary/control), source, "
        "system, object (missing_mandatory_rate).",
    ),
]


def _grain(grain: str | None, period: str | None) -> Grain:
    from workbench.kpi import periods

    if grain is not None and grain not in periods.GRAINS:
        from workbench.errors import ConfigError

        raise ConfigError(
            f"Unknown grain {grain!r}.",
            where="--grain",
            fix=f"Use one of: {', '.join(periods.GRAINS)}.",
        )
    if period is not None:
        return periods.parse(period, grain)[0]  # type: ignore[arg-type]
    return grain or "month"  # type: ignore[return-value]


@kpi_app.callback()
def kpi(
    ctx: typer.Context,
    period: PeriodOpt = None,
    grain: GrainOpt = None,
    segment: SegmentOpt = None,
    project: ProjectOpt = Path("."),
    json: JsonOpt = False,
) -> None:
    """Compute every KPI per period; values are stored as a run in kpi.values.

    With --json: a list of the table's rows (kpi, period, then one value per segment).
    """
    if ctx.invoked_subcommand is not None:
        return
    from datetime import time

    import polars as pl

    from workbench.kpi import periods
    from workbench.kpi.run import measure

    kind = _grain(grain, period)
    loaded, store = project_and_store(project)
    with store, steps("Computing KPIs", len(loaded.kpis())) as step:
        run_id, values = measure(loaded, store, grain=kind, segment=segment, on_kpi=step)
    frame = values.frame
    if period is not None:
        frame = frame.filter(pl.col("period") == periods.label(periods.parse(period)[1], kind))
    else:  # the latest period with validated data up to now (never one dated in the future)
        latest = values.latest
        frame = frame.filter(pl.col("period_start") == latest) if latest else frame.clear()
        if latest and values.newest and values.latest_partial:
            values.notes.append(
                f"{periods.label(latest, kind)} is not complete: the data ends on "
                f"{values.newest:%d %b %Y %H:%M} UTC, so its values are not final."
                if values.newest.time() != time(0)
                else f"{periods.label(latest, kind)} is not complete: the data ends on "
                f"{values.newest:%d %b %Y}, so its values are not final."
            )
    if frame.is_empty():
        values.notes.append(_no_values(values.frame, period))
    wide = frame.pivot(on="segment", index=["kpi", "period"], values="value")
    title = f"KPIs (run {run_id}; `workbench export kpis` writes every period)"
    emit(wide, json=json, title=title)
    for line in values.notes:
        note(styled(line, "dim"), json=json)


def _no_values(frame: pl.DataFrame, period: str | None) -> str:
    """Why the table is empty: the periods that have values, or that none has."""
    if frame.is_empty():
        return (
            "No KPI has a value yet: no validated row carries the dates the KPIs count by. "
            "Run `workbench validate` after loading the exports (`workbench ledger` lists "
            "what is loaded)."
        )
    labels = frame.sort("period_start")["period"]
    return (
        f"No KPI has a value for {period}: no validated row is dated in it. Periods with "
        f"values: {labels[0]} to {labels[-1]}."
    )


@kpi_app.command("list")
def kpi_list(project: ProjectOpt = Path("."), json: JsonOpt = False) -> None:
    """The KPI registry: built-in KPIs and the project's own (kpi.definitions).

    With --json: a list of the table's rows.
    """
    import polars as pl

    loaded = load_project(project)
    rows = [
        {
            "kpi": kpi_id,
            "title": k.title,
            "unit": k.unit,
            "good": k.direction,
            "object": k.object,
            "stat": k.stat.value + (f" {k.q}" if k.q else ""),
            "target": _target(k.target),
        }
        for kpi_id, k in loaded.kpis().items()
    ]
    emit(pl.DataFrame(rows), json=json, title="KPIs")


def _target(target: object) -> str:
    if target is None:
        return ""
    value, change, days = (getattr(target, a) for a in ("value", "change", "within_days"))
    text = f"{value:g}" if value is not None else f"{change:+.0%} vs baseline"
    return text + (f" within {days} days of launch" if days else "")


def baseline(
    segment: SegmentOpt = None,
    start: Annotated[
        str | None, typer.Option("--start", help="First month of the window, e.g. 2025-11.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last month of the window, e.g. 2026-04.")
    ] = None,
    period: PeriodOpt = None,
    project: ProjectOpt = Path("."),
    json: JsonOpt = False,
) -> None:
    """Baseline of every KPI with a 95% bootstrap interval and XmR limits; later periods
    that signal a real shift; target status.

    The window is the kpi.baseline_months before kpi.launch_date unless --start/--end say.
    With --json: an object with run_id, start and end (the window's first and last
    month), levels, shifts and targets (lists of the tables' rows).
    """
    import polars as pl

    from workbench.kpi import periods
    from workbench.kpi.run import baseline as run_baseline

    window = None
    if start or end:
        window = _window(start, end)
    loaded, store = project_and_store(project)
    with store, steps("Baselines", None):
        result = run_baseline(
            loaded,
            store,
            segment=segment,
            period=period,
            start=window[0] if window else None,
            end=window[1] if window else None,
        )
    last = result.end - periods.step("month")
    first, final = periods.label(result.start, "month"), periods.label(last, "month")
    levels = result.levels.select(
        "kpi", "segment", "level", "ci_low", "ci_high", "basis", "size", "lcl", "ucl"
    )
    shifts = result.signals.filter(pl.col("shift")).select(
        "kpi", "segment", "period", "value", "lcl", "ucl", "rules"
    )
    if json:
        document = {
            "run_id": result.run_id,
            "start": first,
            "end": final,
            "levels": levels,
            "shifts": shifts,
            "targets": result.targets,
        }
        emit(document, json=True)
        return
    title = f"Baseline {first}..{final} (run {result.run_id}; 95% bootstrap interval, XmR limits)"
    print_frame(levels, title)
    if result.partial:
        out.print(styled(result.partial, "yellow"))
    if shifts.height:
        print_frame(shifts, "Periods after the baseline that signal a real shift")
    if result.targets.height:
        print_frame(result.targets, "Targets")


def _window(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    from workbench.errors import ConfigError
    from workbench.kpi import periods

    if not (start and end):
        raise ConfigError(
            "Give both --start and --end (months, e.g. 2025-11 and 2026-04).", where="--start/--end"
        )
    _, first, _ = periods.bounds(start, "month")
    _, _, last = periods.bounds(end, "month")
    if last <= first:
        raise ConfigError(
            "--end is before --start.",
            where="--start/--end",
            fix="Give the first and the last month of the window, in order.",
        )
    return first, last


def roi(project: ProjectOpt = Path("."), json: JsonOpt = False) -> None:
    """Canary vs control for every KPI, and the ROI of the integration from roi.yaml:
    benefits, costs, ROI, payback and NPV with 95% intervals.

    With a staggered rollout (`kpi.rollout`), also what each group returns per month.

    With --json: an object with run_id, comparison, drivers and cohorts (lists of the
    tables' rows; cohorts empty without kpi.rollout) and summary (roi, its interval,
    benefits, costs, npv, payback...; null where n/a).
    """
    import polars as pl

    from workbench.kpi.did import SUMMARY_COLUMNS
    from workbench.roi.run import roi as run_roi

    loaded, store = project_and_store(project)
    with store, steps("ROI", None):
        result = run_roi(loaded, store)
    did = result.comparison.table
    comparison = did.select(SUMMARY_COLUMNS)
    drivers = result.drivers.select(
        "driver", "formula", "inputs", "monthly_value", "monthly_low", "monthly_high"
    )
    bad = did.filter(pl.col("parallel").not_())["kpi"].to_list()
    if json:
        document = {
            "run_id": result.run_id,
            "comparison": comparison,
            "drivers": drivers,
            "cohorts": result.cohorts,
            "summary": result.summary,
        }
        emit(document, json=True)
    else:
        print_frame(
            comparison, "Canary vs control: difference-in-differences (95% bootstrap interval)"
        )
    if bad:
        warning = f"Pre-launch trends differ for {', '.join(bad)}: their DiD may be biased."
        note(styled(warning, "yellow"), json=json)
    if result.comparison.cut:
        note(styled(result.comparison.cut, "yellow"), json=json)
    for why in result.left_out:
        note(styled(f"Value driver left out: {why}.", "yellow"), json=json)
    if result.rollout_problem:
        note(styled(f"Staggered rollout not measured: {result.rollout_problem}", "yellow"),
             json=json)  # fmt: skip
    if json:
        return
    print_frame(drivers, "Value drivers per month")
    if result.cohorts.height:
        by_group = result.cohorts.select(
            "cohort", "driver", "improvement", "volume_share", "monthly_value", "monthly_low",
            "monthly_high",
        )  # fmt: skip
        print_frame(by_group, "Staggered rollout: what each group returns per month")
    s = result.summary
    out.print(
        f"ROI over {s['horizon_months']:.0f} months: {s['roi']:.2f} "
        f"(95% interval {_num(s['roi_low'])} to {_num(s['roi_high'])}; P(ROI > 0) = "
        f"{s['p_roi_positive']:.0%}). Benefits {s['benefits']:,.0f}, costs {s['costs']:,.0f}, "
        f"NPV {s['npv']:,.0f} ({_num(s['npv_low'], ',.0f')} to {_num(s['npv_high'], ',.0f')}), "
        f"payback month {_num(s['payback_month'], '.0f')} "
        f"({_num(s['payback_low'], '.0f')} to {_num(s['payback_high'], '.0f')}). "
        f"Run {result.run_id}."
    )


def rollout(project: ProjectOpt = Path("."), json: JsonOpt = False) -> None:
    """A staggered rollout (`kpi.rollout`: launch dates per group): each cohort's baseline
    before its own launch and its difference-in-differences against the groups not yet (or
    never) reached, the overall effect per KPI, and the event study (effect per month from
    launch). Stored in kpi.rollout under a new KPI run.

    With --json: an object with run_id, cohorts, overall and event_study (lists of rows)
    and notes.
    """
    import polars as pl

    from workbench.kpi.run import rollout as run_rollout

    loaded, store = project_and_store(project)
    with store, steps("Staggered rollout", None):
        result = run_rollout(loaded, store)
    cohorts = result.cohorts.drop("weight")
    if json:
        emit(
            {
                "run_id": result.run_id,
                "cohorts": cohorts,
                "overall": result.overall,
                "event_study": result.event_study,
                "notes": result.notes,
            },
            json=True,
        )
        return
    day = "%Y-%m-%d"
    shown = cohorts.select(
        "kpi",
        "cohort",
        pl.col("launch").dt.strftime(day),
        pl.col("post_end").dt.strftime(day).alias("window_end"),
        "controls",
        pl.col("treated_pre").alias("baseline"),
        "baseline_low",
        "baseline_high",
        pl.col("treated_post").alias("after"),
        "did",
        "ci_low",
        "ci_high",
    )
    print_frame(
        shown,
        f"Per cohort (run {result.run_id}): baseline before its launch and "
        "difference-in-differences (95% bootstrap intervals)",
    )
    print_frame(result.overall, "Overall: cohorts weighted by their post-launch data")
    print_frame(result.event_study, "Event study: effect per month from launch (0 = launch)")
    for why in result.notes:
        note(styled(f"Note: {why}.", "yellow"), json=json)


def _num(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def export_kpis(
    out_file: OutOpt,
    grain: GrainOpt = None,
    segment: SegmentOpt = None,
    project: ProjectOpt = Path("."),
) -> None:
    """KPI values as CSV: columns kpi, period, segment (all, or the segment's value), value."""
    from workbench.kpi.run import measure

    loaded, store = project_and_store(project)
    with store:
        _, values = measure(loaded, store, grain=_grain(grain, None), segment=segment)
    wrote_csv(values.frame.select("kpi", "period", "segment", "value"), out_file)


def register(app: typer.Typer) -> None:
    export_app.command("kpis")(export_kpis)
    app.add_typer(kpi_app, name="kpi")
    app.command()(baseline)
    app.command()(roi)
    app.command()(rollout)
