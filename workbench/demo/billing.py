"""The billing/ERP exports: customers, monthly invoices, exchange rates.

A German ERP: ``;``-separated Latin-1 files with CRLF line ends, German column names, the
name in one column as ``Last, First``, dates as ``dd.mm.yyyy``, amounts as ``1.234,56``.
"""

from __future__ import annotations

import math
from datetime import date

import polars as pl

from workbench.demo import data, dirt
from workbench.demo.contacts import by_duplicate, chosen_emails, contact_frame, created_times
from workbench.demo.ids import sequential_numbers
from workbench.demo.phones import BILLING_STYLES, phone_texts
from workbench.demo.rng import Stream
from workbench.demo.timeline import EXPORTED_AT, GERMAN_DATE, WINDOW_END, WINDOW_START
from workbench.demo.world import World

MONTHS = (WINDOW_END.year - WINDOW_START.year) * 12 + WINDOW_END.month - WINDOW_START.month
STATUS = {"bezahlt": "paid", "offen": "open", "storniert": "void"}
_COUNTRY_DE = {c.iso2: c.name_de for c in data.COUNTRIES}
# Every spelling of Land the export uses, mapped back to ISO codes (for workbench.yaml).
COUNTRY_MAP = {
    **{name: iso for iso, name in _COUNTRY_DE.items()},
    **{alias: iso for iso, alias in data.COUNTRY_ALIASES_DE.items()},
}


