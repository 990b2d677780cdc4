"""Staggered rollout: the integration reached groups at different dates (EMEA first, others
later), so each group (a *cohort*) has its own launch, baseline and effect.

For each cohort ``g`` launched on ``L_g`` and each KPI (Callaway and Sant'Anna's design with
not-yet-treated controls, on window levels instead of regressions):

- the baseline is the ``baseline_months`` before ``L_g``;
- the post window runs from ``L_g`` to the next later cohort's launch (or to the end of the
  data), so that every control stays untreated throughout it;
- the controls are the groups never in the rollout and the cohorts launched at or after the
  end of that post window; rows without a value of the rollout field belong to no group;
- the cohort's baseline is its level over the ``baseline_months`` before ``L_g``
  (``treated_pre``), with a 95% bootstrap interval;
- ``DiD_g = (treated post - treated pre) - control change``, where the control change is
  the average of each control group's own change (post level - pre level) weighted by its
  baseline size, so that a control group growing or shrinking does not move it; a 95%
  bootstrap interval, each group's levels resampled independently (as
  :mod:`workbench.kpi.did`).

The overall effect of a KPI is the average of its cohorts' DiDs weighted by the size of
their post windows (rows, or periods). The cohorts share data (a not-yet-treated cohort's
baseline is an earlier cohort's control), so their errors are not independent: the overall
interval combines the cohorts' replicates in rank order (the weighted sum of their
quantiles), the widest any dependence between them allows, never too narrow. A cohort with
no control left (the last one, when every group is in the rollout) has no estimate, and
says so. The event study gives, per month relative to each cohort's launch, the change of
the treated-minus-control gap against the month before launch, averaged over cohorts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import numpy as np
import polars as pl

from workbench.config.kpis import KpiDef
from workbench.kpi import bootstrap, sql
from workbench.kpi.baseline import window
from workbench.kpi.periods import whole_periods
from workbench.kpi.samples import Sample, samples
from workbench.store import Store


@dataclass(frozen=True)
class Cohort:
    """A group of the rollout field and the day the integration reached it."""

    value: str
    launch: datetime


@dataclass
class StaggeredResult:
    """Per cohort and KPI the DiD; per KPI the weighted overall effect; the event study."""

    cohorts: pl.DataFrame
    overall: pl.DataFrame
    event_study: pl.DataFrame
    draws: dict[str, np.ndarray] = field(default_factory=dict)  # overall replicates per KPI
    notes: list[str] = field(default_factory=list)
    run_id: int = 0  # the KPI run it is stored under (0: not stored)


def control_change(
    pre: dict[str, Sample],
    post: dict[str, Sample],
    controls: list[str],
    n_samples: int,
    rng_of: Callable[[str], np.random.Generator],
) -> tuple[float, float, float, np.ndarray] | None:
    """The control groups' change (see the module doc): their weighted pre and post levels,
    the weighted change and its replicates; None without a group measured on both sides."""
    both = [v for v in controls if v in pre and v in post and min(pre[v].size, post[v].size)]
    if not both:
        return None
    weights = np.array([float(pre[v].size) for v in both])
    share = weights / weights.sum()
    levels_pre = np.array([pre[v].level() for v in both])
    levels_post = np.array([post[v].level() for v in both])
    replicates = sum(
        w * (post[v].replicates(n_samples, rng_of(f"{v}:1"))
             - pre[v].replicates(n_samples, rng_of(f"{v}:0")))
        for w, v in zip(share, both, strict=True)
    )  # fmt: skip
    assert isinstance(replicates, np.ndarray)
    return (
        float(share @ levels_pre),
        float(share @ levels_post),
        float(share @ (levels_post - levels_pre)),
        replicates,
    )


def comparison_of(
    cohort: Cohort, cohorts: list[Cohort], groups: set[str], until: datetime
) -> tuple[datetime, list[str]]:
    """A cohort's post-window end (the next later launch, or ``until``) and its controls:
    the groups never in the rollout and the cohorts launched at or after that end."""
    end = min([d.launch for d in cohorts if d.launch > cohort.launch] + [until])
    launched = {d.value for d in cohorts}
    later = {d.value for d in cohorts if d.launch >= end}
    return end, sorted((groups - launched) | later)


def rollout_groups(values: pl.DataFrame) -> set[str]:
    """The groups of the rollout field in KPI values broken down by it (not ``all``, and not
    the rows without a value, which belong to no group)."""
    return set(values["segment"].drop_nulls().to_list()) - {sql.ALL, sql.NO_VALUE}


def staggered(
    store: Store,
    kpis: dict[str, KpiDef],
    values: pl.DataFrame,
    cohorts: list[Cohort],
    *,
    column: str,
    baseline_months: int,
    until: datetime,
    n_samples: int = 2000,
    seed: int = 42,
) -> StaggeredResult:
    """The staggered DiD of every KPI (see the module doc).

    Args:
        values: KPI values per period broken down by ``column`` (the rollout field).
        cohorts: the rollout's groups and launches; other values of ``column`` are never
            treated.
        until: the end of the data (exclusive): the last cohort's post window ends there.
    """
    order = sorted(cohorts, key=lambda c: c.launch)
    groups = rollout_groups(values)
    rows: list[dict[str, Any]] = []
    cohort_draws: dict[str, list[tuple[float, np.ndarray, float]]] = {}
    notes: list[str] = []
    for c in order:
        if c.launch >= until:
            notes.append(
                f"cohort {c.value} launches {c.launch:%Y-%m-%d}, when the measured data has "
                f"ended ({until:%Y-%m-%d}): no period after its launch to compare"
            )
    for kpi_id, kpi in kpis.items():
        mine = values.filter(pl.col("kpi") == kpi_id)
        for c in order:
            end, controls = comparison_of(c, order, groups, until)
            if not controls:
                notes.append(
                    f"{kpi_id}, cohort {c.value}: no group stays untreated after its launch"
                )
                continue
            pre_start, _ = window(c.launch, baseline_months)
            pre = samples(store, kpi, mine, pre_start, c.launch, column)
            post = samples(store, kpi, mine, c.launch, end, column)
            t0, t1 = pre.get(c.value), post.get(c.value)
            if t0 is None or t1 is None or min(t0.size, t1.size) == 0:
                continue
            key = (seed, "staggered", kpi_id, c.value)
            rng_of = partial(bootstrap.rng_for, *key)
            ctl = control_change(pre, post, controls, n_samples, rng_of)
            if ctl is None:
                continue
            c_pre, c_post, c_change, c_reps = ctl
            baseline = t0.replicates(n_samples, bootstrap.rng_for(*key, "t0"))
            replicates = t1.replicates(n_samples, bootstrap.rng_for(*key, "t1")) - baseline - c_reps
            estimate = (t1.level() - t0.level()) - c_change
            low, high = bootstrap.interval(replicates)
            base_low, base_high = bootstrap.interval(baseline)
            cohort_draws.setdefault(kpi_id, []).append((estimate, replicates, float(t1.size)))
            rows.append(
                {
                    "kpi": kpi_id,
                    "cohort": c.value,
                    "launch": c.launch,
                    "post_end": end,
                    "controls": ", ".join(controls),
                    "treated_pre": t0.level(),
                    "baseline_low": base_low,
                    "baseline_high": base_high,
                    "baseline_size": t0.size,
                    "treated_post": t1.level(),
                    "control_pre": c_pre,
                    "control_post": c_post,
                    "did": estimate,
                    "ci_low": low,
                    "ci_high": high,
                    "weight": float(t1.size),
                }
            )
    overall, draws = _overall(cohort_draws)
    study = event_study(values, order, column=column, months=baseline_months, until=until)
    return StaggeredResult(pl.DataFrame(rows, schema=_COHORT_SCHEMA), overall, study, draws, notes)


def _overall(
    found: dict[str, list[tuple[float, np.ndarray, float]]],
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """Per KPI the cohorts' DiDs averaged with their weights, and the replicates alike."""
    rows, draws = [], {}
    for kpi_id, parts in found.items():
        weights = np.array([w for _, _, w in parts])
        share = weights / weights.sum()
        estimate = float(sum(s * e for s, (e, _, _) in zip(share, parts, strict=True)))
        # in rank order: the weighted sum of the cohorts' quantiles (see the module doc)
        replicates = sum(s * np.sort(r) for s, (_, r, _) in zip(share, parts, strict=True))
        assert isinstance(replicates, np.ndarray)
        low, high = bootstrap.interval(replicates)
        draws[kpi_id] = replicates
        rows.append({"kpi": kpi_id, "did": estimate, "ci_low": low, "ci_high": high,
                     "cohorts": len(parts)})  # fmt: skip
    schema = {"kpi": pl.String, "did": pl.Float64, "ci_low": pl.Float64,
              "ci_high": pl.Float64, "cohorts": pl.Int64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema), draws


