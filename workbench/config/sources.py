"""How a source is read and mapped: ``sources:`` of ``workbench.yaml``.

A :class:`Source` is one export (or a glob of them) of one system, holding one canonical
object: how its files are read (:class:`ReaderOptions`) and how its columns fill the
canonical fields of the data dictionary (:class:`FieldMap`).
"""

from __future__ import annotations

import codecs
import re
from typing import Any, Literal, get_args
from zoneinfo import available_timezones

from pydantic import Field, ValidationInfo, field_validator, model_validator

from workbench.dictionary import Dictionary, FieldType, ObjectSpec
from workbench.formats import format_problem
from workbench.yamlconf import StrictModel

SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
FORMATS = ("csv", "tsv", "json", "ndjson", "parquet", "xlsx")
Format = Literal["csv", "tsv", "json", "ndjson", "parquet", "xlsx"]
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


Encoding = Literal["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]
ENCODINGS: tuple[str, ...] = get_args(Encoding)
"""The encodings ``options.encoding`` names, the ones the CSV reader reads."""


def known_encoding(name: str) -> str | None:
    """The name in :data:`ENCODINGS` of the codec ``name`` spells (``windows-1252`` is
    ``cp1252``, ``latin1`` and ``iso-8859-1`` are ``latin-1``); None for one it does not read."""
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return next((known for known in ENCODINGS if codecs.lookup(known).name == codec), None)


class ReaderOptions(StrictModel):
    """How to read a source's files. Every option has a default that suits a plain UTF-8 CSV."""

    delimiter: str | None = Field(None, description="Field separator; sniffed when not set")
    quote: str = '"'
    escape: str | None = None
    encoding: Encoding = "utf-8"
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
    records: str | None = Field(
        None,
        description="JSON: the key of the top-level object that holds the array of records "
        "(Stripe's and Chargebee's list exports: data)",
    )

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))
    _formats = field_validator("timestamp_format", "date_format")(
        classmethod(lambda cls, v: _check_formats(v))
    )

    @field_validator("encoding", mode="before")
    @classmethod
    def _encoding_name(cls, value: Any) -> Any:
        """Any spelling Python knows of the five encodings (windows-1252, latin1, UTF8)."""
        # one it does not read is left as written: refused by the Literal, listing the five
        return (known_encoding(value) or value) if isinstance(value, str) else value

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

    @field_validator("columns")
    @classmethod
    def _map_keys_can_match(cls, value: dict[str, FieldMap], info: ValidationInfo) -> dict:
        """A value map's key that is empty or one of the null tokens would never match: such
        a value is empty before it is mapped, and an empty value is not mapped."""
        options = info.data.get("options")
        nulls = set(options.null_values) if isinstance(options, ReaderOptions) else set()
        for name, fmap in value.items():
            dead = [k for k in fmap.map or {} if not k.strip() or k in nulls]
            if dead:
                raise ValueError(
                    f"{name}.map: the key {dead[0]!r} never matches: an empty value and the "
                    "null tokens (options.null_values) are empty before the map, and an empty "
                    "value stays empty; map the values the export writes, or take the token out "
                    "of options.null_values"
                )
        return value
