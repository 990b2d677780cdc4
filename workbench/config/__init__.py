"""Project configuration: what users write in ``workbench.yaml``, validated with pydantic.

A project is a folder holding ``workbench.yaml``. It names the warehouse file, the
sources (one export each, or a glob of them), how each is read, and how its columns map
onto the canonical fields of the data dictionary. :func:`load_project` reads and checks
all of it and returns a :class:`Project` that the pipeline stages use.

One module per part: :mod:`.sources` (how a source is read and mapped), :mod:`.settings`
(what each stage may be told), :mod:`.kpis` (KPI definitions and the built-in ones),
:mod:`.metrics` (the data-quality metrics), :mod:`.project` (the whole file and
:func:`load_project`). The configuration imports no pipeline stage: the stages import it.
"""

from __future__ import annotations

from workbench.config.kpis import KpiDef, Stat, Target, builtin_kpis, registry
from workbench.config.metrics import METRICS, Metric
from workbench.config.project import (
    CONFIG_FILE,
    DeprecatedMapping,
    Project,
    ProjectConfig,
    load_project,
)
from workbench.config.settings import (
    DEFAULT_BLOCKING,
    KPI_ID,
    DuckDBSettings,
    GovernanceConfig,
    KpiConfig,
    PrivacyConfig,
    QualityConfig,
    ResolveConfig,
    RetentionRule,
    SparkSettings,
    TreatmentConfig,
)
from workbench.config.sources import (
    DEFAULT_NULLS,
    FORMATS,
    SOURCE_NAME,
    FieldMap,
    Format,
    ReaderOptions,
    Source,
)

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_BLOCKING",
    "DEFAULT_NULLS",
    "FORMATS",
    "KPI_ID",
    "METRICS",
    "SOURCE_NAME",
    "DeprecatedMapping",
    "DuckDBSettings",
    "FieldMap",
    "Format",
    "GovernanceConfig",
    "KpiConfig",
    "KpiDef",
    "Metric",
    "PrivacyConfig",
    "Project",
    "ProjectConfig",
    "QualityConfig",
    "ReaderOptions",
    "ResolveConfig",
    "RetentionRule",
    "Source",
    "SparkSettings",
    "Stat",
    "Target",
    "TreatmentConfig",
    "builtin_kpis",
    "load_project",
    "registry",
]
