"""The whole of ``workbench.yaml`` and the loaded project.

:func:`load_project` reads and checks the project folder's ``workbench.yaml`` (and the data
dictionary it names) and returns a :class:`Project` that the pipeline stages use.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator

from workbench.config.integration import IntegrationConfig
from workbench.config.kpis import KpiDef
from workbench.config.settings import (
    DuckDBSettings,
    GovernanceConfig,
    KpiConfig,
    PrivacyConfig,
    QualityConfig,
    ResolveConfig,
    RetentionRule,
)
from workbench.config.sources import SOURCE_NAME, Source
from workbench.dictionary import Dictionary, load_dictionary
from workbench.errors import ConfigError
from workbench.packs import DEFAULT_PACK, Pack, load_pack, pack_names
from workbench.yamlconf import StrictModel, YamlDoc, parse_model, read_yaml

CONFIG_FILE = "workbench.yaml"


class ProjectConfig(StrictModel):
    """The whole of ``workbench.yaml``."""

    name: str = "workbench project"
    pack: str = Field(
        DEFAULT_PACK,
        description="Content pack: its dictionary, KPIs and declarations (crm; none: the "
        "project's own dictionary and KPIs only)",
    )
    warehouse: str = "data/warehouse.duckdb"
    dictionary: str | None = Field(None, description="Project data dictionary; default shipped")
    base_currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    duckdb: DuckDBSettings = Field(default_factory=lambda: DuckDBSettings())
    quality: QualityConfig = Field(default_factory=lambda: QualityConfig())
    resolve: ResolveConfig = Field(default_factory=lambda: ResolveConfig())
    privacy: PrivacyConfig = Field(default_factory=lambda: PrivacyConfig())
    kpi: KpiConfig = Field(default_factory=lambda: KpiConfig())
    governance: GovernanceConfig = Field(default_factory=lambda: GovernanceConfig())
    integration: IntegrationConfig = Field(
        default_factory=lambda: IntegrationConfig(),
        description="The inventory of connected systems and the event SLA table",
    )
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
class DeprecatedMapping:
    """A source that still maps a field the data dictionary marks ``deprecated``."""

    source: str
    object: str
    field: str
    column: str | None  # the export's column (None: a constant value)
    note: str | None

    def warning(self) -> str:
        """The warning shown once per command (ingest, validate)."""
        origin = f"column '{self.column}'" if self.column else "a constant value"
        note = f" ({self.note})" if self.note else ""
        return (
            f"sources.{self.source}.columns.{self.field} maps {origin} to "
            f"{self.object}.{self.field}, which the data dictionary marks deprecated{note}; "
            f"stop mapping it (remove the key from workbench.yaml) before it is retired."
        )


@dataclass(frozen=True)
class Project:
    """A loaded project: its folder, its validated config and its dictionary."""

    root: Path
    config: ProjectConfig
    dictionary: Dictionary
    config_sha256: str

    @property
    def pack(self) -> Pack:
        """The project's content pack (:mod:`workbench.packs`)."""
        return load_pack(self.config.pack)

    def kpis(self) -> dict[str, KpiDef]:
        """Every KPI of the project: its pack's, the engine's, its own, with its targets."""
        return self.config.kpi.kpis(self.config.pack)

    def person_object(self) -> str:
        """The object whose records are people (the pack's); an error if it has none."""
        name = self.pack.person_object
        if name is None or name not in self.dictionary.objects:
            raise ConfigError(
                "The project declares no object whose records are people."
                if name is None
                else f"The pack's person object {name!r} is not in the project's dictionary.",
                where=f"{self.root / CONFIG_FILE}, key pack",
                fix="Use a pack that names one (`pack: crm`: contacts) and keep that object "
                "in the dictionary.",
            )
        return name

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.config.warehouse)

    def resolve(self, relative: str | Path) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.root / path

    def deprecated_mappings(self, names: list[str] | None = None) -> list[DeprecatedMapping]:
        """Every mapping of a deprecated field by the sources (of ``names``), in config order."""
        found = []
        for name, source in self.config.sources.items():
            if names is not None and name not in names:
                continue
            fields = self.dictionary.object(source.object).fields
            for field, fmap in source.columns.items():
                spec = fields.get(field)
                if spec is not None and spec.deprecated:
                    found.append(
                        DeprecatedMapping(
                            name, source.object, field, fmap.from_, spec.deprecated_note
                        )
                    )
        return found

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
    data = doc.data if isinstance(doc.data, dict) else {}
    pack = _pack_of(doc, path)
    dict_key = data.get("dictionary")
    dictionary = load_dictionary(
        root / dict_key if isinstance(dict_key, str) else None, pack.dictionary_path
    )
    config = parse_model(
        ProjectConfig,
        doc,
        what="project configuration",
        context={"dictionary": dictionary, "pack": pack.name},
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Project(root=root, config=config, dictionary=dictionary, config_sha256=digest)


def _pack_of(doc: YamlDoc, path: Path) -> Pack:
    """The pack ``workbench.yaml`` names (read first: its dictionary is the shipped one)."""
    name = doc.data.get("pack", DEFAULT_PACK) if isinstance(doc.data, dict) else DEFAULT_PACK
    if not isinstance(name, str) or name not in pack_names():
        raise ConfigError(
            f"pack: {name!r} is not a pack Workbench ships.",
            where=f"{path}, line {doc.line_of(('pack',))}, key pack",
            fix=f"Use one of: {', '.join(pack_names())}.",
        )
    return load_pack(name)
