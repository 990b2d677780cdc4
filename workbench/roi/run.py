"""The ROI stage: KPI changes from canary vs control, priced by ``roi.yaml``, over time.

:func:`roi` runs the comparison (:func:`workbench.kpi.run.compare`), turns each value
driver into money per month with its simulation draws, computes ROI, payback and NPV with
intervals, and stores drivers, cash flows and the summary in ``roi.*`` under one run id.
With a staggered rollout (``kpi.rollout``) it also prices each cohort's own effect
(:mod:`workbench.roi.cohorts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import polars as pl

from workbench.config import Project
from workbench.config.kpis import KpiDef
from workbench.errors import ConfigError
from workbench.formatting import number_text
from workbench.kpi import bootstrap
from workbench.kpi.run import Comparison, baseline, compare, rollout
from workbench.kpi.staggered import StaggeredResult
from workbench.packs import Volume
from workbench.roi import inputs
from workbench.roi.cohorts import SCHEMA as COHORT_SCHEMA
from workbench.roi.cohorts import cohort_values
from workbench.roi.config import (
    ROI_FILE,
    ChurnReduction,
    ConversionUplift,
    Driver,
    FailureReduction,
    HoursSaved,
    KpiChange,
    RoiConfig,
    load_roi,
)
from workbench.roi.model import (
    DriverValue,
    benefit_matrix,
    cash_flows,
    outcome,
    point_benefits,
)
from workbench.schema import ROI_RUNS, next_id
from workbench.store import Store


@dataclass
class RoiResult:
    """What the integration returned: summary, drivers, cash flows, the comparison used."""

    run_id: int
    summary: dict[str, float | None]
    drivers: pl.DataFrame
    flows: pl.DataFrame
    comparison: Comparison
    left_out: list[str] = field(default_factory=list)  # why each driver left out is
    rollout: StaggeredResult | None = None  # with kpi.rollout: each cohort's DiD
    cohorts: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=COHORT_SCHEMA))
    rollout_problem: str | None = None  # why kpi.rollout could not be measured


def roi(
    project: Project, store: Store, config: RoiConfig | None = None, *, record: bool = True
) -> RoiResult:
    """Compute and store the ROI of the integration (see :mod:`workbench.roi.model`).

    With ``record=False`` nothing is written (for reports on a read-only warehouse).
    """
    cfg = config or load_roi(project.root)
    kcfg = project.config.kpi
    comparison = compare(project, store, record=record)
    n = kcfg.bootstrap_samples
    start, end = comparison.windows.pre_start, comparison.windows.launch
    kpis = project.kpis()
    sources = project.pack.roi
    used, left_out = _applicable(cfg, kpis, store)
    levels = _baseline_levels(project, store, kpis, used, start, end)
    drivers = [
        _driver(
            d, comparison, kpis, store, start, end, n, kcfg.seed, kcfg.gross_margin, sources, levels
        )
        for d in used
    ]
    one_time = sum(c.amount for c in cfg.costs.one_time)
    recurring = sum(c.amount_per_month for c in cfg.costs.recurring)
    h, r = cfg.horizon_months, cfg.discount_rate
    point = outcome(point_benefits(drivers, h), one_time, recurring, r)
    sims = outcome(benefit_matrix(drivers, h, n), one_time, recurring, r)
    flows = cash_flows(drivers, one_time, recurring, h, r)
    summary = _summary(point, sims, one_time, recurring, h, r)
    summary["drivers_left_out"] = float(len(left_out))
    table = pl.DataFrame(
        [
            {
                "driver": d.name,
                "type": d.type,
                "kpi": d.kpi,
                "formula": d.formula,
                "inputs": ", ".join(f"{k}={_fmt(v)}" for k, v in d.inputs.items()),
                "monthly_value": d.monthly,
                "monthly_low": float(np.percentile(d.draws, 2.5)),
                "monthly_high": float(np.percentile(d.draws, 97.5)),
                "ramp_months": d.ramp_months,
            }
            for d in drivers
        ],
        schema={
            "driver": pl.String,
            "type": pl.String,
            "kpi": pl.String,
            "formula": pl.String,
            "inputs": pl.String,
            "monthly_value": pl.Float64,
            "monthly_low": pl.Float64,
            "monthly_high": pl.Float64,
            "ramp_months": pl.Int64,
        },
    )
    staged, cohorts, problem = None, pl.DataFrame(schema=COHORT_SCHEMA), None
    if kcfg.rollout is not None:
        measured = (comparison.run_id, comparison.values)
        try:  # a wrong kpi.rollout costs the split by cohort, not the ROI
            staged = rollout(project, store, record=record, measured=measured)
        except ConfigError as error:
            problem = " ".join(p for p in (error.what, error.fix) if p)
        else:
            column = kcfg.rollout.column
            cohorts = cohort_values(drivers, staged, kpis, store, column=column, start=start,
                                    end=end)  # fmt: skip
    run_id = _store(store, comparison.run_id, summary, table, flows, cohorts) if record else 0
    return RoiResult(run_id, summary, table, flows, comparison, left_out, staged, cohorts, problem)


def _applicable(
    cfg: RoiConfig, kpis: dict[str, KpiDef], store: Store
) -> tuple[list[Driver], list[str]]:
    """The drivers to price, and why each other one is left out: a driver of a KPI whose
    object no source of the project loads (the starter roi.yaml's lead conversion on a
    project without leads) does not apply. A KPI unknown, or loaded but without data before
    and after the launch, is an error of the driver (raised when it is priced)."""
    used: list[Driver] = []
    left_out: list[str] = []
    for d in cfg.value_drivers:
        if isinstance(d, KpiChange) and d.kpi in kpis and d.volume_per_month == "auto":
            kdef = kpis[d.kpi]
            if not inputs.volume_measurable(kdef):
                raise ConfigError(
                    f"The KPI {d.kpi!r} ({kdef.stat.value}) of the ROI driver {d.name!r} has "
                    "no volume Workbench can measure.",
                    where=f"{ROI_FILE}, value_drivers ({d.name}): volume_per_month",
                    fix="Give volume_per_month as a number (how many units a change of the "
                    "KPI applies to per month).",
                )
        kpi = None if isinstance(d, HoursSaved) else kpis.get(d.kpi)
        if (
            kpi is not None
            and not isinstance(d, HoursSaved)
            and not store.table_exists("core", kpi.object)
        ):
            left_out.append(
                f"{d.name}: the KPI {d.kpi} reads {kpi.object}, which no source of the "
                "project loads"
            )
        else:
            used.append(d)
    return used, left_out


def _fmt(value: float | str) -> str:
    return number_text(value, 4) if isinstance(value, float) else str(value)


def _summary(point, sims, one_time, recurring, horizon, rate) -> dict[str, float | None]:  # type: ignore[no-untyped-def]
    def pct(a: np.ndarray, q: float) -> float | None:
        clean = a[np.isfinite(a)]
        return float(np.percentile(clean, q)) if clean.size else None

    paid = np.isfinite(sims.payback)
    return {
        "horizon_months": float(horizon),
        "discount_rate": rate,
        "one_time_costs": one_time,
        "recurring_costs_per_month": recurring,
        "costs": point.costs,
        "benefits": float(point.benefits[0]),
        "roi": float(point.roi[0]),
        "roi_low": pct(sims.roi, 2.5),
        "roi_high": pct(sims.roi, 97.5),
        "p_roi_positive": float(np.mean(sims.roi > 0)),
        "npv": float(point.npv[0]),
        "npv_low": pct(sims.npv, 2.5),
        "npv_high": pct(sims.npv, 97.5),
        "payback_month": None if np.isnan(point.payback[0]) else float(point.payback[0]),
        "payback_low": pct(sims.payback[paid], 2.5) if paid.any() else None,
        "payback_high": pct(sims.payback[paid], 97.5) if paid.any() else None,
        "p_payback": float(np.mean(paid)),
    }


def _improvement(
    comparison: Comparison, kpis: dict[str, KpiDef], kpi: str, n: int
) -> tuple[float, np.ndarray]:
    """The KPI's DiD turned so that positive = better, with its replicates."""
    row = comparison.table.filter(pl.col("kpi") == kpi)
    if row.is_empty():
        raise ConfigError(
            f"The ROI driver needs the canary-vs-control change of {kpi!r}, which has no data "
            "in both groups before and after the launch.",
            where=f"{ROI_FILE}, value_drivers (kpi: {kpi})",
            fix="Check kpi.launch_date and kpi.treatment in workbench.yaml, or drop the driver.",
        )
    sign = -1.0 if kpis[kpi].direction == "down" else 1.0
    return sign * float(row["did"][0]), sign * comparison.draws[kpi][:n]