def event_study(
    values: pl.DataFrame, cohorts: list[Cohort], *, column: str, months: int, until: datetime
) -> pl.DataFrame:
    """Per KPI and month relative to launch (``-months`` .. last), the treated-minus-control
    gap less the gap of the month before launch, averaged over the cohorts that have both
    (controls as in :func:`staggered`: never-treated and not-yet-treated groups, their
    period values averaged). Point estimates; monthly values only."""
    groups = rollout_groups(values)
    order = sorted(cohorts, key=lambda c: c.launch)
    found: list[dict[str, Any]] = []
    for c in order:
        end, controls = comparison_of(c, order, groups, until)
        if not controls:
            continue
        # whole months on either side: a launch on the 15th leaves its month (event time 0) out
        start, _ = window(c.launch, months)
        around = pl.concat(
            [whole_periods(values, start, c.launch), whole_periods(values, c.launch, end)]
        )
        treated = around.filter(pl.col("segment") == c.value).select(
            "kpi", "period_start", pl.col("value").alias("t")
        )
        control = (
            around.filter(pl.col("segment").is_in(sorted(controls)))
            .group_by("kpi", "period_start")
            .agg(pl.col("value").mean().alias("c"))
        )
        gap = treated.join(control, on=["kpi", "period_start"]).with_columns(
            gap=pl.col("t") - pl.col("c"),
            event_time=(pl.col("period_start").dt.year() - c.launch.year) * 12
            + pl.col("period_start").dt.month().cast(pl.Int64)
            - c.launch.month,
        )
        base = gap.filter(pl.col("event_time") == -1).select("kpi", pl.col("gap").alias("g0"))
        rel = gap.join(base, on="kpi").with_columns(effect=pl.col("gap") - pl.col("g0"))
        found += (
            rel.select("kpi", "event_time", "effect")
            .with_columns(pl.lit(c.value).alias("cohort"))
            .to_dicts()
        )
    schema = {"kpi": pl.String, "event_time": pl.Int64, "effect": pl.Float64,
              "cohort": pl.String}  # fmt: skip
    frame = pl.DataFrame(found, schema=schema)
    return (
        frame.group_by("kpi", "event_time")
        .agg(pl.col("effect").mean(), pl.col("cohort").n_unique().alias("cohorts"))
        .sort("kpi", "event_time")
    )


_COHORT_SCHEMA: dict[str, Any] = {
    "kpi": pl.String,
    "cohort": pl.String,
    "launch": pl.Datetime,
    "post_end": pl.Datetime,
    "controls": pl.String,
    "treated_pre": pl.Float64,
    "baseline_low": pl.Float64,
    "baseline_high": pl.Float64,
    "baseline_size": pl.Int64,
    "treated_post": pl.Float64,
    "control_pre": pl.Float64,
    "control_post": pl.Float64,
    "did": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "weight": pl.Float64,
}
