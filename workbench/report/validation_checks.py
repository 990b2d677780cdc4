"""The checks validation runs on a source, in words: what each expects and its severity.

They are the ones validation generates from the data dictionary for the source's mapped
fields (:mod:`workbench.validate.schemas`): required, unique, readable as the field's type,
email format, regex, allowed values, length, min and max, references. The validation pages
(:mod:`workbench.report.validation_pages`) show each with its results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from workbench.config import Project
from workbench.dictionary import FieldSpec, FieldType, RuleName
from workbench.formatting import number_text
from workbench.validate.schemas import READABLE, UNIQUE, rule_checks

NOT_NULL = "not_nullable"  # pandera's name for the check of a required field
ALLOWED_SHOWN = 12  # allowed values spelled out in an expectation
UNTYPED = (FieldType.TEXT, FieldType.EMAIL, FieldType.PHONE)  # staging reads any text


@dataclass(frozen=True)
class Check:
    """One check validation runs on one source's rows (``check`` is its name in
    ``quar.failures`` and in the ``validity:<check>`` metric)."""

    object: str
    source: str
    column: str
    rule: str  # required, unique, type, format, regex, allowed, max_length, min, max, ...
    check: str
    expectation: str
    severity: str  # error (the row is quarantined) or warn (the value is set aside)


def source_checks(project: Project, source_name: str) -> list[Check]:
    """The checks validation generates for one source: every rule of the dictionary that
    applies to a field the source maps, in the dictionary's field order. A ``references``
    check is listed here, but runs only where the same system stages the target."""
    source = project.source(source_name)
    spec = project.dictionary.object(source.object)
    now = datetime.now(UTC)  # the checks' names do not depend on the clock
    out: list[Check] = []
    for name, field in spec.fields.items():
        if name in source.columns:
            out.extend(
                Check(source.object, source_name, name, rule, check, expectation, severity)
                for rule, check, expectation, severity in _field_checks(name, field, now)
            )
    return out


def _field_checks(name: str, field: FieldSpec, now: datetime) -> list[tuple[str, str, str, str]]:
    """(rule, check, expectation, severity) of every check of one field."""

    def level(rule: RuleName) -> str:
        return field.rules.severity_of(rule, required=field.required)

    out = []
    if field.required:
        out.append(("required", NOT_NULL, "not empty (the field is required)", "error"))
    if field.unique:
        out.append(("unique", UNIQUE, "unique within the source (the first is kept)", "error"))
    if field.type not in UNTYPED:
        out.append(("type", READABLE, _readable(field), level("format")))
    for rule, check in rule_checks(name, field, now=now):
        label = str(check.name)
        out.append((rule, label, _expectation(rule, field, label), level(rule)))
    if field.rules.references:
        label = f"exists in {field.rules.references}"
        out.append(("references", label, f"{label} (of the same system)", level("references")))
    return out


def _readable(field: FieldSpec) -> str:
    money = ", with an fx rate for its month" if field.currency_field else ""
    return f"readable as {field.type.value}{money}"


def _expectation(rule: str, field: FieldSpec, check: str) -> str:
    """What a check expects, in words (its name, or the whole allowed list)."""
    if rule == "format":
        return "an email address (name@domain)"
    if rule == "allowed" and field.rules.allowed and len(field.rules.allowed) <= ALLOWED_SHOWN:
        return "one of " + ", ".join(field.rules.allowed)
    if rule == "max" and field.rules.max == "now":
        return "<= now (not in the future; a day of clock skew allowed)"
    bound = field.rules.min if rule == "min" else field.rules.max if rule == "max" else None
    if isinstance(bound, int | float) and not isinstance(bound, bool):
        return f"{'>=' if rule == 'min' else '<='} {number_text(float(bound), 6)}"  # no 1e-06
    return check
