"""Canary vs control: the difference-in-differences of each KPI around the launch.

``DiD = (treated post - treated pre) - (control post - control pre)``, each of the four
levels formed as in a baseline (:mod:`workbench.kpi.samples`) and resampled independently
for a 95% bootstrap interval. Before trusting it, the parallel-trend check fits a line to
the pre-launch gap ``treated - control`` per period: a slope clearly different from zero
(|t| above the 97.5% point of Student's t) means the groups were already drifting apart,
and the DiD is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from workbench.config.kpis import KpiDef
from workbench.kpi import bootstrap
from workbench.kpi.baseline import window
from workbench.kpi.periods import whole_periods
from workbench.kpi.samples import samples
from workbench.store import Store


def t975(df: int) -> float:
    """The 97.5% point of Student's t with ``df`` degrees of freedom (scipy's exact value:
    a DiD on daily or weekly periods has far more than 30, where 1.96 is not close enough
    for a small sample and not needed for a large one)."""
    from scipy.stats import t as student_t  # scipy.stats takes a while to import

    return float(student_t.ppf(0.975, df))


# The columns a reader needs to follow a DiD: the four cells, the estimate, its interval and
# whether the pre-launch trends looked parallel.
SUMMARY_COLUMNS = ("kpi", "treated_pre", "treated_post", "control_pre", "control_post", "did",
                   "ci_low", "ci_high", "parallel")  # fmt: skip


@dataclass(frozen=True)
class Windows:
    """The pre-launch and post-launch periods compared, ``[start, end)`` each."""

    pre_start: datetime
    launch: datetime
    post_end: datetime


def windows_around(launch: datetime, months: int, until: datetime) -> Windows:
    """The ``months`` whole months before the month of ``launch`` (as a baseline's window),
    then from the launch to ``until``. A launch on the 15th leaves its month on neither side
    for KPIs per period (see :func:`~workbench.kpi.periods.whole_periods`)."""
    return Windows(window(launch, months)[0], launch, until)


def trend_check(gaps: list[float]) -> tuple[float | None, float | None, bool | None]:
    """Slope per period of the pre-launch gap, its t statistic, and whether trends look
    parallel (None when fewer than three periods)."""
    y = np.asarray(gaps, dtype=float)
    if y.size < 3:
        return None, None, None
    x = np.arange(y.size, dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    sxx = float(((x - x.mean()) ** 2).sum())
    se = float(np.sqrt((resid**2).sum() / (y.size - 2) / sxx))
    if se == 0:
        return float(slope), None, bool(slope == 0)
    t = float(slope / se)
    return float(slope), t, abs(t) <= t975(y.size - 2)


def did(
    store: Store,
    kpis: dict[str, KpiDef],
    values: pl.DataFrame,
    windows: Windows,
    *,
    treated: str,
    control: str,
    column: str,
    n_samples: int = 2000,
    seed: int = 42,
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """The DiD of every KPI with data in all four cells.

    Args:
        values: KPI values per period broken down by ``column`` (the treatment field).
        treated, control: the values of ``column`` that mark the two groups.
    Returns:
        one row per KPI (levels of the four cells, ``did``, ``ci_low``, ``ci_high``,
        ``p_opposite`` = share of replicates with the other sign, the pre-trend slope, t and
        ``parallel``), and each KPI's DiD replicates (for the ROI simulation).
    """
    rows, draws = [], {}
    for kpi_id, kpi in kpis.items():
        mine = values.filter(pl.col("kpi") == kpi_id)
        pre = samples(store, kpi, mine, windows.pre_start, windows.launch, column)
        post = samples(store, kpi, mine, windows.launch, windows.post_end, column)
        cells = [pre.get(treated), post.get(treated), pre.get(control), post.get(control)]
        present = [c for c in cells if c is not None and c.size > 0]
        if len(present) < 4:
            continue
        t0, t1, c0, c1 = present
        reps = [
            c.replicates(n_samples, bootstrap.rng_for(seed, "did", kpi_id, name))
            for c, name in zip(present, ("t0", "t1", "c0", "c1"), strict=True)
        ]
        replicates = (reps[1] - reps[0]) - (reps[3] - reps[2])
        estimate = (t1.level() - t0.level()) - (c1.level() - c0.level())
        low, high = bootstrap.interval(replicates)
        gaps = _pre_gaps(mine, windows, treated, control)
        slope, t_stat, parallel = trend_check(gaps)
        opposite = float(np.mean(np.sign(replicates) != np.sign(estimate))) if estimate else 0.5
        draws[kpi_id] = replicates
        rows.append(
            {
                "kpi": kpi_id,
                "treated_pre": t0.level(),
                "treated_post": t1.level(),
                "control_pre": c0.level(),
                "control_post": c1.level(),
                "did": estimate,
                "ci_low": low,
                "ci_high": high,
                "relative": estimate / c0.level() if c0.level() else None,
                "p_opposite": opposite,
                "pre_slope": slope,
                "pre_t": t_stat,
                "parallel": parallel,
            }
        )
    return pl.DataFrame(rows, schema=_SCHEMA), draws


def _pre_gaps(values: pl.DataFrame, w: Windows, treated: str, control: str) -> list[float]:
    pre = whole_periods(values, w.pre_start, w.launch)
    wide = pre.pivot(on="segment", index="period_start", values="value").sort("period_start")
    if treated not in wide.columns or control not in wide.columns:
        return []
    gaps = (wide[treated] - wide[control]).drop_nulls()
    return gaps.to_list()


_SCHEMA: dict[str, Any] = {
    "kpi": pl.String,
    "treated_pre": pl.Float64,
    "treated_post": pl.Float64,
    "control_pre": pl.Float64,
    "control_post": pl.Float64,
    "did": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "relative": pl.Float64,
    "p_opposite": pl.Float64,
    "pre_slope": pl.Float64,
    "pre_t": pl.Float64,
    "parallel": pl.Boolean,
}
