"""``roi.yaml``: what the integration cost and how KPI changes turn into money.

Every amount is in the project's base currency. A value driver turns the change of one KPI
(the canary-vs-control difference-in-differences, with its uncertainty) into money per
month; ``auto`` volumes are measured from the baseline window of the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from workbench.errors import ConfigError
from workbench.yamlconf import StrictModel, parse_model, read_yaml

Auto = Literal["auto"]
ROI_FILE = "roi.yaml"


class OneTimeCost(StrictModel):
    name: str
    amount: float = Field(ge=0)


class RecurringCost(StrictModel):
    name: str
    amount_per_month: float = Field(ge=0)


class Costs(StrictModel):
    one_time: list[OneTimeCost] = Field(default_factory=list)
    recurring: list[RecurringCost] = Field(default_factory=list)


class _Driver(StrictModel):
    name: str
    ramp_months: int = Field(0, ge=0, description="Months to reach the full effect (linear)")


class HoursSaved(_Driver):
    """Manual work the integration removes: hours per month x loaded hourly rate."""

    type: Literal["hours_saved"]
    hours_per_month: float = Field(ge=0)
    hours_range: tuple[float, float] | None = Field(
        None, description="Low and high estimate; simulated as uniform between them"
    )
    hourly_rate: float = Field(ge=0)

    @model_validator(mode="after")
    def _range(self) -> HoursSaved:
        if self.hours_range and not self.hours_range[0] <= self.hours_range[1]:
            raise ValueError("hours_range must be [low, high] with low <= high")
        return self


class ConversionUplift(_Driver):
    """More leads converted: uplift x leads per month x average won deal value x win rate."""

    type: Literal["conversion_uplift"]
    kpi: str = "lead_conversion_rate"
    leads_per_month: float | Auto = "auto"
    won_deal_value: float | Auto = "auto"
    win_rate: float = Field(
        1.0, gt=0, le=1, description="Share of conversions that become won deals"
    )


class ChurnReduction(_Driver):
    """Customers kept: churn reduction x customers x ARPA x gross margin."""

    type: Literal["churn_reduction"]
    kpi: str = "churn_rate"
    customers: float | Auto = "auto"
    arpa: float | Auto = "auto"
    margin: float | None = Field(None, gt=0, le=1, description="Default: kpi.gross_margin")


class FailureReduction(_Driver):
    """Fewer failed syncs: reduction of the failure rate x events per month x cost each."""

    type: Literal["failure_reduction"]
    kpi: str = "sync_failure_rate"
    events_per_month: float | Auto = "auto"
    cost_per_failure: float = Field(ge=0)


class KpiChange(_Driver):
    """Any KPI priced: its improvement x volume per month x the value of one unit.

    The improvement is the canary-vs-control change of ``kpi`` in the KPI's own unit, signed
    so that better is positive (2.0 for tickets resolved two hours faster). ``unit_value``
    is the money one unit of improvement is worth for one unit of volume: 40 per hour saved
    on a ticket, ARPA x margin for a churn rate, the margin for ARPA. ``auto`` volume is
    measured over the baseline months: the KPI's qualifying rows per month (mean, median,
    quantile and rate KPIs: the tickets, the leads), the distinct ``per`` values per month
    (per and churn KPIs: the accounts, the customers), 1 for count and sum KPIs (their value
    is already a monthly total); other KPIs need a number.
    """

    type: Literal["kpi_change"]
    kpi: str
    volume_per_month: float | Auto = "auto"
    unit_value: float = Field(ge=0, description="Money per unit of improvement per volume unit")


Driver = Annotated[
    HoursSaved | ConversionUplift | ChurnReduction | FailureReduction | KpiChange,
    Field(discriminator="type"),
]


class RoiConfig(StrictModel):
    """The whole of ``roi.yaml``."""

    horizon_months: int = Field(36, ge=1, le=240)
    discount_rate: float = Field(0.08, ge=0, lt=1, description="Yearly, for the NPV")
    costs: Costs = Field(default_factory=lambda: Costs())
    value_drivers: list[Driver] = Field(default_factory=list)


def load_roi(root: Path, name: str = ROI_FILE) -> RoiConfig:
    """Read and validate ``roi.yaml`` in the project folder."""
    if not (root / name).exists():
        raise ConfigError(
            f"The ROI model file {root / name} does not exist.",
            where=str(root / name),
            fix="Write one with the costs and value drivers of your integration: "
            "`workbench init DIR` writes a commented starter roi.yaml (the demo has one).",
        )
    doc = read_yaml(root / name, what="ROI model")
    return parse_model(RoiConfig, doc, what="ROI model")
