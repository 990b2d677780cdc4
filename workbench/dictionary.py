"""The canonical data dictionary: objects, their fields and field types.

The shipped dictionary comes with the project's pack (the CRM pack's:
``workbench/packs/crm/dictionary.yaml``). A project's own dictionary
(``dictionary: my_dictionary.yaml`` in workbench.yaml) extends it: it names
only what it adds or changes, merged key by key (a new object or field is added, a field's
``rules: {allowed: [...]}`` replaces just that list, ``null`` removes a field or rule), or
replaces an object whole with ``replace: true``, or the shipped dictionary altogether with
``extends: none`` at the top (a project with ``pack: none`` has no shipped dictionary: its
own is the whole). Everything that needs to know which fields an object has
(ingest mapping, staging types, validation) reads it from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator

from workbench.errors import ConfigError
from workbench.packs import DEFAULT_PACK
from workbench.packs.model import PACKS_ROOT
from workbench.yamlconf import StrictModel, YamlDoc, parse_model, read_yaml

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")  # object and field names name tables and columns
DEFAULT_DICTIONARY = PACKS_ROOT / DEFAULT_PACK / "dictionary.yaml"  # the default pack's


class FieldType(StrEnum):
    """Types a canonical field can have, and the DuckDB type it is stored as."""

    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    TIMESTAMP = "timestamp"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    CURRENCY = "currency"

    @property
    def sql_type(self) -> str:
        return {
            FieldType.DATE: "DATE",
            FieldType.TIMESTAMP: "TIMESTAMPTZ",
            FieldType.INTEGER: "BIGINT",
            FieldType.DECIMAL: "DECIMAL(28,10)",
            FieldType.BOOLEAN: "BOOLEAN",
        }.get(self, "VARCHAR")

    @property
    def is_dated(self) -> bool:
        """Whether a value of this type is a point in time (a date or a timestamp)."""
        return self in (FieldType.DATE, FieldType.TIMESTAMP)


IdentityKind = Literal["name", "email", "phone", "date", "postcode", "company", "exact", "text"]
Bound = float | int | str  # a number, an ISO date/timestamp, or "now"
Severity = Literal["error", "warn"]
# what a severity can be set for: each rule, and "format" (a value that cannot be read as
# the field's type, or an email address that does not look like one)
RuleName = Literal["format", "regex", "allowed", "min", "max", "max_length", "references"]
# the lawful bases of processing personal data (GDPR Art. 6(1) a-f)
LegalBasis = Literal[
    "consent", "contract", "legal_obligation", "vital_interests", "public_task",
    "legitimate_interests",
]  # fmt: skip
CONSENT_TYPES = ("boolean", "date", "timestamp")  # what a consent field can record


class Rules(StrictModel):
    """Validation rules of a field; pandera checks are generated from these."""

    regex: str | None = Field(None, description="The whole value must match this pattern")
    allowed: list[str] | None = Field(None, description="The value must be one of these")
    min: Bound | None = Field(None, description="Smallest allowed value (number or date)")
    max: Bound | None = Field(None, description="Largest allowed value; 'now' for no future")
    max_length: int | None = Field(None, ge=1)
    references: str | None = Field(
        None,
        pattern=r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$",
        description="object.field this value must exist in (same system)",
    )
    severity: Severity | dict[RuleName, Severity] | None = Field(
        None,
        description="error: a failing value quarantines its row; warn: the row is kept and "
        "the value set aside (NULL in core, kept with its reason in quar.failures). One level "
        "for every rule of the field, or one per rule ({max: warn}). Default: error for "
        "required fields, warn for optional ones",
    )

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    def is_empty(self) -> bool:
        return all(v is None for k, v in self.model_dump().items() if k != "severity")

    def severity_of(self, rule: RuleName, *, required: bool) -> Severity:
        """How a failure of ``rule`` is handled (a required field always needs its value)."""
        if required:
            return "error"
        if isinstance(self.severity, dict):
            return self.severity.get(rule, "warn")
        return self.severity or "warn"


class FieldSpec(StrictModel):
    """One canonical field: its type, meaning, ownership, rules and role in matching."""

    type: FieldType = FieldType.TEXT
    required: bool = False
    unique: bool = Field(False, description="Unique within each source's current snapshot")
    pii: Literal["none", "contact", "sensitive"] = "none"
    description: str = ""
    owner: str | None = Field(None, description="Authoritative source system for this field")
    direction: Literal["inbound", "outbound", "bidirectional"] | None = None
    rules: Rules = Field(default_factory=lambda: Rules())
    identity: IdentityKind | None = Field(
        None, description="Used for matching people/companies, compared as this kind"
    )
    currency_field: str | None = Field(
        None, description="For money: the field holding the currency of this amount"
    )
    region_field: str | None = Field(
        None,
        description="For phones: the field holding the record's country (ISO code such as "
        "DE) to read national numbers in; default: the object's field named country",
    )
    rate_date: list[str] = Field(
        default_factory=list,
        description="For money: date field(s) whose month picks the fx rate (first non-empty)",
    )
    deprecated: bool = Field(
        False, description="Being retired: sources should stop mapping it (ingest warns)"
    )
    deprecated_note: str | None = Field(
        None, description="Why, or what to use instead; shown with the warning"
    )
    consent: bool = Field(
        False,
        description="The field records the person's consent decision: a boolean (true "
        "granted, false refused or withdrawn) or the date or time consent was given; empty "
        "when no decision is recorded",
    )

    @model_validator(mode="after")
    def _note_of_deprecated(self) -> FieldSpec:
        if self.deprecated_note is not None and not self.deprecated:
            raise ValueError("deprecated_note is only for a field marked deprecated: true")
        return self

    @model_validator(mode="after")
    def _consent_type(self) -> FieldSpec:
        if self.consent and self.type.value not in CONSENT_TYPES:
            raise ValueError(
                f"consent: a consent field records a decision ({', '.join(CONSENT_TYPES)}), "
                f"not {self.type.value}; change its type or drop consent: true"
            )
        return self

    @model_validator(mode="after")
    def _required_errors(self) -> FieldSpec:
        levels = self.rules.severity
        given = levels.values() if isinstance(levels, dict) else [levels]
        if self.required and "warn" in given:
            raise ValueError(
                "rules.severity: a required field's value cannot be set aside (warn); "
                "make the field optional (required: false) or leave severity at error"
            )
        return self


class ObjectSpec(StrictModel):
    """One canonical object (contacts, deals, ...), who answers for it, and its fields.

    ``owner`` and ``legal_basis`` are governance, per object because a record set is
    processed for its purposes as a whole (a field's ``owner`` is another thing: the source
    system whose value wins in a golden record).
    """

    description: str = ""
    owner: str | None = Field(
        None, description="Team or person accountable for the object's data (data owner)"
    )
    legal_basis: list[LegalBasis] = Field(
        default_factory=list,
        description="GDPR Art. 6 basis (or bases, one per purpose) the records are processed "
        "on: consent, contract, legal_obligation, vital_interests, public_task, "
        "legitimate_interests",
    )
    fields: dict[str, FieldSpec] = Field(min_length=1)

    @field_validator("legal_basis", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        """One basis may be written alone: ``legal_basis: contract``."""
        return [value] if isinstance(value, str) else value

    @field_validator("fields")
    @classmethod
    def _field_names(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        _check_names(value, "field")
        return value

    def dated_fields(self) -> list[str]:
        """The fields that place a record in time (date and timestamp fields), in order."""
        return [name for name, field in self.fields.items() if field.type.is_dated]

    def region_field(self, phone: str) -> str | None:
        """The field holding the country that national numbers of the phone field ``phone``
        are read in: its ``region_field``, else the object's field named ``country``."""
        given = self.fields[phone].region_field
        return given or ("country" if "country" in self.fields else None)

    def consent_fields(self) -> list[str]:
        """The fields that record a consent decision (``consent: true``), in order."""
        return [name for name, field in self.fields.items() if field.consent]

    @model_validator(mode="after")
    def _consistent(self) -> ObjectSpec:
        if "record_id" not in self.fields:
            raise ValueError("every object needs a 'record_id' field (the source's own id)")
        for name, spec in self.fields.items():
            if spec.region_field is not None:
                if spec.type is not FieldType.PHONE:
                    raise ValueError(f"{name}: only phone fields can have a region_field")
                if spec.region_field not in self.fields:
                    raise ValueError(
                        f"{name}: region_field {spec.region_field!r} must name a field of the "
                        "same object (its ISO country code, such as DE)"
                    )
            if spec.currency_field is not None:
                other = self.fields.get(spec.currency_field)
                if other is None or other.type is not FieldType.CURRENCY:
                    raise ValueError(
                        f"{name}: currency_field {spec.currency_field!r} must name a "
                        "currency field of the same object"
                    )
                if spec.type is not FieldType.DECIMAL:
                    raise ValueError(f"{name}: only decimal fields can have a currency_field")
                dates = [d for d in spec.rate_date if d not in self.dated_fields()]
                if not spec.rate_date or dates:
                    raise ValueError(
                        f"{name}: rate_date must list date or timestamp fields of the object"
                    )
        return self


