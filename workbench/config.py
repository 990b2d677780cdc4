"""Project configuration: what users write in ``workbench.yaml``, validated with pydantic.

A project is a folder holding ``workbench.yaml``. It names the warehouse file, the
sources (one export each, or a glob of them), how each is read, and how its columns map
onto the canonical fields of the data dictionary. :func:`load_project` reads and checks
all of it and returns a :class:`Project` that the pipeline stages use.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import available_timezones

from pydantic import Field, ValidationInfo, field_validator, model_validator

from workbench.dictionary import Dictionary, FieldType, ObjectSpec, load_dictionary
from workbench.errors import ConfigError
from workbench.formats import format_problem
from workbench.kpi.definitions import KpiDef, Target, builtin_kpis, registry
from workbench.yamlconf import StrictModel, parse_model, read_yaml

CONFIG_FILE = "workbench.yaml"
SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
KPI_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
FORMATS = ("csv", "tsv", "json", "ndjson", "parquet", "xlsx")
Format = Literal["csv", "tsv", "json", "ndjson", "parquet", "xlsx"]
DEFAULT_BLOCKING = {"quarantine_rate": 0.5, "reject_rate": 0.5}
DEFAULT_NULLS = ["", "NULL", "null", "None", "N/A", "n/a", "#N/A", "-"]


def _as_text(value: Any) -> str:
    """A YAML scalar as the text an export holds: 2 -> '2', true -> 'true'."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _check_formats(value: str | list[str] | None) -> str | list[str] | None:
    for fmt in [value] if isinstance(value, str) else value or []:
        problem = format_problem(fmt)
        if problem:
            raise ValueError(problem)
    return value


def _check_timezone(value: str | None) -> str | None:
    if value is not None and value not in available_timezones() and value != "UTC":
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/Berlin'")
    return value


class ReaderOptions(StrictModel):
    """How to read a source's files. Every option has a default that suits a plain UTF-8 CSV."""

    delimiter: str | None = Field(None, description="Field separator; sniffed when not set")
    quote: str = '"'
    escape: str | None = None
    encoding: Literal["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"] = "utf-8"
    header: bool = True
    skip_rows: int = Field(0, ge=0)
    decimal: Literal[".", ","] = "."
    null_values: list[str] = Field(default_factory=lambda: list(DEFAULT_NULLS))
    timestamp_format: str | list[str] | None = None
    date_format: str | list[str] | None = None
    timezone: str = "UTC"
    default_region: str | None = Field(
        None, pattern=r"^[A-Z]{2}$", description="Country for national phone numbers"
    )
    sheet: str | int | None = None
    compression: Literal["auto", "none", "gzip"] = "auto"

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))
    _formats = field_validator("timestamp_format", "date_format")(
        classmethod(lambda cls, v: _check_formats(v))
    )

    @field_validator("delimiter", "quote", "escape")
    @classmethod
    def _one_char(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) != 1 and value != "\\t":
            raise ValueError("must be a single character (use '\\t' for a tab)")
        return "\t" if value == "\\t" else value