def _driver(
    d, comparison, kpis, store, start, end, n, seed, margin, sources, levels
) -> DriverValue:  # type: ignore[no-untyped-def]
    rng = bootstrap.rng_for(seed, "roi", d.name)
    if isinstance(d, HoursSaved):
        draws = (
            rng.uniform(d.hours_range[0], d.hours_range[1], n)
            if d.hours_range
            else np.full(n, d.hours_per_month)
        ) * d.hourly_rate
        return DriverValue(
            d.name,
            d.type,
            d.hours_per_month * d.hourly_rate,
            draws,
            d.ramp_months,
            None,
            {"hours_per_month": d.hours_per_month, "hourly_rate": d.hourly_rate},
            "hours_per_month x hourly_rate",
        )
    if d.kpi not in kpis:
        raise ConfigError(
            f"Unknown KPI {d.kpi!r} in the ROI driver {d.name!r}.",
            where=f"{ROI_FILE}, value_drivers",
            fix="Use an id of `workbench kpi list`.",
        )
    delta, deltas = _improvement(comparison, kpis, d.kpi, n)
    if isinstance(d, ConversionUplift):
        leads = (
            d.leads_per_month
            if d.leads_per_month != "auto"
            else inputs.monthly_count(
                store, _declared(sources.leads, d.name, "leads_per_month"), start, end
            )
        )
        value = (
            d.won_deal_value
            if d.won_deal_value != "auto"
            else inputs.mean_amount(
                store, _declared(sources.won_deals, d.name, "won_deal_value"), start, end
            )
        )
        factor = float(leads) * float(value) * d.win_rate
        ins = {
            "uplift": delta,
            "leads_per_month": float(leads),
            "won_deal_value": float(value),
            "win_rate": d.win_rate,
        }
        formula = "uplift x leads_per_month x won_deal_value x win_rate"
    elif isinstance(d, ChurnReduction):
        customers = (
            d.customers
            if d.customers != "auto"
            else inputs.monthly_distinct(
                store, _declared(sources.customers, d.name, "customers"), start, end
            )
        )
        arpa = d.arpa if d.arpa != "auto" else levels.get("arpa", 0.0)
        m = d.margin or margin
        factor = float(customers) * float(arpa) * m
        ins = {
            "churn_reduction": delta,
            "customers": float(customers),
            "arpa": float(arpa),
            "margin": m,
        }
        formula = "churn_reduction x customers x arpa x margin"
    elif isinstance(d, KpiChange):
        volume = (
            d.volume_per_month
            if d.volume_per_month != "auto"
            else inputs.kpi_volume(store, kpis[d.kpi], d.kpi, start, end)
        )
        factor = float(volume) * d.unit_value
        ins = {"improvement": delta, "volume_per_month": float(volume), "unit_value": d.unit_value}
        formula = "improvement x volume_per_month x unit_value"
    else:
        assert isinstance(d, FailureReduction)
        events = (
            d.events_per_month
            if d.events_per_month != "auto"
            else inputs.monthly_count(
                store, _declared(sources.events, d.name, "events_per_month"), start, end
            )
        )
        factor = float(events) * d.cost_per_failure
        ins = {
            "failure_rate_reduction": delta,
            "events_per_month": float(events),
            "cost_per_failure": d.cost_per_failure,
        }
        formula = "failure_rate_reduction x events_per_month x cost_per_failure"
    return DriverValue(
        d.name, d.type, delta * factor, deltas * factor, d.ramp_months, d.kpi, ins, formula, factor
    )