class Dictionary(StrictModel):
    """All canonical objects of a project."""

    objects: dict[str, ObjectSpec] = Field(min_length=1)

    @field_validator("objects")
    @classmethod
    def _object_names(cls, value: dict[str, ObjectSpec]) -> dict[str, ObjectSpec]:
        _check_names(value, "object")
        return value

    @model_validator(mode="after")
    def _references_exist(self) -> Dictionary:
        for obj, spec in self.objects.items():
            for name, fspec in spec.fields.items():
                ref = fspec.rules.references
                if ref is None:
                    continue
                target, field = ref.split(".")
                if target not in self.objects or field not in self.objects[target].fields:
                    raise ValueError(f"{obj}.{name}: references {ref!r}, which does not exist")
        return self

    @property
    def object_names(self) -> list[str]:
        return list(self.objects)

    def object(self, name: str) -> ObjectSpec:
        try:
            return self.objects[name]
        except KeyError:
            raise ConfigError(
                f"The data dictionary has no object named {name!r}.",
                where="dictionary.yaml, key objects",
                fix=f"Use one of: {', '.join(self.objects)}.",
            ) from None


def _check_names(names: Iterable[str], kind: str) -> None:
    bad = [n for n in names if not NAME.match(n)]
    if bad:
        raise ValueError(
            f"{kind} name(s) {', '.join(map(repr, bad))} must be lower-case letters, digits and "
            "_, starting with a letter (they name warehouse tables and columns)"
        )


