"""Where people live: countries and cities as tables, addresses, postcodes and phones."""

from __future__ import annotations

import polars as pl

from workbench.demo import data
from workbench.demo.rng import Stream

CULTURES = tuple(data.FIRST_NAMES)

COUNTRY_TABLE = pl.DataFrame(
    {
        "country": [c.iso2 for c in data.COUNTRIES],
        "region": [c.region for c in data.COUNTRIES],
        "currency": [c.currency for c in data.COUNTRIES],
        "calling_code": [c.calling_code for c in data.COUNTRIES],
        "trunk": [c.trunk for c in data.COUNTRIES],
        "number_first": [c.number_first for c in data.COUNTRIES],
        "home_culture": [CULTURES.index(c.culture) for c in data.COUNTRIES],
        "tld": [c.tld for c in data.COUNTRIES],
        "mobile_digits": [c.mobile_digits for c in data.COUNTRIES],
        "mobile_lead": [c.mobile_lead for c in data.COUNTRIES],
    }
)
_ISO2 = [c.iso2 for c in data.COUNTRIES]
_CITIES = sorted(data.CITIES, key=lambda city: _ISO2.index(city.iso2))  # grouped by country
CITY_TABLE = pl.DataFrame(
    {
        "country_code": [_ISO2.index(x.iso2) for x in _CITIES],
        "city": [x.name for x in _CITIES],
        "city_alias": [x.alias or None for x in _CITIES],
        "tz": [x.tz for x in _CITIES],
        "pc_kind": [x.postcode for x in _CITIES],
        "pc_prefix": [x.prefix for x in _CITIES],
        "pc_lo": [x.lo for x in _CITIES],
        "pc_hi": [x.hi for x in _CITIES],
        "pc_width": [x.width for x in _CITIES],
        "area_code": [x.area_code for x in _CITIES],
        "digits": [x.digits for x in _CITIES],
        "lead": [x.lead for x in _CITIES],
    }
)
PLACE_WEIGHTS = [x.weight for x in _CITIES]  # a city's share of its country's people


def with_places(frame: pl.DataFrame, s: Stream) -> pl.DataFrame:
    """Address, time zone and phone from each person's city."""
    n = frame.height
    frame = frame.with_columns(
        CITY_TABLE["country_code"].gather(frame["city_idx"]).alias("country_code")
    )
    city = gather_rows(CITY_TABLE, frame["city_idx"], CITY_TABLE.columns[1:])
    country = gather_rows(COUNTRY_TABLE, frame["country_code"], COUNTRY_TABLE.columns)
    frame = pl.concat([frame, city, country], how="horizontal")
    frame = frame.with_columns(
        _u1=s.uniform(n),
        _u2=s.uniform(n),
        _u3=s.uniform(n),
        _u4=s.uniform(n),
        _l1=s.integers(n, 0, 26),
        _l2=s.integers(n, 0, 26),
        _house=s.skewed(n, 180, 1.8) + 1,
        _street=s.pick_from(country["home_culture"], [data.STREETS[c] for c in CULTURES]),
        _mobile=s.bernoulli(n, 0.45),
        _mobile_prefix=s.pick_from(
            frame["country_code"],
            [c.mobile_prefixes or ("",) for c in data.COUNTRIES],
        ),
    )
    frame = frame.with_columns(
        _postcode(pl.col("_u1"), pl.col("_u2"), pl.col("_l1"), pl.col("_l2")).alias("postcode"),
        pl.when("number_first")
        .then(pl.col("_house").cast(pl.String) + " " + pl.col("_street"))
        .otherwise(pl.col("_street") + " " + pl.col("_house").cast(pl.String))
        .alias("street"),
    )
    use_mobile = pl.col("_mobile") & (pl.col("_mobile_prefix") != "")
    digits = pl.when(use_mobile).then("mobile_digits").otherwise("digits")
    lead = pl.when(use_mobile).then("mobile_lead").otherwise("lead")
    first = lead.str.slice((pl.col("_u3") * lead.str.len_chars()).floor().cast(pl.Int64), 1)
    rest = (pl.col("_u4") * pl.lit(10).pow(digits - 1)).floor().cast(pl.Int64).cast(pl.String)
    subscriber = first + rest.str.zfill(digits - 1)
    frame = frame.with_columns(
        pl.when(use_mobile).then("_mobile_prefix").otherwise("area_code").alias("area_code"),
        subscriber.alias("subscriber"),
    )
    return frame.drop(
        [c for c in frame.columns if c.startswith("_")]
        + [
            "pc_kind",
            "pc_prefix",
            "pc_lo",
            "pc_hi",
            "pc_width",
            "digits",
            "mobile_digits",
            "lead",
            "mobile_lead",
            "home_culture",
        ]
    )


_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _letter(code: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series(list(_LETTERS))).gather(code % len(_LETTERS))


def _postcode(u1: pl.Expr, u2: pl.Expr, l1: pl.Expr, l2: pl.Expr) -> pl.Expr:
    """A plausible postcode for each row's city, following its ``pc_kind``."""
    number = pl.col("pc_lo") + (u1 * (pl.col("pc_hi") - pl.col("pc_lo") + 1)).floor().cast(pl.Int64)
    digit = (u2 * 10).floor().cast(pl.Int64).cast(pl.String)
    digits3 = (u2 * 1000).floor().cast(pl.Int64).cast(pl.String).str.zfill(3)
    digits4 = (u2 * 10000).floor().cast(pl.Int64).cast(pl.String).str.zfill(4)
    padded = number.cast(pl.String).str.zfill(pl.col("pc_width"))
    kind = pl.col("pc_kind")
    return (
        pl.when(kind == "num")
        .then(padded)
        .when(kind == "nl")
        .then(padded + " " + _letter(l1) + _letter(l2))
        .when(kind == "gb")
        .then(
            pl.col("pc_prefix") + number.cast(pl.String) + " " + digit + _letter(l1) + _letter(l2)
        )
        .when(kind == "ca")
        .then(
            pl.col("pc_prefix")
            + digit
            + _letter(l1)
            + " "
            + digits3.str.slice(0, 1)
            + _letter(l2)
            + digits3.str.slice(1, 1)
        )
        .when(kind == "ie")
        .then(
            pl.col("pc_prefix") + number.cast(pl.String).str.zfill(2) + " " + _letter(l1) + digits3
        )
        .when(kind == "jp")
        .then(padded + "-" + digits4)
        .otherwise(padded.str.slice(0, 3) + " " + padded.str.slice(3))  # se
    )


def gather_rows(frame: pl.DataFrame, index: pl.Series, columns: list[str]) -> pl.DataFrame:
    """Rows ``index`` (repeats allowed) of ``columns`` of ``frame``."""
    return frame.select(pl.col(columns).gather(pl.lit(index)))
