"""The canonical data dictionary: objects, their fields and field types.

The default dictionary ships with the package (``workbench/dictionary.yaml``); a project may
bring its own ``dictionary.yaml``. Everything that needs to know which fields an object has
(ingest mapping, staging types, validation) reads it from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from workbench.errors import ConfigError
from workbench.yamlconf import StrictModel, parse_model, read_yaml

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")  # object and field names name tables and columns
DEFAULT_DICTIONARY = Path(str(resources.files("workbench") / "dictionary.yaml"))


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


IdentityKind = Literal["name", "email", "phone", "date", "postcode", "company", "exact", "text"]
Bound = float | int | str  # a number, an ISO date/timestamp, or "now"


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
        return all(v is None for v in self.model_dump().values())


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
    rate_date: list[str] = Field(
        default_factory=list,
        description="For money: date field(s) whose month picks the fx rate (first non-empty)",
    )


class ObjectSpec(StrictModel):
    """One canonical object (contacts, deals, ...) and its fields, in order."""

    description: str = ""
    fields: dict[str, FieldSpec] = Field(min_length=1)

    @field_validator("fields")
    @classmethod
    def _field_names(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        _check_names(value, "field")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ObjectSpec:
        if "record_id" not in self.fields:
            raise ValueError("every object needs a 'record_id' field (the source's own id)")
        for name, spec in self.fields.items():
            if spec.currency_field is not None:
                other = self.fields.get(spec.currency_field)
                if other is None or other.type is not FieldType.CURRENCY:
                    raise ValueError(
                        f"{name}: currency_field {spec.currency_field!r} must name a "
                        "currency field of the same object"
                    )
                if spec.type is not FieldType.DECIMAL:
                    raise ValueError(f"{name}: only decimal fields can have a currency_field")
                dates = [
                    d
                    for d in spec.rate_date
                    if d not in self.fields
                    or self.fields[d].type not in (FieldType.DATE, FieldType.TIMESTAMP)
                ]
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


def load_dictionary(path: Path | None = None) -> Dictionary:
    """Load and validate a dictionary file (the shipped default when ``path`` is None)."""
    doc = read_yaml(path or DEFAULT_DICTIONARY, what="data dictionary")
    return parse_model(Dictionary, doc, what="data dictionary")
