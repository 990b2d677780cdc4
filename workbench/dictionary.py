"""The canonical data dictionary: objects, their fields and field types.

The default dictionary ships with the package (``workbench/dictionary.yaml``); a project may
bring its own ``dictionary.yaml``. Everything that needs to know which fields an object has
(ingest mapping, staging types, validation) reads it from here.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from workbench.yamlconf import StrictModel, parse_model, read_yaml

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
            FieldType.DECIMAL: "DECIMAL(18,4)",
            FieldType.BOOLEAN: "BOOLEAN",
        }.get(self, "VARCHAR")


class FieldSpec(StrictModel):
    """One canonical field."""

    type: FieldType = FieldType.TEXT
    required: bool = False
    pii: Literal["none", "contact", "sensitive"] = "none"
    description: str = ""


class ObjectSpec(StrictModel):
    """One canonical object (contacts, deals, ...) and its fields, in order."""

    description: str = ""
    fields: dict[str, FieldSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_record_id(self) -> ObjectSpec:
        if "record_id" not in self.fields:
            raise ValueError("every object needs a 'record_id' field (the source's own id)")
        return self


class Dictionary(StrictModel):
    """All canonical objects of a project."""

    objects: dict[str, ObjectSpec] = Field(min_length=1)

    @property
    def object_names(self) -> list[str]:
        return list(self.objects)

    def object(self, name: str) -> ObjectSpec:
        return self.objects[name]


def load_dictionary(path: Path | None = None) -> Dictionary:
    """Load and validate a dictionary file (the shipped default when ``path`` is None)."""
    doc = read_yaml(path or DEFAULT_DICTIONARY, what="data dictionary")
    return parse_model(Dictionary, doc, what="data dictionary")