def _declared(volume: Volume | None, driver: str, key: str) -> Volume:
    """The pack's source of an ``auto`` value; a pack without one needs a number."""
    if volume is None:
        raise ConfigError(
            f"The project's pack says nowhere to measure {key} of the ROI driver {driver!r}.",
            where=f"{ROI_FILE}, value_drivers ({driver}): {key}",
            fix=f"Give {key} as a number, or price the KPI with a kpi_change driver.",
        )
    return volume


def _baseline_levels(
    project: Project,
    store: Store,
    kpis: dict[str, KpiDef],
    drivers: Sequence[object],
    start: datetime,
    end: datetime,
) -> dict[str, float]:
    """The baseline levels ``auto`` inputs take (ARPA for churn reduction): of every record
    over the baseline window, as the KPI baseline report has them (it was the plain mean of
    canary's and control's pre-launch levels, whatever their sizes)."""
    churn = [d for d in drivers if isinstance(d, ChurnReduction) and d.arpa == "auto"]
    wanted = {"arpa"} if churn else set()
    wanted &= kpis.keys()
    if not wanted:
        return {}
    found = baseline(project, store, start=start, end=end, record=False,
                     kpis={k: kpis[k] for k in wanted})  # fmt: skip
    levels = found.levels.filter(pl.col("segment") == "all")
    return {
        k: float(v) for k, v in zip(levels["kpi"], levels["level"], strict=True) if v is not None
    }


def _store(
    store: Store,
    kpi_run: int,
    summary: dict,
    drivers: pl.DataFrame,
    flows: pl.DataFrame,
    cohorts: pl.DataFrame,
) -> int:
    with store.transaction():
        run_id = next_id(store, ROI_RUNS)
        now = datetime.now(UTC)
        for metric, value in summary.items():
            store.execute(
                "INSERT INTO roi.runs VALUES ($r, $t, $k, $m, $v)",
                {"r": run_id, "t": now, "k": kpi_run, "m": metric, "v": value},
            )
        for name, frame in (("drivers", drivers), ("cash_flows", flows), ("cohorts", cohorts)):
            with store.registered("roi_frame", frame.with_columns(pl.lit(run_id).alias("run_id"))):
                store.execute(f"INSERT INTO roi.{name} BY NAME SELECT * FROM roi_frame")
    return run_id
