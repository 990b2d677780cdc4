"""The KPI registry: every KPI defined once: the pack's, the engine's and the project's.

Declarations only (pydantic models read from YAML), kept with the configuration so that
``workbench.yaml`` is checked without importing the KPI stage; :mod:`workbench.kpi`
computes them.

A :class:`KpiDef` says which core object a KPI reads, which rows qualify, which time field
puts a row into a period and how the rows of a period aggregate into one value. Users add
their own in ``workbench.yaml`` under ``kpi.definitions`` with the same keys. The built-ins
are the project's pack's (``workbench/packs/<pack>/kpis.yaml``) and the engine's
data-quality KPIs (``workbench/config/kpis.yaml``).
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from workbench.packs import DEFAULT_PACK, load_pack
from workbench.yamlconf import StrictModel, parse_model, read_yaml


class Stat(StrEnum):
    """How the qualifying rows of a period become one value."""

    MEDIAN = "median"
    QUANTILE = "quantile"
    MEAN = "mean"
    RATE = "rate"
    COUNT = "count"
    SUM = "sum"
    PER = "per"
    CHURN = "churn"
    LTV = "ltv"
    DUPLICATE_RATE = "duplicate_rate"
    MISSING_MANDATORY = "missing_mandatory"


NEEDS_MEASURE = frozenset({Stat.MEDIAN, Stat.QUANTILE, Stat.MEAN, Stat.RATE, Stat.SUM, Stat.PER})
NEEDS_TIME = NEEDS_MEASURE | {Stat.COUNT, Stat.CHURN, Stat.DUPLICATE_RATE}


class Target(StrictModel):
    """A KPI's target: an absolute ``value`` or a ``change`` relative to the baseline."""

    value: float | None = Field(None, description="Absolute target value")
    change: float | None = Field(
        None, gt=-1, description="Relative to the baseline level: -0.3 = 30% lower"
    )
    within_days: int | None = Field(None, gt=0, description="Deadline: days after launch")

    @model_validator(mode="after")
    def _one_kind(self) -> Target:
        if (self.value is None) == (self.change is None):
            raise ValueError("give exactly one of 'value' (absolute) or 'change' (relative)")
        return self


class KpiDef(StrictModel):
    """One KPI: what it reads, how it aggregates, which way is good, its default target."""

    title: str
    unit: str = ""
    direction: Literal["up", "down"] = Field(description="Which way is good")
    object: str = Field(description="Core object the KPI reads (leads, tickets, ...)")
    time: str | None = Field(None, description="Field whose UTC period a row belongs to")
    where: str | None = Field(None, description="SQL condition a row must meet")
    measure: str | None = Field(None, description="SQL expression aggregated per period")
    stat: Stat
    q: float | None = Field(None, gt=0, lt=1, description="Quantile for stat: quantile")
    per: str | None = Field(None, description="Field counted distinct (stat: per, churn)")
    target: Target | None = None
    description: str = ""

    @model_validator(mode="after")
    def _complete(self) -> KpiDef:
        if self.stat in NEEDS_MEASURE and not self.measure:
            raise ValueError(f"stat {self.stat.value!r} needs a 'measure' (an SQL expression)")
        if self.stat in NEEDS_TIME and not self.time:
            raise ValueError(f"stat {self.stat.value!r} needs a 'time' field")
        if self.stat is Stat.QUANTILE and self.q is None:
            raise ValueError("stat 'quantile' needs 'q', e.g. q: 0.95")
        if self.stat in (Stat.PER, Stat.CHURN) and not self.per:
            raise ValueError(f"stat {self.stat.value!r} needs 'per', e.g. per: customer_id")
        return self


class _Builtins(StrictModel):
    kpis: dict[str, KpiDef]


def builtin_kpis(pack: str = DEFAULT_PACK) -> dict[str, KpiDef]:
    """The KPIs shipped for a project of ``pack``: the pack's, then the engine's."""
    pack_file = load_pack(pack).kpis_path
    return {
        **(_read_builtins(pack_file) if pack_file else {}),
        **_read_builtins(Path(str(resources.files("workbench.config") / "kpis.yaml"))),
    }


@cache
def _read_builtins(path: Path) -> dict[str, KpiDef]:
    """A KPI file parsed once per process (its models are frozen; callers get a copy)."""
    doc = read_yaml(path, what="KPI definitions")
    doc.data = {"kpis": doc.data}
    return dict(parse_model(_Builtins, doc, what="KPI definitions").kpis)


def registry(
    custom: dict[str, KpiDef] | None = None, pack: str = DEFAULT_PACK
) -> dict[str, KpiDef]:
    """Built-in KPIs of ``pack``, then the project's (which may override a built-in)."""
    return {**builtin_kpis(pack), **(custom or {})}