def customers(world: World, records: pl.DataFrame, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``exports/billing/customers.csv`` without ``Umsatz`` (see :func:`with_revenue`), and
    per customer what invoices need (KundenNr, person_idx, created, region, segment, ...)."""
    s = Stream(seed, "billing.customers")
    f = contact_frame(world, records)
    n = f.height
    f = f.with_columns(
        created=created_times(f, s),
        email=chosen_emails(f, s, by_duplicate(f, 0.45, 0.6)),
        phone=phone_texts(f, s, BILLING_STYLES),
        company=dirt.company_names(f, s, [0.45, 0.2, 0.12, 0.12, 0.03, 0.05, 0.03]),
        land=pl.col("country").replace_strict(_COUNTRY_DE),
    )
    alias = pl.col("country").replace_strict(
        data.COUNTRY_ALIASES_DE, default=None, return_dtype=pl.String
    )
    f = dirt.where(f, "land", s.bernoulli(n, 0.25), pl.coalesce(alias, pl.col("land")))
    f = dirt.with_nicknames(f, "first_name", s, by_duplicate(f, 0.03, 0.3))
    for column in ("first_name", "last_name", "city", "street"):
        f = dirt.with_accents_dropped(f, column, s, 0.12, transliterated=0.08)
    for column in ("first_name", "last_name"):
        f = dirt.with_typos(f, column, s, by_duplicate(f, 0.015, 0.15))
    f = dirt.with_case(f, "last_name", s, upper=0.15, lower=0.0)
    f = dirt.with_email_variants(
        f, "email", s, upper=0.05, capitalised=0.05, plus=0.02, padded=0.01
    )
    f = dirt.with_street_abbreviations(f, "street", s, 0.4)
    trap = pl.col("in_trap")
    f = dirt.with_blanks(f, ["email"], s, 0.08, keep=trap)
    f = dirt.with_blanks(f, ["phone"], s, 0.15, keep=trap)
    f = dirt.with_blanks(f, ["company"], s, 0.06)
    f = dirt.with_blanks(f, ["first_name"], s, 0.01)
    name = (
        pl.when(pl.col("first_name").is_null())
        .then(pl.col("last_name"))
        .otherwise(pl.col("last_name") + ", " + pl.col("first_name"))
    )
    f = f.sort("created", "person_idx").with_columns(
        KundenNr=sequential_numbers(n, 10_010_000, s, max_gap=4).cast(pl.String),
        Kunde=name,
    )
    export = f.select(
        "KundenNr",
        "Kunde",
        pl.col("email").alias("E-Mail"),
        pl.col("phone").alias("Telefon"),
        pl.col("company").alias("Firma"),
        pl.col("street").alias("Strasse"),
        pl.col("postcode").alias("PLZ"),
        pl.col("city").alias("Ort"),
        pl.col("land").alias("Land"),
        pl.col("created")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone("Europe/Berlin")
        .dt.strftime(GERMAN_DATE)
        .alias("Angelegt"),
    )
    kept = f.select(
        "KundenNr", "person_idx", "created", "duplicate", "region", "segment", "currency"
    )
    return export, kept


def invoices(customers: pl.DataFrame, seed: int) -> pl.DataFrame:
    """``exports/billing/invoices.csv``: monthly invoices of subscribing customers.

    About half the customers subscribe; each bills monthly from the window start (or its
    creation) until it churns (2.5% a month). Prices rise 3% in January 2026; 1.2% of
    invoices are void; the last month and 2% of older ones are still open.
    """
    s = Stream(seed, "billing.invoices")
    c = customers
    n = c.height
    created_month = (
        (pl.col("created").dt.year() - WINDOW_START.year) * 12
        + pl.col("created").dt.month().cast(pl.Int32) - WINDOW_START.month
    )  # fmt: skip
    lifetime = (pl.lit(s.uniform(n)).log() / math.log(1 - 0.025)).floor().cast(pl.Int64) + 1
    subscribes = pl.lit(s.uniform(n)) < pl.when("duplicate").then(0.2).otherwise(0.5)
    c = c.with_columns(
        start=created_month.clip(0, MONTHS).cast(pl.Int64),
        fee=pl.lit(s.lognormal(n, 350.0, 0.8)),
        day=pl.lit(s.integers(n, 1, 29)),
        lifetime=lifetime,
        subscribes=subscribes,
    ).with_columns(end=pl.min_horizontal(pl.col("start") + pl.col("lifetime"), pl.lit(MONTHS)))
    rows = (
        c.filter(pl.col("subscribes") & (pl.col("end") > pl.col("start")))
        .with_columns(month=pl.int_ranges("start", "end"))
        .explode("month")
        .with_columns(
            date=pl.date(
                WINDOW_START.year + (WINDOW_START.month - 1 + pl.col("month")) // 12,
                (WINDOW_START.month - 1 + pl.col("month")) % 12 + 1,
                pl.col("day"),
            )
        )
        .filter(pl.col("date") <= pl.lit(EXPORTED_AT.date()))
        .sort("date", "KundenNr")
    )
    m = rows.height
    raise_2026 = pl.when(pl.col("date") >= pl.lit(date(2026, 1, 1))).then(1.03).otherwise(1.0)
    usage = 1.0 + (pl.lit(s.uniform(m)) - 0.5) * 0.1
    u = pl.lit(s.uniform(m))
    recent = pl.col("date") >= pl.lit(EXPORTED_AT.date()) - pl.duration(days=30)
    status = (
        pl.when(u < 0.012).then(pl.lit("storniert"))
        .when(recent | (u > 0.98)).then(pl.lit("offen"))
        .otherwise(pl.lit("bezahlt"))
    )  # fmt: skip
    rows = rows.with_columns(
        cents=(pl.col("fee") * raise_2026 * usage * 100).round(0).cast(pl.Int64),
        Status=status,
        year=pl.col("date").dt.year(),
    ).with_columns(seq=pl.int_range(1, pl.len() + 1).over("year"))
    return rows.select(
        pl.format("RE-{}-{}", pl.col("year"), pl.col("seq").cast(pl.String).str.zfill(6)).alias(
            "RechnungsNr"
        ),
        "KundenNr",
        pl.col("date").dt.strftime(GERMAN_DATE).alias("Datum"),
        german_amount(pl.col("cents")).alias("Betrag"),
        pl.col("currency").alias("Waehrung"),
        "Status",
        pl.col("region").alias("Region"),
        pl.col("segment").alias("Segment"),
        "cents",
    )


def with_revenue(customers_export: pl.DataFrame, invoices_frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``Umsatz``: each customer's total of non-void invoices, in its currency."""
    totals = (
        invoices_frame.filter(pl.col("Status") != "storniert")
        .group_by("KundenNr")
        .agg(pl.col("cents").sum().alias("total"))
    )
    return customers_export.join(totals, on="KundenNr", how="left", maintain_order="left").select(
        pl.exclude("total"), german_amount(pl.col("total").fill_null(0)).alias("Umsatz")
    )


def fx_rates(seed: int) -> pl.DataFrame:
    """Monthly EUR per unit of EUR, USD and GBP (written by :func:`fx_rate_files`)."""
    s = Stream(seed, "billing.fx")
    months = 22  # 2025-01 .. 2026-10
    rates: dict[str, list[float]] = {"EUR": [1.0] * months}
    for currency, start, sigma in (("USD", 0.92, 0.012), ("GBP", 1.17, 0.008)):
        rate, rates[currency] = start, []
        for step in s.normal(months).to_list():
            rate *= math.exp(step * sigma)
            rates[currency].append(rate)
    rows = [
        (f"{2025 + m // 12}-{m % 12 + 1:02d}-01", currency, f"{rates[currency][m]:.6f}")
        for m in range(months)
        for currency in sorted(rates)
    ]
    return pl.DataFrame(rows, schema=["month", "currency", "rate"], orient="row")


FX_FILES = ("exports/billing/fx_rates_2025.csv", "exports/billing/fx_rates_2026.csv")
"""Finance's rates come as one file per year (one append source, ``fx_rates_*.csv``)."""


def fx_rate_files(seed: int) -> dict[str, pl.DataFrame]:
    """The rates of :func:`fx_rates` as finance exports them: one file per year
    (:data:`FX_FILES`). In 2026 finance's new tool renamed the rate's origin from
    ``fixing`` to ``rate_source`` and added ``published_on`` (the day the rate was fixed,
    the last day of the month before): the schema change between the two files that the
    demo's change log shows (``workbench schema-changes``)."""
    rates = fx_rates(seed)
    year = pl.col("month").str.slice(0, 4)
    older = rates.filter(year == "2025").with_columns(fixing=pl.lit("ECB"))
    newer = rates.filter(year == "2026").with_columns(
        rate_source=pl.lit("ECB"),
        published_on=(pl.col("month").str.to_date() - pl.duration(days=1)).dt.to_string("%Y-%m-%d"),
    )
    return dict(zip(FX_FILES, (older, newer), strict=True))


def _pad3(number: pl.Expr) -> pl.Expr:
    return number.cast(pl.String).str.zfill(3)


def german_amount(cents: pl.Expr) -> pl.Expr:
    """Integer cents as ``1.234,56`` (dot thousands, comma decimals)."""
    units = cents // 100
    fraction = (cents % 100).cast(pl.String).str.zfill(2)
    millions, thousands, ones = units // 1_000_000, (units // 1000) % 1000, units % 1000
    whole = (
        pl.when(units >= 1_000_000).then(
            millions.cast(pl.String) + "." + _pad3(thousands) + "." + _pad3(ones)
        )
        .when(units >= 1000).then(thousands.cast(pl.String) + "." + _pad3(ones))
        .otherwise(units.cast(pl.String))
    )  # fmt: skip
    return whole + "," + fraction
