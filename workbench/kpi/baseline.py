"""Baselines: each KPI's level over a window with a 95% bootstrap interval, XmR limits, and
the later periods whose values signal a real shift.

The level of a window is defined per kind (:mod:`workbench.kpi.samples`): the pooled
statistic for medians and shares, the mean period value for per-period quantities.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl

from workbench.config.kpis import KpiDef, Stat
from workbench.formatting import MONEY_UNITS, SHARE_UNITS
from workbench.kpi import bootstrap, control
from workbench.kpi.periods import step, whole_periods
from workbench.kpi.samples import samples
from workbench.store import Store

COLUMNS: dict[str, Any] = {
    "kpi": pl.String,
    "segment_by": pl.String,
    "segment": pl.String,
    "window_start": pl.Datetime("us"),
    "window_end": pl.Datetime("us"),
    "level": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "basis": pl.String,
    "size": pl.Int64,
    "periods": pl.Int64,
    "centre": pl.Float64,
    "lcl": pl.Float64,
    "ucl": pl.Float64,
}


# KPIs that cannot go below zero: shares and counts by their statistic; by their unit,
# shares, durations and money amounts (a KPI's unit: workbench/packs/*/kpis.yaml)
NONNEGATIVE_STATS = frozenset(
    {Stat.RATE, Stat.CHURN, Stat.MISSING_MANDATORY, Stat.DUPLICATE_RATE, Stat.COUNT}
)
DURATION_UNITS = frozenset({"ms", "milliseconds", "seconds", "minutes", "hours", "days", "weeks"})


def never_negative(kpi: KpiDef) -> bool:
    """Whether a KPI's values cannot be negative (its control limits' natural floor is 0)."""
    unit = kpi.unit.strip().lower()
    return (
        kpi.stat in NONNEGATIVE_STATS
        or unit in SHARE_UNITS
        or unit in MONEY_UNITS
        or unit in DURATION_UNITS
    )


def floor(kpi: KpiDef, values: pl.Series) -> float | None:
    """0 for a KPI that cannot be negative, by its kind (:func:`never_negative`) and by its
    values: a duration or money KPI of one's own may be a difference (lateness, net
    revenue), and one negative value says so."""
    return 0.0 if never_negative(kpi) and not (values.drop_nulls() < 0).any() else None


def window(launch: date, months: int) -> tuple[datetime, datetime]:
    """The ``months`` whole months before the month of ``launch`` (UTC, ``[start, end)``)."""
    end = datetime(launch.year, launch.month, 1)
    return end - step("month", months), end


def default_window(
    latest: datetime | None, launch: date | None, months: int, partial: bool = False
) -> tuple[datetime, datetime]:
    """The configured baseline window, or the ``months`` months up to and including the
    month of ``latest`` (the latest period with validated data up to now,
    :attr:`workbench.kpi.compute.KpiValues.latest`: a row dated in the future or a
    quarantined row never moves the window).

    When that month is ``partial`` (the data stops short of its end:
    :attr:`~workbench.kpi.compute.KpiValues.latest_partial`) it is left out: its leads are
    not all answered or converted yet, and would bias the levels. The window then ends
    before it: a month earlier, or, before a launch, shorter by that month."""
    last = latest or datetime(2000, 1, 1)
    month = datetime(last.year, last.month, 1)
    if launch is not None:
        start, end = window(launch, months)
        return (start, month) if partial and start < month < end else (start, end)
    end = month if partial else month + step("month")
    return end - step("month", months), end


def partial_note(latest: datetime | None, newest: datetime | None, end: datetime) -> str:
    """What to say of a latest month the data stops short of: its values are not final;
    and, when the baseline window (ending at ``end``) ends where that month begins, that it
    is left out."""
    if latest is None or newest is None:
        return ""
    month = datetime(latest.year, latest.month, 1)
    left_out = " The baseline window ends before it." if end == month else ""
    return (
        f"The data ends on {newest:%d %b %Y} (the newest validated record): {month:%b %Y} is "
        "not complete, and its values are not final (leads not yet answered or converted, "
        f"tickets not yet solved).{left_out}"
    )


def baselines(
    store: Store,
    kpis: dict[str, KpiDef],
    values: pl.DataFrame,
    start: datetime,
    end: datetime,
    *,
    segment: str | None = None,
    n_samples: int = 2000,
    seed: int = 42,
) -> pl.DataFrame:
    """Every KPI's baseline over ``[start, end)``, for ``all`` and each segment value.

    Args:
        values: KPI values per period (:func:`workbench.kpi.compute.compute`) broken down
            by ``segment`` (or not).
    Returns:
        one row per KPI and segment: level, 95% bootstrap interval (``ci_low``,
        ``ci_high``), what the level rests on (``basis``, ``size``), the number of baseline
        periods and the XmR centre and limits of the period values.
    """
    rows = []
    segment_by = segment or "all"
    for kpi_id, kpi in kpis.items():
        mine = values.filter(pl.col("kpi") == kpi_id)
        for seg, sample in sorted(samples(store, kpi, mine, start, end, segment).items()):
            rng = bootstrap.rng_for(seed, "baseline", kpi_id, seg)
            low, high = bootstrap.interval(sample.replicates(n_samples, rng))
            series = _series(mine, seg, start, end)
            lim = control.limits(series, floor=floor(kpi, mine["value"]))
            rows.append(
                {
                    "kpi": kpi_id,
                    "segment_by": segment_by,
                    "segment": seg,
                    "window_start": start,
                    "window_end": end,
                    "level": sample.level(),
                    "ci_low": low,
                    "ci_high": high,
                    "basis": sample.kind,
                    "size": sample.size,
                    "periods": len(series),
                    "centre": lim.centre if lim else None,
                    "lcl": lim.lower if lim else None,
                    "ucl": lim.upper if lim else None,
                }
            )
    frame = pl.DataFrame(rows, schema=COLUMNS)
    return frame.filter(pl.col("level").is_not_nan())


def _series(values: pl.DataFrame, segment: str, start: datetime, end: datetime) -> list[float]:
    part = whole_periods(values.filter(pl.col("segment") == segment), start, end)
    part = part.sort("period_start")
    return part["value"].to_list()


def signals(values: pl.DataFrame, base: pl.DataFrame) -> pl.DataFrame:
    """Periods after each baseline whose value breaks a run rule (:mod:`.control`).

    Returns one row per KPI, segment and later period: its value, the limits and the rules
    it triggers (empty list when none: ordinary variation).
    """
    out = []
    for b in base.filter(pl.col("centre").is_not_null()).iter_rows(named=True):
        lim = control.Limits(b["centre"], (b["ucl"] - b["centre"]) / control.E2, b["lcl"], b["ucl"])
        series = values.filter(
            (pl.col("kpi") == b["kpi"])
            & (pl.col("segment") == b["segment"])
            & (pl.col("period_start") >= b["window_start"])
        ).sort("period_start")
        flags = control.signals(series["value"].to_list(), lim)
        for row, rules in zip(series.iter_rows(named=True), flags, strict=True):
            if row["period_start"] < b["window_end"]:
                continue
            out.append(
                {
                    "kpi": b["kpi"],
                    "segment": b["segment"],
                    "period": row["period"],
                    "period_start": row["period_start"],
                    "value": row["value"],
                    "lcl": b["lcl"],
                    "ucl": b["ucl"],
                    "rules": ", ".join(rules),
                    "shift": bool(rules),
                }
            )
    schema: dict[str, Any] = {
        "kpi": pl.String,
        "segment": pl.String,
        "period": pl.String,
        "period_start": pl.Datetime("us"),
        "value": pl.Float64,
        "lcl": pl.Float64,
        "ucl": pl.Float64,
        "rules": pl.String,
        "shift": pl.Boolean,
    }
    return pl.DataFrame(out, schema=schema)
