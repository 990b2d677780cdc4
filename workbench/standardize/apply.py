"""Apply the standardization rules to one source's staged rows, as the dictionary says.

Field types and identity kinds decide what happens:

* ``email`` fields are trimmed and lower-cased; ``<field>_norm`` also drops ``+aliases``;
* ``phone`` fields become E.164 (``phonenumbers``, national numbers read in the record's
  country, from the phone field's ``region_field``, by default the field ``country``, else
  the source's ``default_region``); ``<field>_raw`` keeps the source's spelling. A number that
  cannot be parsed stays in ``_raw`` with an empty E.164 value and is counted by the
  data-quality metrics, not quarantined: the person is still real;
* fields with ``identity: name`` are Unicode-normalized with their case fixed;
* a text field's value that is one of its ``allowed`` values but for case and surrounding
  spaces takes the dictionary's spelling (``emea`` -> ``EMEA``);
* money fields (``currency_field``) get ``<field>_base`` in the base currency at the fx
  rate of the month of their first rate date that is not in the future; a missing rate is
  a problem of the amount (its row quarantined if the amount is required, else the amount
  set aside).

Timestamps are already in UTC and enum values already mapped by staging.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from workbench.config import Source
from workbench.dictionary import FieldType, ObjectSpec
from workbench.standardize import rules


def derived_columns(spec: ObjectSpec) -> dict[str, FieldType]:
    """The columns standardization adds to an object, with their type."""
    out: dict[str, FieldType] = {}
    for name, field in spec.fields.items():
        if field.type is FieldType.EMAIL:
            out[f"{name}_norm"] = FieldType.EMAIL
        elif field.type is FieldType.PHONE:
            out[f"{name}_raw"] = FieldType.TEXT
        elif field.currency_field:
            out[f"{name}_base"] = FieldType.DECIMAL
    return out


def derived_from(spec: ObjectSpec) -> dict[str, list[str]]:
    """Per field, the columns standardization derives from it (``email`` -> ``email_norm``;
    an amount's currency -> ``amount_base``, which is converted with it)."""
    out: dict[str, list[str]] = {}
    for column in derived_columns(spec):
        out.setdefault(column.rsplit("_", 1)[0], []).append(column)
    for name, field in spec.fields.items():
        if field.currency_field:
            out.setdefault(field.currency_field, []).append(f"{name}_base")
    return out


def standardize(
    frame: pl.DataFrame,
    spec: ObjectSpec,
    source: Source,
    *,
    rates: pl.DataFrame | None,
    base_currency: str,
) -> pl.DataFrame:
    """Standardized copy of ``frame`` (one source's staged rows), problems appended."""
    exprs: list[pl.Expr] = []
    for name, field in spec.fields.items():
        if name not in frame.columns:
            continue
        col = pl.col(name)
        if field.type is FieldType.EMAIL:
            exprs += [
                rules.email(col).alias(name),
                rules.email_without_alias(rules.email(col)).alias(f"{name}_norm"),
            ]
        elif field.identity == "name" and field.type is FieldType.TEXT:
            exprs.append(rules.person_name(col).alias(name))
        elif field.rules.allowed and field.type is FieldType.TEXT:
            exprs.append(rules.allowed_spelling(col, list(field.rules.allowed)).alias(name))
    out = frame.with_columns(exprs) if exprs else frame
    for name, field in spec.fields.items():
        if field.type is FieldType.PHONE and name in out.columns:
            out = _phones(out, name, spec.region_field(name), source)
    for name, field in spec.fields.items():
        if field.currency_field and name in out.columns:
            out = _money(out, name, field.currency_field, field.rate_date, rates, base_currency)
    return out


def _phones(
    frame: pl.DataFrame, name: str, region_field: str | None, source: Source
) -> pl.DataFrame:
    region = frame.select(
        rules.phone_region(region_field, frame.columns, source.options.default_region).alias("r")
    )["r"]
    e164 = rules.phone_e164(frame[name], region)
    return frame.with_columns(pl.col(name).alias(f"{name}_raw"), e164.alias(name))


def _money(
    frame: pl.DataFrame,
    name: str,
    currency: str,
    rate_date: list[str],
    rates: pl.DataFrame | None,
    base: str,
) -> pl.DataFrame:
    # the first rate date that is not in the future (a future date is set aside by its own
    # rule; the amount should not go with it for want of a rate of that month)
    soon = (datetime.now(UTC) + timedelta(days=1)).date()
    month = pl.coalesce(
        [
            pl.when(pl.col(d).cast(pl.Date) <= soon).then(pl.col(d).cast(pl.Date))
            for d in rate_date
            if d in frame.columns
        ]
    )
    table = rates if rates is not None else _empty_rates()
    converted = rules.to_base_currency(frame, name, currency, month, table, base)
    out = frame.with_columns(converted.cast(pl.Decimal(28, 10)).alias(f"{name}_base"))
    # Only a missing rate is this rule's problem: an unreadable date or a malformed
    # currency code is already reported by staging or validation.
    missing = (
        pl.col(name).is_not_null()
        & pl.col(f"{name}_base").is_null()
        & pl.col(currency).str.contains(r"^[A-Z]{3}$")
        & month.is_not_null()
    )
    problem = pl.format(
        "{}: no fx rate for {} in {}",
        pl.lit(name),
        pl.col(currency),
        month.dt.strftime("%Y-%m"),
    )
    return out.with_columns(
        pl.when(missing)
        .then(pl.col("_problems").list.concat(pl.concat_list(problem)))
        .otherwise(pl.col("_problems"))
        .alias("_problems")
    )


def _empty_rates() -> pl.DataFrame:
    return pl.DataFrame(schema={"month": pl.Date, "currency": pl.String, "rate": pl.Float64})
