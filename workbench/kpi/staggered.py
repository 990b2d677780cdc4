"""Staggered rollout: the integration reached groups at different dates (EMEA first, others
later), so each group (a *cohort*) has its own launch, baseline and effect.

For each cohort ``g`` launched on ``L_g`` and each KPI (Callaway and Sant'Anna's design with
not-yet-treated controls, on window levels instead of regressions):

- the baseline is the ``baseline_months`` before ``L_g``;
- the post window runs from ``L_g`` to the next later cohort's launch (or to the end of the
  data), so that every control stays untreated throughout it;
- the controls are the groups never in the rollout and the cohorts launched at or after the
  end of that post window, pooled (rows and shares pooled; period values averaged over the
  groups' periods);
- ``DiD_g = (treated post - treated pre) - (control post - control pre)`` with a 95%
  bootstrap interval, each of the four levels resampled independently (as
  :mod:`workbench.kpi.did`).

The overall effect of a KPI is the average of its cohorts' DiDs weighted by the size of
their post windows (rows, or periods), its replicates combined the same way. A cohort with
no control left (the last one, when every group is in the rollout) has no estimate, and
says so. The event study gives, per month relative to each cohort's launch, the change of
the treated-minus-control gap against the month before launch, averaged over cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from workbench.config.kpis import KpiDef
from workbench.kpi import bootstrap
from workbench.kpi.periods import step
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


def pool(parts: list[Sample]) -> Sample | None:
    """The samples of several control groups as one (see the module doc)."""
    parts = [p for p in parts if p.size > 0]
    if not parts:
        return None
    first = parts[0]
    if first.kind == "rate":
        return Sample("rate", first.stat, np.empty(0), sum(p.successes for p in parts),
                      sum(p.n for p in parts))  # fmt: skip
    return Sample(first.kind, first.stat, np.concatenate([p.values for p in parts]), q=first.q)


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
    groups = set(values["segment"].drop_nulls().to_list()) - {"all"}
    rows: list[dict[str, Any]] = []
    cohort_draws: dict[str, list[tuple[float, np.ndarray, float]]] = {}
    notes: list[str] = []
    for kpi_id, kpi in kpis.items():
        mine = values.filter(pl.col("kpi") == kpi_id)
        for c in order:
            end = min([d.launch for d in order if d.launch > c.launch] + [until])
            controls = sorted(
                (groups - {d.value for d in order}) | {d.value for d in order if d.launch >= end}
            )
            if not controls:
                notes.append(
                    f"{kpi_id}, cohort {c.value}: no group stays untreated after its launch"
                )
                continue
            pre_start = c.launch - step("month", baseline_months)
            pre = samples(store, kpi, mine, pre_start, c.launch, column)
            post = samples(store, kpi, mine, c.launch, end, column)
            t0, t1 = pre.get(c.value), post.get(c.value)
            c0 = pool([pre[v] for v in controls if v in pre])
            c1 = pool([post[v] for v in controls if v in post])
            if t0 is None or t1 is None or c0 is None or c1 is None:
                continue
            cells = (t0, t1, c0, c1)
            if min(s.size for s in cells) == 0:
                continue
            reps = [
                s.replicates(n_samples, bootstrap.rng_for(seed, "staggered", kpi_id, c.value, n))
                for s, n in zip(cells, ("t0", "t1", "c0", "c1"), strict=True)
            ]
            replicates = (reps[1] - reps[0]) - (reps[3] - reps[2])
            estimate = (t1.level() - t0.level()) - (c1.level() - c0.level())
            low, high = bootstrap.interval(replicates)
            cohort_draws.setdefault(kpi_id, []).append((estimate, replicates, float(t1.size)))
            rows.append(
                {
                    "kpi": kpi_id,
                    "cohort": c.value,
                    "launch": c.launch,
                    "post_end": end,
                    "controls": ", ".join(controls),
                    "treated_pre": t0.level(),
                    "treated_post": t1.level(),
                    "control_pre": c0.level(),
                    "control_post": c1.level(),
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
        replicates = sum(s * r for s, (_, r, _) in zip(share, parts, strict=True))
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
    groups = set(values["segment"].drop_nulls().to_list()) - {"all"}
    order = sorted(cohorts, key=lambda c: c.launch)
    found: list[dict[str, Any]] = []
    for c in order:
        end = min([d.launch for d in order if d.launch > c.launch] + [until])
        controls = (groups - {d.value for d in order}) | {d.value for d in order if d.launch >= end}
        if not controls:
            continue
        start = c.launch - step("month", months)
        window = values.filter((pl.col("period_start") >= start) & (pl.col("period_start") < end))
        treated = window.filter(pl.col("segment") == c.value).select(
            "kpi", "period_start", pl.col("value").alias("t")
        )
        control = (
            window.filter(pl.col("segment").is_in(sorted(controls)))
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
    "treated_post": pl.Float64,
    "control_pre": pl.Float64,
    "control_post": pl.Float64,
    "did": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "weight": pl.Float64,
}
