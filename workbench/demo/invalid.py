"""Invalid rows injected into the exports, so that validation has something to quarantine.

About :data:`RATE` of the rows of six exports get exactly one error each (at least one row
per kind, however small the demo), of kinds real exports have: a malformed email, an Id
used twice, a country name where an ISO code belongs, an impossible date, a missing amount,
a currency spelled out, a value outside its list, a word where a timestamp belongs, a
negative amount or latency. Rows of trap people are never touched.

Each export's function returns the export with the bad values and the rows of
``truth/injected_errors.csv`` (:data:`COLUMNS`): the source, the record's id as written,
its 1-based data row (the line, for NDJSON), the canonical field, the kind of error and the
bad value as written (empty when the value was removed).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from workbench.demo import data
from workbench.demo.rng import Stream

RATE = 0.004
COLUMNS = ("source", "record_id", "row_number", "field", "kind", "value")
KINDS = (
    "bad_email", "duplicate_id", "bad_country", "impossible_date", "missing_required",
    "bad_currency", "not_allowed", "not_a_timestamp", "negative",
)  # fmt: skip

# Currencies as a billing clerk spells them out; none matches the [A-Z]{3} rule.
CURRENCY_WORDS = {"EUR": "Euro", "USD": "Dollar", "GBP": "Pfund"}
# Words typed where a timestamp belongs (no null token such as "n/a": that reads as empty).
TIMESTAMP_WORDS = (("yesterday", 0.4), ("today", 0.2), ("last week", 0.15),
                   ("2 days ago", 0.15), ("TBD", 0.1))  # fmt: skip
PRIORITY_WORDS = (("critical", 0.6), ("medium", 0.25), ("P1", 0.15))


@dataclass(frozen=True)
class Injected:
    """An export with its injected errors."""

    export: pl.DataFrame
    kind: pl.Series  # per row: the kind of error injected into it, or null
    errors: pl.DataFrame  # the rows of truth/injected_errors.csv for this export


@dataclass(frozen=True)
class _Error:
    """One kind of error: the export column it breaks and the bad value it writes there."""

    kind: str
    field: str  # canonical field (data dictionary)
    column: str  # export column
    bad: pl.Expr  # the bad value, from the row's own values


EVERY_ROW = pl.lit(True)


def crm_contacts(export: pl.DataFrame, keep: pl.Series, seed: int) -> Injected:
    """Malformed emails, Ids used a second time (a later row takes the Id of an earlier
    clean row, almost always another person's) and country names instead of ISO codes."""
    s = Stream(seed, "invalid.crm_contacts")
    n = export.height
    email_variant = pl.lit(s.integers(n, 0, 5))
    kind = pick_kinds(
        export,
        {
            "bad_email": pl.col("Email").is_not_null(),
            "duplicate_id": _has_free_rows_before(keep, error_count(n, 3)),
            "bad_country": pl.col("MailingCountry").is_not_null(),
        },
        keep,
        s,
    )
    clean = (~keep & kind.is_null()).cast(pl.Int64)
    before = clean.cum_sum() - clean  # clean rows above each row
    pick = (s.uniform(n) * before).floor().cast(pl.Int64).clip(0, None)
    earlier_id = export["Id"].gather(clean.cast(pl.Boolean).arg_true().gather(pick))
    errors = [
        _Error("bad_email", "email", "Email", malformed_email(pl.col("Email"), email_variant)),
        _Error("duplicate_id", "record_id", "Id", pl.lit(earlier_id)),
        _Error("bad_country", "country", "MailingCountry",
               pl.col("MailingCountry").replace_strict(data.COUNTRY_NAMES_EN)),
    ]  # fmt: skip
    return _apply("crm_contacts", export, "Id", errors, kind)


def crm_deals(export: pl.DataFrame, seed: int) -> Injected:
    """Negative amounts (a refund typed into the deal)."""
    s = Stream(seed, "invalid.crm_deals")
    kind = pick_kinds(export, {"negative": pl.col("Amount").str.contains("[1-9]")}, None, s)
    errors = [_Error("negative", "amount", "Amount", "-" + pl.col("Amount"))]
    return _apply("crm_deals", export, "Id", errors, kind)


def billing_customers(export: pl.DataFrame, keep: pl.Series, seed: int) -> Injected:
    """Impossible creation dates (``31.02.2026``) and malformed emails."""
    s = Stream(seed, "invalid.billing_customers")
    n = export.height
    date_variant, email_variant = pl.lit(s.integers(n, 0, 6)), pl.lit(s.integers(n, 0, 5))
    kind = pick_kinds(
        export,
        {"impossible_date": EVERY_ROW, "bad_email": pl.col("E-Mail").is_not_null()},
        keep,
        s,
    )
    errors = [
        _Error("impossible_date", "created_at", "Angelegt",
               impossible_date(pl.col("Angelegt"), date_variant)),
        _Error("bad_email", "email", "E-Mail", malformed_email(pl.col("E-Mail"), email_variant)),
    ]  # fmt: skip
    return _apply("billing_customers", export, "KundenNr", errors, kind)


def billing_invoices(export: pl.DataFrame, seed: int) -> Injected:
    """Missing amounts, currencies spelled out (``Euro``) and impossible invoice dates."""
    s = Stream(seed, "invalid.billing_invoices")
    date_variant = pl.lit(s.integers(export.height, 0, 6))
    kinds = ("missing_required", "bad_currency", "impossible_date")
    kind = pick_kinds(export, dict.fromkeys(kinds, EVERY_ROW), None, s)
    errors = [
        _Error("missing_required", "amount", "Betrag", pl.lit(None, dtype=pl.String)),
        _Error("bad_currency", "currency", "Waehrung",
               pl.col("Waehrung").replace_strict(CURRENCY_WORDS)),
        _Error("impossible_date", "invoice_date", "Datum",
               impossible_date(pl.col("Datum"), date_variant)),
    ]  # fmt: skip
    return _apply("billing_invoices", export, "RechnungsNr", errors, kind)


def support_tickets(export: pl.DataFrame, seed: int) -> Injected:
    """Unknown priorities (``critical``) and words where a timestamp belongs."""
    s = Stream(seed, "invalid.support_tickets")
    n = export.height
    priority, created = pl.lit(s.pick(n, PRIORITY_WORDS)), pl.lit(s.pick(n, TIMESTAMP_WORDS))
    kinds = ("not_allowed", "not_a_timestamp")
    kind = pick_kinds(export, dict.fromkeys(kinds, EVERY_ROW), None, s)
    errors = [
        _Error("not_allowed", "priority", "priority", priority),
        _Error("not_a_timestamp", "created_at", "created_at", created),
    ]
    return _apply("support_tickets", export, "id", errors, kind)


def sync_events(export: pl.DataFrame, seed: int) -> Injected:
    """Negative latencies (clocks out of step) and status ``unknown``."""
    s = Stream(seed, "invalid.sync_events")
    kind = pick_kinds(export, dict.fromkeys(("negative", "not_allowed"), EVERY_ROW), None, s)
    errors = [
        _Error("negative", "latency_ms", "latency_ms", -(pl.col("latency_ms") % 400 + 1)),
        _Error("not_allowed", "status", "status", pl.lit("unknown")),
    ]
    return _apply("sync_events", export, "event_id", errors, kind)


def error_count(rows: int, kinds: int) -> int:
    """Rows to break in an export of ``rows``: :data:`RATE` of them, at least one per kind."""
    return min(rows, max(kinds, round(RATE * rows)))


def pick_kinds(
    export: pl.DataFrame, applies: dict[str, pl.Expr], keep: pl.Series | None, s: Stream
) -> pl.Series:
    """Per row, the kind of error it gets (null for most).

    ``applies`` maps each kind to the rows it can break. Rows are taken in a random order;
    each kind takes its share of :func:`error_count` among the rows it applies to, never a
    ``keep`` row, and a row gets one kind at most.
    """
    n = export.height
    total = error_count(n, len(applies))
    spare = pl.lit(~keep) if keep is not None else EVERY_ROW
    possible = export.select(  # one value per row, literal or not
        (pl.repeat(True, pl.len()) & spare & rows).alias(k) for k, rows in applies.items()
    )
    order = s.permutation(n)
    kind = pl.Series("kind", [None] * n, dtype=pl.String)
    for i, name in enumerate(applies):
        share = total // len(applies) + (i < total % len(applies))
        free = possible[name] & kind.is_null()
        kind = kind.scatter(order.filter(free.gather(order)).head(share), name)
    return kind


def _apply(
    source: str, export: pl.DataFrame, id_column: str, errors: list[_Error], kind: pl.Series
) -> Injected:
    """Write each error's bad value into its column on the rows of its kind."""
    columns: dict[str, pl.Expr] = {}
    for error in errors:
        otherwise = columns.get(error.column, pl.col(error.column))
        columns[error.column] = (
            pl.when(pl.lit(kind) == error.kind).then(error.bad).otherwise(otherwise)
        )
    broken = export.with_columns(expr.alias(column) for column, expr in columns.items())
    field = {e.kind: e.field for e in errors}
    column = {e.kind: e.column for e in errors}
    hits = broken.with_columns(kind=kind, row_number=pl.int_range(1, pl.len() + 1)).filter(
        pl.col("kind").is_not_null()
    )
    value = pl.coalesce(
        pl.when(pl.col("kind") == k).then(pl.col(c).cast(pl.String)) for k, c in column.items()
    )
    rows = hits.select(
        pl.lit(source).alias("source"),
        pl.col(id_column).cast(pl.String).alias("record_id"),
        "row_number",
        pl.col("kind").replace_strict(field).alias("field"),
        "kind",
        value.alias("value"),
    )
    return Injected(export=broken, kind=kind, errors=rows)


def malformed_email(email: pl.Expr, variant: pl.Expr) -> pl.Expr:
    """``anna.mueller@``, ``anna mueller@acme.com``, ``anna@@acme.com``, ``anna@acme,com``
    or ``anna at acme.com`` (by ``variant`` 0-4)."""
    parts = email.str.split_exact("@", 1)
    local, domain = parts.struct.field("field_0"), parts.struct.field("field_1")
    spaced = (
        pl.when(local.str.contains(r"[._]"))
        .then(local.str.replace(r"[._]", " "))
        .otherwise(local.str.slice(0, 1) + " " + local.str.slice(1))
    )
    return (
        pl.when(variant == 0).then(local + "@")
        .when(variant == 1).then(spaced + "@" + domain)
        .when(variant == 2).then(local + "@@" + domain)
        .when(variant == 3).then(local + "@" + domain.str.replace(r"\.([^.]*)$", ",$1"))
        .otherwise(local + " at " + domain)
    )  # fmt: skip


def impossible_date(german: pl.Expr, variant: pl.Expr) -> pl.Expr:
    """A ``dd.mm.yyyy`` date made impossible in its own year: ``31.02.``, ``30.02.``,
    ``31.04.``, day ``00``, month ``13`` or both (by ``variant`` 0-5)."""
    day, month, year = german.str.slice(0, 2), german.str.slice(3, 2), german.str.slice(6)
    return (
        pl.when(variant == 0).then("31.02." + year)
        .when(variant == 1).then("30.02." + year)
        .when(variant == 2).then("31.04." + year)
        .when(variant == 3).then("00." + month + "." + year)
        .when(variant == 4).then(day + ".13." + year)
        .otherwise("00.13." + year)
    )  # fmt: skip


def _has_free_rows_before(keep: pl.Series, injected: int) -> pl.Expr:
    """Rows with more than ``injected`` rows not to keep above them: one of those is left
    clean whatever else is injected, for a duplicated Id to copy."""
    spare = (~keep).cast(pl.Int64)
    return pl.lit((spare.cum_sum() - spare) > injected)
