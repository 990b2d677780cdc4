"""What each cohort of a staggered rollout (``kpi.rollout``) returns, driver by driver.

A value driver of ``roi.yaml`` prices one KPI's improvement: ``improvement x value per
unit``, where the value per unit is the rest of its formula (for ``conversion_uplift``,
leads_per_month x won_deal_value x win_rate). Per cohort ``g`` of the rollout:

- the improvement is the cohort's own difference-in-differences
  (:mod:`workbench.kpi.staggered`), turned so that positive = better, with its interval;
- the volume share is the cohort's part of the KPI's monthly volume in the baseline
  window (the rows or distinct ``per`` values :func:`workbench.roi.inputs.kpi_volume`
  counts, of the cohort over all groups, in the window the driver's volumes were measured
  in: the months before ``kpi.launch_date``); 1 for count and sum KPIs priced by
  ``kpi_change``, whose cohort DiD is already a change of the cohort's own monthly total
  (other drivers of such KPIs price the whole population, so they are not split);
- ``monthly value = improvement x value per unit x volume share``, its interval the
  improvement's interval priced alike.

The sum over cohorts is what the groups reached so far return per month at full effect.
Drivers without a KPI (hours saved), KPIs without a cohort estimate and KPIs whose volume
cannot be measured are not split.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from workbench.config.kpis import KpiDef
from workbench.kpi.staggered import StaggeredResult
from workbench.roi import inputs
from workbench.roi.model import DriverValue
from workbench.store import Store

SCHEMA: dict[str, Any] = {
    "driver": pl.String,
    "kpi": pl.String,
    "cohort": pl.String,
    "launch": pl.Datetime,
    "improvement": pl.Float64,
    "improvement_low": pl.Float64,
    "improvement_high": pl.Float64,
    "volume_share": pl.Float64,
    "value_per_unit": pl.Float64,
    "monthly_value": pl.Float64,
    "monthly_low": pl.Float64,
    "monthly_high": pl.Float64,
}


def cohort_values(
    drivers: list[DriverValue],
    rollout: StaggeredResult,
    kpis: dict[str, KpiDef],
    store: Store,
    *,
    column: str,
    start: datetime,
    end: datetime,
) -> pl.DataFrame:
    """One row per driver and cohort with an estimate (see the module doc); ``[start,
    end)`` is the baseline window whose volumes the drivers were priced on."""
    rows: list[dict[str, Any]] = []
    for d in drivers:
        if d.kpi is None or d.per_unit is None or d.kpi not in kpis:
            continue
        kdef = kpis[d.kpi]
        estimates = rollout.cohorts.filter(pl.col("kpi") == d.kpi)
        if estimates.is_empty() or not inputs.volume_measurable(kdef):
            continue
        total = inputs.is_total(kdef)
        if total and d.type != "kpi_change":  # its price counts the whole population
            continue
        whole = 0.0 if total else inputs.kpi_volume(store, kdef, d.kpi, start, end)
        sign = -1.0 if kdef.direction == "down" else 1.0
        for r in estimates.iter_rows(named=True):
            group = (column, r["cohort"])
            part = 0.0 if total else inputs.kpi_volume(store, kdef, d.kpi, start, end, group)
            share = 1.0 if total else part / whole if whole else 0.0
            low, high = sorted((sign * r["ci_low"], sign * r["ci_high"]))
            price = d.per_unit * share
            rows.append(
                {
                    "driver": d.name,
                    "kpi": d.kpi,
                    "cohort": r["cohort"],
                    "launch": r["launch"],
                    "improvement": sign * r["did"],
                    "improvement_low": low,
                    "improvement_high": high,
                    "volume_share": share,
                    "value_per_unit": d.per_unit,
                    "monthly_value": sign * r["did"] * price,
                    "monthly_low": min(low * price, high * price),
                    "monthly_high": max(low * price, high * price),
                }
            )
    return pl.DataFrame(rows, schema=SCHEMA)
