"""The ROI arithmetic: cash flows per month, ROI, payback and NPV, and their simulation.

Month 0 carries the one-time costs; months 1..H carry the recurring costs and the benefits
of every value driver (ramping up linearly over its ``ramp_months``). With B the benefits
and C the costs over the horizon:

- ROI = (B - C) / C
- payback month = the first month whose cumulative net cash flow (benefits - costs since
  month 0) is >= 0; none when it stays negative over the horizon
- NPV = sum over months m of net(m) / (1 + r) ** (m / 12), r the yearly discount rate

The same formulas run on every simulation draw, each draw taking one bootstrap replicate
of each KPI change, which gives the ROI interval and P(ROI > 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl


@dataclass
class DriverValue:
    """One value driver, traceable: the KPI change, the volumes and prices it multiplies."""

    name: str
    type: str
    monthly: float
    draws: np.ndarray
    ramp_months: int = 0
    kpi: str | None = None
    inputs: Mapping[str, float | str] = field(default_factory=dict)
    formula: str = ""
    per_unit: float | None = None  # money per month per unit of the KPI's improvement


def ramp(horizon: int, months: int) -> np.ndarray:
    """Share of the full effect reached in months 1..horizon."""
    m = np.arange(1, horizon + 1, dtype=float)
    return np.ones(horizon) if months == 0 else np.minimum(m / months, 1.0)


def cash_flows(
    drivers: list[DriverValue], one_time: float, recurring: float, horizon: int, rate: float
) -> pl.DataFrame:
    """Month-by-month point estimate: benefits, costs, net, cumulative, discounted."""
    benefit = np.zeros(horizon + 1)
    for d in drivers:
        benefit[1:] += d.monthly * ramp(horizon, d.ramp_months)
    cost = np.full(horizon + 1, recurring)
    cost[0] = one_time
    net = benefit - cost
    months = np.arange(horizon + 1)
    return pl.DataFrame(
        {
            "month": months,
            "benefit": benefit,
            "cost": cost,
            "net": net,
            "cumulative": np.cumsum(net),
            "discounted": net / (1 + rate) ** (months / 12),
        }
    )


@dataclass(frozen=True)
class Outcome:
    """ROI, payback month and NPV, each a point estimate or an array of draws."""

    benefits: np.ndarray
    costs: float
    roi: np.ndarray
    npv: np.ndarray
    payback: np.ndarray  # month, or NaN when no payback within the horizon


def outcome(
    benefit_per_month: np.ndarray,
    one_time: float,
    recurring: float,
    rate: float,
) -> Outcome:
    """Outcome of benefits shaped (draws, months 1..H) or (months,)."""
    b = np.atleast_2d(benefit_per_month)
    horizon = b.shape[1]
    costs = one_time + recurring * horizon
    total = b.sum(axis=1)
    months = np.arange(1, horizon + 1)
    net = b - recurring
    npv = -one_time + (net / (1 + rate) ** (months / 12)).sum(axis=1)
    cumulative = np.cumsum(net, axis=1) - one_time
    reached = cumulative >= 0
    payback = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1, np.nan).astype(float)
    roi = (total - costs) / costs if costs > 0 else np.full(total.shape, np.nan)
    return Outcome(total, costs, roi, npv, payback)


def benefit_matrix(drivers: list[DriverValue], horizon: int, draws: int) -> np.ndarray:
    """Benefits per draw and month: (draws, horizon)."""
    out = np.zeros((draws, horizon))
    for d in drivers:
        out += np.outer(d.draws[:draws], ramp(horizon, d.ramp_months))
    return out


def point_benefits(drivers: list[DriverValue], horizon: int) -> np.ndarray:
    """Benefits per month 1..horizon at the drivers' point estimates."""
    out = np.zeros(horizon)
    for d in drivers:
        out += d.monthly * ramp(horizon, d.ramp_months)
    return out
