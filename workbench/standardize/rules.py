"""Standardization rules, one small function each (polars expressions or series in, out)."""

from __future__ import annotations

import duckdb
import polars as pl

from workbench.standardize import phones

# a local part, then a domain of two or more labels, none empty (no leading, trailing or
# doubled dot: 'a@.x.com' and 'a@x..com' are no addresses)
EMAIL_PATTERN = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"
# shared mailboxes (info@, sales@, ...): many people write from them, so they identify no one
ROLE_MAILBOXES = (
    "info|sales|team|support|office|admin|contact|hello|mail|service|billing|accounts|"
    "finance|hr|jobs|marketing|noreply|no-reply|enquiries|inquiries|kontakt|buero|empfang"
)

# Lower-case, drop dots, punctuation and legal-form words: "ACME Inc." == "Acme" == "acme, inc"
COMPANY_KEY = (
    "nullif(trim(regexp_replace(regexp_replace(replace(strip_accents(lower({x})), '.', ''), "
    "'[^a-z0-9 ]', ' ', 'g'), "
    "'\\b(inc|incorporated|llc|ltd|limited|gmbh|ag|sa|sas|sarl|bv|nv|plc|co|corp|"
    "corporation|company|srl|spa|oy|ab|as|kg|se|kk|pte|pty)\\b|\\s+', ' ', 'g')), '')"
)  # DuckDB SQL; {x} is the column


def email(value: pl.Expr) -> pl.Expr:
    """Trim and lower-case an email address, and drop a dot that ends it: ``x.com.`` is the
    fully qualified spelling of ``x.com`` (and, ending a sentence, a typo of it)."""
    return value.str.strip_chars().str.to_lowercase().str.strip_suffix(".")


def email_without_alias(value: pl.Expr) -> pl.Expr:
    """``anna+news@x.com`` -> ``anna@x.com`` (on an already lower-cased address)."""
    return value.str.replace(r"^([^@+]+)\+[^@]*@", "${1}@")


def allowed_spelling(value: pl.Expr, allowed: list[str]) -> pl.Expr:
    """A value that is one of ``allowed`` but for case and surrounding spaces, in the
    dictionary's spelling (``emea`` -> ``EMEA``); any other value as it was, for validation
    to judge. Allowed values that differ only in case are left to match exactly."""
    lowered: dict[str, list[str]] = {}
    for a in allowed:
        lowered.setdefault(a.strip().lower(), []).append(a)
    unique = {k: v[0] for k, v in lowered.items() if len(v) == 1}
    if not unique:
        return value
    key = value.str.strip_chars().str.to_lowercase()
    spelled = key.replace_strict(unique, default=None, return_dtype=pl.String)
    exact = value.is_in(allowed)
    return pl.when(exact | spelled.is_null()).then(value).otherwise(spelled)


def person_name(value: pl.Expr) -> pl.Expr:
    """Unicode NFC, single spaces, and Title Case where the source shouted or whispered.

    Mixed-case names (``McDonald``, ``van der Berg``) are kept as the source wrote them.
    """
    clean = value.str.normalize("NFC").str.replace_all(r"\s+", " ").str.strip_chars()
    flat = (clean == clean.str.to_uppercase()) | (clean == clean.str.to_lowercase())
    return pl.when(flat).then(clean.str.to_titlecase()).otherwise(clean)


def phone_region(field: str | None, columns: list[str], default: str | None) -> pl.Expr:
    """The country to read a record's national phone numbers in: its ``field`` when that
    holds a two-letter ISO code (in either case: ``de`` is DE), else the source's
    ``default`` (None: numbers must be written with their country code)."""
    fallback = pl.lit(default, pl.String)
    if field is None or field not in columns:
        return fallback
    code = pl.col(field).cast(pl.String).str.strip_chars().str.to_uppercase()
    return pl.when(code.str.contains(r"^[A-Z]{2}$")).then(code).otherwise(fallback)


def phone_e164(raw: pl.Series, region: pl.Series) -> pl.Series:
    """Parse phone numbers with ``phonenumbers`` into E.164; None where it is not a number.

    ``region`` is the ISO country to read national numbers in (the record's country or the
    source's default); numbers written with ``+`` or ``00`` need none. Each distinct
    (number, region) pair is parsed once (on every core when there are many:
    :mod:`workbench.standardize.phones`).
    """
    pairs = pl.DataFrame({"raw": raw, "region": region})
    distinct = pairs.unique().drop_nulls("raw")
    parsed = phones.e164_all(list(distinct.iter_rows()))
    lookup = distinct.with_columns(pl.Series("e164", parsed, dtype=pl.String))
    return pairs.join(lookup, on=["raw", "region"], how="left", nulls_equal=True)["e164"]


def to_base_currency(
    frame: pl.DataFrame,
    amount: str,
    currency: str,
    month_of: pl.Expr,
    rates: pl.DataFrame,
    base: str,
) -> pl.Series:
    """``amount`` in the base currency at the rate of the month ``month_of`` gives.

    ``rates`` has columns month (first day, Date), currency, rate (base per unit). The base
    currency itself converts at 1. Missing rates give None (the caller reports them).
    """
    keyed = frame.select(
        pl.col(amount).alias("_amount"),
        pl.col(currency).alias("_currency"),
        month_of.dt.truncate("1mo").cast(pl.Date).alias("_month"),
    ).with_row_index("_i")
    joined = keyed.join(
        rates.rename({"month": "_month", "currency": "_currency", "rate": "_rate"}),
        on=["_month", "_currency"],
        how="left",
    ).sort("_i")
    rate = pl.when(pl.col("_currency") == base).then(pl.lit(1.0)).otherwise(pl.col("_rate"))
    # a decimal amount goes to DuckDB as it is (through a float, 19,999,999,999.99 came back
    # as ...99.9900016784); a float one, and the rates, hold decimals of at most 10 places,
    # which the casts to DECIMAL recover exactly
    exact = isinstance(frame.schema[amount], pl.Decimal)
    fx_values = joined.select(
        "_i",
        pl.col("_amount") if exact else pl.col("_amount").cast(pl.Float64),
        rate.cast(pl.Float64).alias("_r"),
    )
    # exact decimal arithmetic, rounded half away from zero to 4 places (cents and below)
    con = duckdb.connect()
    try:
        con.register("fx_values", fx_values)
        converted = con.sql(
            "SELECT CAST(round(CAST(_amount AS DECIMAL(28,10)) * CAST(_r AS DECIMAL(28,12)), 4) "
            "AS DECIMAL(28,4)) AS base FROM fx_values ORDER BY _i"
        ).pl()
    finally:
        con.close()
    return converted["base"]
