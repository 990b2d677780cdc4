"""Pandera schemas generated from the data dictionary (never written by hand).

:func:`object_schema` turns an object's fields into a ``pandera.polars.DataFrameSchema``:
required fields are not nullable, ``unique`` fields are unique, and every rule becomes a
named check. Two checks come from the field types: email addresses must look like one,
and ``_problems`` (values staging or standardization could not read) must be empty.

The schema's ``metadata`` says how each failure is handled: ``severity`` maps (column,
check) to ``error`` (the row is quarantined) or ``warn`` (the value is set aside), and
``derived`` lists the columns standardization derived from a field, set aside with it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from workbench.dictionary import Bound, FieldSpec, FieldType, ObjectSpec, RuleName, Severity
from workbench.standardize.apply import derived_from
from workbench.standardize.rules import EMAIL_PATTERN

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pandera.polars as pa

POLARS_TYPES: dict[FieldType, Any] = {
    FieldType.TEXT: pl.String,
    FieldType.EMAIL: pl.String,
    FieldType.PHONE: pl.String,
    FieldType.CURRENCY: pl.String,
    FieldType.DATE: pl.Date,
    FieldType.TIMESTAMP: pl.Datetime("us", "UTC"),
    FieldType.INTEGER: pl.Int64,
    FieldType.DECIMAL: pl.Decimal(28, 10),
    FieldType.BOOLEAN: pl.Boolean,
}
PROBLEMS_CHECK = "readable (staging and standardization could read every value)"
READABLE = "readable"  # the check a value staging or standardization could not read fails
UNIQUE = "unique (a later duplicate)"
# The first occurrence of a key is kept; later ones fail. (pandera's own `unique=True`
# fails every occurrence and costs more than the rest of the checks together.)
UNIQUE_CHECK = pa.Check(
    lambda data: data.lazyframe.select(
        pl.col(data.key).is_first_distinct() | pl.col(data.key).is_null()
    ),
    name=UNIQUE,
    error=UNIQUE,
)


def object_schema(
    spec: ObjectSpec,
    columns: list[str],
    *,
    reference_keys: Mapping[str, pl.Series] | None = None,
    now: datetime | None = None,
) -> pa.DataFrameSchema:
    """The schema of one object, for a frame holding ``columns``.

    ``reference_keys`` maps a field with a ``references`` rule to the keys it may take.
    """
    now = now or datetime.now(UTC)
    schema_columns: dict[str, pa.Column] = {}
    severity: dict[tuple[str, str], Severity] = {}
    for name, field in spec.fields.items():
        if name not in columns:
            continue
        checks = rule_checks(name, field, now=now)
        if field.rules.references and reference_keys and name in reference_keys:
            checks.append(
                ("references", _reference_check(field.rules.references, reference_keys[name]))
            )
        for rule, check in checks:
            severity[(name, str(check.name))] = field.rules.severity_of(
                rule, required=field.required
            )
        severity[(name, READABLE)] = field.rules.severity_of("format", required=field.required)
        schema_columns[name] = pa.Column(
            POLARS_TYPES[field.type],
            checks=[c for _, c in checks] + ([UNIQUE_CHECK] if field.unique else []),
            nullable=not field.required,
        )
    schema_columns["_problems"] = pa.Column(
        pl.List(pl.String),
        checks=[
            pa.Check(
                lambda data: data.lazyframe.select(pl.col(data.key).list.len() == 0),
                name=PROBLEMS_CHECK,
                error=PROBLEMS_CHECK,
            )
        ],
    )
    derived = {k: [c for c in v if c in columns] for k, v in derived_from(spec).items()}
    return pa.DataFrameSchema(
        schema_columns, strict=False, metadata={"severity": severity, "derived": derived}
    )


def field_checks(name: str, field: FieldSpec, *, now: datetime) -> list[pa.Check]:
    """The checks one field's type and rules ask for."""
    return [check for _, check in rule_checks(name, field, now=now)]


def rule_checks(name: str, field: FieldSpec, *, now: datetime) -> list[tuple[RuleName, pa.Check]]:
    """The checks one field's type and rules ask for, each with the rule it checks."""
    rules = field.rules
    checks: list[tuple[RuleName, pa.Check]] = []
    if field.type is FieldType.EMAIL:
        checks.append(
            ("format", _named(pa.Check.str_matches(EMAIL_PATTERN), "email address format"))
        )
    if rules.regex is not None:
        checks.append(
            (
                "regex",
                _named(pa.Check.str_matches(f"^(?:{rules.regex})$"), f"matches {rules.regex}"),
            )
        )
    if rules.allowed is not None:
        shown = ", ".join(rules.allowed[:8]) + (", ..." if len(rules.allowed) > 8 else "")
        checks.append(("allowed", _named(pa.Check.isin(rules.allowed), f"one of {shown}")))
    if rules.max_length is not None:
        label = f"at most {rules.max_length} chars"
        checks.append(
            ("max_length", _named(pa.Check.str_length(max_value=rules.max_length), label))
        )
    if rules.min is not None:
        low = bound_value(rules.min, field.type, now)
        checks.append(("min", _named(pa.Check.ge(low), f">= {rules.min}")))
    if rules.max is not None:
        high = bound_value(rules.max, field.type, now)
        checks.append(("max", _named(pa.Check.le(high), f"<= {rules.max}")))
    return checks


def bound_value(bound: Bound, kind: FieldType, now: datetime) -> Any:
    """A rule's min/max as a value comparable with the field ('now' allows one day of skew)."""
    if kind.is_dated:
        if bound == "now":
            moment = now + timedelta(days=1)
        else:
            moment = datetime.fromisoformat(str(bound))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return moment.date() if kind is FieldType.DATE else moment
    if isinstance(bound, str):
        return float(bound)
    return bound


def _named(check: pa.Check, label: str) -> pa.Check:
    check.name = label
    check.error = label
    return check


def _reference_check(target: str, keys: pl.Series) -> pa.Check:
    label = f"exists in {target}"
    key_list = keys.drop_nulls().unique()
    return pa.Check(
        lambda data: data.lazyframe.select(
            pl.col(data.key).is_in(key_list.implode()) | pl.col(data.key).is_null()
        ),
        name=label,
        error=label,
    )