class FieldMap(StrictModel):
    """How one canonical field is filled from a source column.

    In YAML, ``email: Email`` is short for ``email: {from: Email}``.
    """

    from_: str | None = Field(None, alias="from", description="Source column name")
    value: str | None = Field(None, description="Constant value for every row instead of a column")
    trim: bool = True
    case: Literal["lower", "upper", "title"] | None = None
    name_part: Literal["first", "last"] | None = Field(
        None, description="Take this part of a full name held in `from`"
    )
    name_order: Literal["auto", "first_last", "last_first"] = "auto"
    email_local: bool = Field(
        False,
        description="Read a name from an email address or its local part, as systems that "
        "fill a missing name with it do (anna.obrien83@x.com -> anna obrien)",
    )
    format: str | list[str] | None = Field(
        None, description="strptime format(s) of dates, or epoch, epoch_ms, epoch_us"
    )
    timezone: str | None = None
    decimal: Literal[".", ","] | None = None
    minor_units: bool | int | None = Field(
        None,
        description="The amount is in minor units (cents): true divides by the ISO 4217 "
        "exponent of the row's currency (100 for EUR, 1 for JPY); a number N by 10^N",
    )
    map: dict[str, str | None] | None = Field(
        None,
        description="Replace source values by canonical ones; '*' catches every other value",
    )

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))
    _formats = field_validator("format")(classmethod(lambda cls, v: _check_formats(v)))

    @field_validator("map", mode="before")
    @classmethod
    def _map_as_text(cls, value: Any) -> Any:
        """YAML reads ``{2: open}`` with a number as key: codes are compared as text."""
        if not isinstance(value, dict):
            return value
        return {_as_text(k): (None if v is None else _as_text(v)) for k, v in value.items()}

    @field_validator("minor_units")
    @classmethod
    def _exponent(cls, value: bool | int | None) -> bool | int | None:
        if value is False:
            return None
        if not isinstance(value, bool) and value is not None and not 0 <= value <= 6:
            raise ValueError("must be true (the currency's own) or a number of decimals 0-6")
        return value

    @field_validator("from_")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or any(ord(c) < 32 for c in value)):
            raise ValueError("a column name must be non-empty text without control characters")
        return value

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        return {"from": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_origin(self) -> FieldMap:
        if (self.from_ is None) == (self.value is None):
            raise ValueError("give exactly one of 'from' (a source column) or 'value' (a constant)")
        return self


def _fits_type(name: str, fmap: FieldMap, spec: ObjectSpec, columns: dict[str, FieldMap]) -> None:
    """Transforms that only make sense for some field types."""
    kind = spec.fields[name].type
    if (fmap.name_part or fmap.email_local) and kind is not FieldType.TEXT:
        raise ValueError(f"{name!r}: name_part and email_local only apply to text fields")
    if fmap.format is not None and not kind.is_dated:
        raise ValueError(f"{name!r}: format only applies to date and timestamp fields")
    if fmap.minor_units is None:
        return
    if kind is not FieldType.DECIMAL:
        raise ValueError(f"{name!r}: minor_units only applies to decimal (money) fields")
    currency = spec.fields[name].currency_field
    if fmap.minor_units is True and (currency is None or currency not in columns):
        missing = (
            f"its currency field {currency!r} is not mapped; map it"
            if currency
            else ("the dictionary gives it no currency_field")
        )
        raise ValueError(
            f"{name!r}: minor_units: true divides by the decimals of each row's currency, "
            f"but {missing}, or give the number of decimals (minor_units: 2)"
        )


class Source(StrictModel):
    """One export (or a glob of exports) of one system, holding one canonical object."""

    system: str = Field(description="System the export comes from: crm, billing, support, ...")
    object: str = Field(description="Canonical object the rows are (contacts, deals, ...)")
    path: str = Field(description="File or glob, relative to the project folder")
    format: Format | None = Field(None, description="Read as; inferred from the extension")
    mode: Literal["snapshot", "append"] = Field(
        "snapshot",
        description="snapshot: the newest file is the whole data; append: every file adds rows",
    )
    options: ReaderOptions = Field(default_factory=lambda: ReaderOptions())
    columns: dict[str, FieldMap] = Field(min_length=1)

    @field_validator("object")
    @classmethod
    def _known_object(cls, value: str, info: ValidationInfo) -> str:
        dictionary: Dictionary | None = (info.context or {}).get("dictionary")
        if dictionary is not None and value not in dictionary.objects:
            raise ValueError(
                f"unknown object {value!r}; known: {', '.join(dictionary.object_names)}"
            )
        return value

    @field_validator("columns")
    @classmethod
    def _fits_dictionary(cls, value: dict[str, FieldMap], info: ValidationInfo) -> dict:
        dictionary: Dictionary | None = (info.context or {}).get("dictionary")
        obj = info.data.get("object")
        if dictionary is None or obj not in dictionary.objects:
            return value
        spec = dictionary.object(obj)
        unknown = [c for c in value if c not in spec.fields]
        if unknown:
            raise ValueError(
                f"{', '.join(map(repr, unknown))} is not a field of {obj}; "
                f"its fields are: {', '.join(spec.fields)}"
            )
        missing = [n for n, f in spec.fields.items() if f.required and n not in value]
        if missing:
            raise ValueError(
                f"required field(s) of {obj} not mapped: {', '.join(missing)}; "
                "map a source column to each"
            )
        for name, fmap in value.items():
            _fits_type(name, fmap, spec, value)
        return value


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
        from workbench.quality.metrics import METRICS

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


class KpiConfig(StrictModel):
    """KPIs, baselines, targets and the canary-vs-control comparison (``kpi:``)."""

    launch_date: date | None = Field(None, description="When the integration went live")
    baseline_months: int = Field(6, ge=1, le=60, description="Baseline: months before launch")
    treatment: TreatmentConfig = Field(default_factory=lambda: TreatmentConfig())
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
    def _targets_known(self) -> KpiConfig:
        known = {**builtin_kpis(), **self.definitions}
        unknown = [k for k in self.targets if k not in known]
        if unknown:
            raise ValueError(
                f"targets for unknown KPI(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(known)}"
            )
        return self

    def kpis(self) -> dict[str, KpiDef]:
        """The registry of this project: built-ins, its own definitions, its targets."""
        merged = registry(self.definitions)
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


class ProjectConfig(StrictModel):
    """The whole of ``workbench.yaml``."""

    name: str = "workbench project"
    warehouse: str = "data/warehouse.duckdb"
    dictionary: str | None = Field(None, description="Project data dictionary; default shipped")
    base_currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    duckdb: DuckDBSettings = Field(default_factory=lambda: DuckDBSettings())
    quality: QualityConfig = Field(default_factory=lambda: QualityConfig())
    resolve: ResolveConfig = Field(default_factory=lambda: ResolveConfig())
    privacy: PrivacyConfig = Field(default_factory=lambda: PrivacyConfig())
    kpi: KpiConfig = Field(default_factory=lambda: KpiConfig())
    governance: GovernanceConfig = Field(default_factory=lambda: GovernanceConfig())
    retention: dict[str, RetentionRule] = Field(
        default_factory=dict, description="Per object: how long records are kept"
    )
    sources: dict[str, Source] = Field(default_factory=dict)

    @field_validator("retention")
    @classmethod
    def _retention_fields(
        cls, value: dict[str, RetentionRule], info: ValidationInfo
    ) -> dict[str, RetentionRule]:
        dictionary: Dictionary | None = (info.context or {}).get("dictionary")
        if dictionary is None:
            return value
        for obj, rule in value.items():
            if obj not in dictionary.objects:
                raise ValueError(
                    f"unknown object {obj!r}; known: {', '.join(dictionary.object_names)}"
                )
            dated = dictionary.object(obj).dated_fields()
            if not dated:
                raise ValueError(f"{obj} has no date or timestamp field to date its records by")
            if rule.field is not None and rule.field not in dated:
                raise ValueError(
                    f"{obj}.{rule.field} is not a date or timestamp field; use one of: "
                    f"{', '.join(dated)}"
                )
        return value

    @field_validator("warehouse")
    @classmethod
    def _warehouse_name(cls, value: str) -> str:
        from workbench.store import SCHEMAS

        stem = Path(value).stem
        if stem.lower() in SCHEMAS:
            raise ValueError(
                f"the warehouse file may not be named {stem!r} (DuckDB names the database "
                f"after the file, which would clash with the schema {stem!r}); "
                "use e.g. data/warehouse.duckdb"
            )
        return value

    @field_validator("sources")
    @classmethod
    def _source_names(cls, value: dict[str, Source]) -> dict[str, Source]:
        for name in value:
            if not SOURCE_NAME.match(name):
                raise ValueError(
                    f"source name {name!r} must be lower-case letters, digits and _ "
                    "(it names warehouse tables)"
                )
        return value


@dataclass(frozen=True)
class Project:
    """A loaded project: its folder, its validated config and its dictionary."""

    root: Path
    config: ProjectConfig
    dictionary: Dictionary
    config_sha256: str

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.config.warehouse)

    def resolve(self, relative: str | Path) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.root / path

    def source(self, name: str) -> Source:
        try:
            return self.config.sources[name]
        except KeyError:
            known = ", ".join(self.config.sources) or "(none configured)"
            raise ConfigError(
                f"There is no source named {name!r}.",
                where=f"{self.root / CONFIG_FILE}, key sources",
                fix=f"Use one of: {known}; or add it under 'sources:'.",
            ) from None


def load_project(root: Path | str = ".") -> Project:
    """Read ``workbench.yaml`` (and the dictionary it names) from the project folder ``root``."""
    root = Path(root).resolve()
    path = root / CONFIG_FILE
    if not path.exists():
        raise ConfigError(
            f"No {CONFIG_FILE} in {root}.",
            where=str(path),
            fix="Run the command inside a project folder, pass --project DIR, "
            "or create a project with `workbench init DIR` (or `workbench demo`).",
        )
    doc = read_yaml(path, what="project configuration")
    dict_key = doc.data.get("dictionary") if isinstance(doc.data, dict) else None
    dictionary = load_dictionary(root / dict_key if isinstance(dict_key, str) else None)
    config = parse_model(
        ProjectConfig, doc, what="project configuration", context={"dictionary": dictionary}
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Project(root=root, config=config, dictionary=dictionary, config_sha256=digest)
