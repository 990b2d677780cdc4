"""Targets and their status: met, on track, off track or missed.

A target is absolute (``value``) or relative to the baseline level (``change: -0.3`` is 30%
below it), with an optional deadline ``within_days`` of launch. For the period evaluated:

- **met**: the KPI's value reaches the target (at or below it when lower is better);
- **on track**: not yet met, the deadline has not passed, and the value is at least as good
  as the straight path from the baseline at launch to the target at the deadline (without a
  deadline: better than the baseline);
- **missed**: not met, and the deadline is before the end of the period evaluated;
- **off track**: otherwise;
- **before launch**: the period evaluated ends before the launch, so the target is not in
  effect yet (its value is still shown: where the KPI stands against it);
- **no baseline to change from**: a relative target on a baseline of 0 (30% below or above
  nothing is nothing); an absolute ``value`` target says what is wanted.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from workbench.config.kpis import KpiDef, Target
from workbench.kpi.periods import step

BEFORE_LAUNCH = "before launch"
NO_BASELINE = "no baseline to change from"


def target_value(target: Target, baseline: float) -> float | None:
    """The target as a KPI value; None for a relative target on a baseline of 0 (or none)."""
    if target.value is not None:
        return target.value
    if not baseline or math.isnan(baseline):
        return None
    return baseline * (1 + (target.change or 0.0))


def status(
    kpi: KpiDef,
    target: Target,
    baseline: float,
    value: float,
    period_end: datetime,
    launch: date | None,
) -> tuple[str, float | None, datetime | None]:
    """Status of one KPI value against its target; also the target value (None when a
    relative target has no baseline to change from) and deadline."""
    goal = target_value(target, baseline)
    down = kpi.direction == "down"

    def at_least_as_good(a: float, b: float) -> bool:
        return a <= b if down else a >= b

    deadline = None
    if launch is not None and target.within_days is not None:
        deadline = datetime(launch.year, launch.month, launch.day) + timedelta(
            days=target.within_days
        )
    if goal is None:
        return NO_BASELINE, goal, deadline
    if launch is not None and period_end <= datetime(launch.year, launch.month, launch.day):
        return BEFORE_LAUNCH, goal, deadline
    if at_least_as_good(value, goal):
        return "met", goal, deadline
    if deadline is not None and launch is not None:
        if period_end > deadline:
            return "missed", goal, deadline
        start = datetime(launch.year, launch.month, launch.day)
        elapsed = (period_end - start) / (deadline - start)
        path = baseline + (goal - baseline) * min(max(elapsed, 0.0), 1.0)
        return ("on track" if at_least_as_good(value, path) else "off track"), goal, deadline
    better = value != baseline and at_least_as_good(value, baseline)
    return ("on track" if better else "off track"), goal, deadline


def statuses(
    kpis: dict[str, KpiDef],
    base: pl.DataFrame,
    values: pl.DataFrame,
    period: str | None,
    launch: date | None,
    *,
    latest: datetime | None,
) -> pl.DataFrame:
    """Target status of every KPI with a target and a baseline, for ``period`` (default:
    each KPI's latest period up to ``latest``, the latest period with validated data up to
    now, so that rows dated in the future never pick the period evaluated; none when
    ``latest`` is None), over the whole population."""
    rows = []
    for kpi_id, kpi in kpis.items():
        if kpi.target is None:
            continue
        b = base.filter((pl.col("kpi") == kpi_id) & (pl.col("segment") == "all"))
        v = values.filter((pl.col("kpi") == kpi_id) & (pl.col("segment") == "all"))
        if period is not None:
            v = v.filter(pl.col("period") == period)
        elif latest is None:
            continue
        else:
            v = v.filter(pl.col("period_start") <= latest)
        if b.is_empty() or v.is_empty():
            continue
        row = v.sort("period_start").row(-1, named=True)
        end = _period_end(values, row)
        state, goal, deadline = status(kpi, kpi.target, b["level"][0], row["value"], end, launch)
        rows.append(
            {
                "kpi": kpi_id,
                "period": row["period"],
                "baseline": b["level"][0],
                "value": row["value"],
                "target": goal,
                "deadline": deadline.date().isoformat() if deadline else None,
                "status": state,
            }
        )
    schema: dict[str, Any] = {
        "kpi": pl.String,
        "period": pl.String,
        "baseline": pl.Float64,
        "value": pl.Float64,
        "target": pl.Float64,
        "deadline": pl.String,
        "status": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def _period_end(values: pl.DataFrame, row: dict) -> datetime:
    return row["period_start"] + step(values["grain"][0])
