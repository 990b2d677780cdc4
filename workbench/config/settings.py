"""What each stage may be told in ``workbench.yaml``: warehouse resources, quality gates,
identity resolution, KPIs, governance service levels, privacy and retention.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from workbench.config.kpis import KpiDef, Target, builtin_kpis, registry
from workbench.config.metrics import METRICS
from workbench.dictionary import Dictionary
from workbench.packs import DEFAULT_PACK
from workbench.yamlconf import StrictModel

KPI_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
DEFAULT_BLOCKING = {"quarantine_rate": 0.5, "reject_rate": 0.5}


class DuckDBSettings(StrictModel):
    """Resources the warehouse may use."""

    memory_limit: str | None = Field(None, description="e.g. '2GB'; DuckDB's default if unset")
    threads: int | None = Field(None, ge=1)


class QualityConfig(StrictModel):
    """Data-quality gates: a breached blocking limit makes `workbench validate` exit non-zero.

    ``blocking`` maps a metric name to its limit: the most a lower-is-better metric may
    reach (``quarantine_rate: 0.05``), the least a higher-is-better one may fall to
    (``completeness: 0.9``). Every source and field is held to it. A project that sets no
    limits (or other ones) still fails validation when ingest could not read more than half
    of a source's rows, or validation quarantined more than half: an export that is mostly
    unreadable is never "ok". Set ``quarantine_rate: 1`` (or ``reject_rate: 1``) to allow
    any share.
    """

    blocking: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_BLOCKING),
        description="Metric: limit. Unless set here, quarantine_rate and reject_rate are "
        "held to 0.5 (set them to 1 to allow any share)",
    )

    @field_validator("blocking")
    @classmethod
    def _known_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = [k for k in value if k.split(":", 1)[0] not in METRICS]
        if unknown:
            raise ValueError(
                f"unknown metric(s) {', '.join(map(repr, unknown))}; known: {', '.join(METRICS)}"
            )
        return {**DEFAULT_BLOCKING, **value}  # the defaults hold unless overridden


class SparkSettings(StrictModel):
    """Where Splink runs when ``resolve.backend`` is ``spark`` (``resolve.spark:``)."""

    master: str = Field(
        "local[2]",
        description="Spark master: local[N] (this machine, N cores), spark://host:7077, "
        "yarn or k8s://...; an active Spark session (a notebook's) is used as it is",
    )
    app_name: str = Field("workbench-resolve", description="Name shown in the Spark UI")
    driver_memory: str = Field("2g", description="Memory of the driver (spark.driver.memory)")
    checkpoint_dir: str | None = Field(
        None,
        description="Where Splink writes intermediate tables on a cluster: storage every "
        "node reaches (hdfs://, s3a://); required there, unused in local mode",
    )
    conf: dict[str, str] = Field(
        default_factory=dict,
        description="Further Spark settings, e.g. spark.executor.memory: 8g; they win over "
        "Workbench's defaults",
    )


class ResolveConfig(StrictModel):
    """Identity resolution settings (the model itself comes from the dictionary)."""

    threshold: float = Field(0.9, gt=0, lt=1, description="Match probability to link records")
    review_band: tuple[float, float] = Field(
        (0.5, 0.9), description="Pairs with a probability in [low, high) go to human review"
    )
    u_max_pairs: float = Field(1e6, gt=0, description="Random pairs sampled to estimate u")
    em_max_pairs: float = Field(
        2e6, gt=0, description="Most blocked pairs each EM training rule samples"
    )
    prior_recall: float = Field(
        0.5, gt=0, le=1, description="Share of true matches the exact-email rule finds"
    )
    seed: int = 42
    reuse_model: bool = Field(
        True,
        description="Reuse the last run's trained model while the comparisons, training "
        "settings and (within 10%) the number of records stay the same",
    )
    blocking_rules: list[str] | None = Field(
        None, description="SQL blocking rules replacing the generated ones, e.g. l.email = r.email"
    )
    backend: Literal["duckdb", "spark"] = Field(
        "duckdb",
        description="Where Splink trains, scores and clusters: duckdb (in process) or spark "
        "(`pip install workbench[spark]`, settings under resolve.spark); results are the same",
    )
    spark: SparkSettings = Field(default_factory=lambda: SparkSettings())


class TreatmentConfig(StrictModel):
    """Which records the integration reached first (canary) and which it did not (control)."""

    column: str = Field("segment", description="Field holding the rollout group")
    treated: str = "canary"
    control: str = "control"


class RolloutConfig(StrictModel):
    """A staggered rollout (``kpi.rollout``): the field naming the groups and the day the
    integration reached each; groups not listed never got it (controls)."""

    column: str = Field("region", description="Field holding the rollout group")
    launches: dict[str, date] = Field(
        min_length=1, description="Per group value: its launch date (EMEA: 2026-05-01)"
    )


class KpiConfig(StrictModel):
    """KPIs, baselines, targets and the canary-vs-control comparison (``kpi:``)."""

    launch_date: date | None = Field(None, description="When the integration went live")
    baseline_months: int = Field(6, ge=1, le=60, description="Baseline: months before launch")
    treatment: TreatmentConfig = Field(default_factory=lambda: TreatmentConfig())
    rollout: RolloutConfig | None = Field(
        None, description="A staggered rollout: launch dates per group (`workbench rollout`)"
    )
    gross_margin: float = Field(0.7, gt=0, le=1, description="For ltv = arpa x margin / churn")
    bootstrap_samples: int = Field(2000, ge=100, le=100_000)
    seed: int = 42
    definitions: dict[str, KpiDef] = Field(
        default_factory=dict, description="Project KPIs (or overrides of built-in ones)"
    )
    targets: dict[str, Target] = Field(
        default_factory=dict, description="Targets replacing a KPI's default target"
    )

    @field_validator("definitions")
    @classmethod
    def _kpi_ids(cls, value: dict[str, KpiDef], info: ValidationInfo) -> dict[str, KpiDef]:
        dictionary: Dictionary | None = (info.context or {}).get("dictionary")
        for kpi_id, kpi in value.items():
            if not KPI_ID.match(kpi_id):
                raise ValueError(f"KPI id {kpi_id!r} must be lower-case letters, digits and _")
            known = dictionary is None or kpi.object in dictionary.objects or kpi.object == "all"
            if not known:
                raise ValueError(
                    f"KPI {kpi_id!r} reads unknown object {kpi.object!r}; known: "
                    f"{', '.join(dictionary.object_names if dictionary else [])}"
                )
        return value

    @model_validator(mode="after")
    def _targets_known(self, info: ValidationInfo) -> KpiConfig:
        known = {**builtin_kpis((info.context or {}).get("pack", DEFAULT_PACK)), **self.definitions}
        unknown = [k for k in self.targets if k not in known]
        if unknown:
            raise ValueError(
                f"targets for unknown KPI(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(known)}"
            )
        return self

    def kpis(self, pack: str = DEFAULT_PACK) -> dict[str, KpiDef]:
        """The registry of a project of ``pack``: built-ins, its own definitions, its
        targets (:meth:`workbench.config.Project.kpis` passes the project's pack)."""
        merged = registry(self.definitions, pack)
        for kpi_id, target in self.targets.items():
            merged[kpi_id] = merged[kpi_id].model_copy(update={"target": target})
        return merged


class GovernanceConfig(StrictModel):
    """Service levels of the integration, for the governance review's error budgets."""

    sync_success_slo: float = Field(
        0.98, gt=0, lt=1, description="Share of sync events that must succeed per month"
    )
    latency_slo_ms: float = Field(2500, gt=0, description="Latency a sync should stay under")
    latency_slo_share: float = Field(
        0.95, gt=0, lt=1, description="Share of successful syncs that must meet latency_slo_ms"
    )


class PrivacyConfig(StrictModel):
    """Who may see personal data unmasked."""

    allow_unmask: bool = Field(
        False, description="Allow --unmask on listings and exports of this project"
    )


class RetentionRule(StrictModel):
    """How long the records of one object are kept (``retention: {tickets: {days: 730}}``)."""

    days: int = Field(ge=1, description="Records older than this many days are deleted")
    field: str | None = Field(
        None, description="Date or timestamp field that dates a record; default: its first one"
    )