def load_dictionary(
    path: Path | None = None, shipped_path: Path | None = DEFAULT_DICTIONARY
) -> Dictionary:
    """The shipped dictionary (``shipped_path``, a pack's), extended by the project's
    dictionary file at ``path``. Without a shipped dictionary the project's is the whole."""
    if path is None:
        if shipped_path is None:
            raise ConfigError(
                "The project has no data dictionary: its pack ships none.",
                where="workbench.yaml, key dictionary",
                fix="Write the project's dictionary (`workbench dictionary infer` drafts one "
                "from an export) and name it with `dictionary: dictionary.yaml`, or use a "
                "pack that ships one (`pack: crm`).",
            )
        return parse_model(
            Dictionary, read_yaml(shipped_path, what="data dictionary"), what="data dictionary"
        )
    doc = read_yaml(path, what="data dictionary")
    if not isinstance(doc.data, dict):
        return parse_model(Dictionary, doc, what="data dictionary")  # says what is wrong
    body = {k: v for k, v in doc.data.items() if k != "extends"}
    extends = doc.data.get("extends", "shipped")
    if extends not in ("shipped", "none"):
        raise ConfigError(
            f"extends: {extends!r} is not known.",
            where=f"{path}, line {doc.line_of(('extends',))}, key extends",
            fix="Use 'extends: shipped' (the default: add to and change the shipped "
            "dictionary) or 'extends: none' (this file is the whole dictionary).",
        )
    if extends == "none" or shipped_path is None:
        merged = body
    else:
        merged = _extend(read_yaml(shipped_path, what="data dictionary").data, body)
    return parse_model(Dictionary, YamlDoc(doc.path, merged, doc.root), what="data dictionary")


def _extend(shipped: dict[str, Any], project: dict[str, Any]) -> dict[str, Any]:
    """The shipped dictionary's data with the project's merged in (see the module doc)."""
    out = dict(shipped)
    for key, value in project.items():
        if key != "objects" or not isinstance(value, dict):
            out[key] = value
            continue
        objects = dict(shipped.get("objects") or {})
        for name, spec in value.items():
            if spec is None:
                objects.pop(name, None)
            elif isinstance(spec, dict) and (whole := _replace(spec.get("replace"))) is not None:
                rest = {k: v for k, v in spec.items() if k != "replace"}
                objects[name] = rest if whole else _merge(objects.get(name), rest)
            else:
                objects[name] = _merge(objects.get(name), spec)
        out["objects"] = objects
    return out


def _replace(value: Any) -> bool | None:
    """An object's ``replace:`` as a boolean, as a model's boolean setting reads it (``true``,
    ``yes``, ``on``; ``false``, ``no``, ``off``: YAML keeps those words as text); None for
    anything else, left for the model to refuse as it is."""
    try:
        return TypeAdapter(bool).validate_python(value)
    except ValidationError:
        return None


def _merge(base: Any, over: Any) -> Any:
    """Mappings merged key by key (``None`` removes a key); anything else replaced."""
    if not isinstance(base, dict) or not isinstance(over, dict):
        return over
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge(base.get(key), value)
    return out
