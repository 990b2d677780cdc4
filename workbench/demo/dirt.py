"""Vectorised ways real data goes wrong: typos, nicknames, case, accents, blanks, variants.

Each ``with_*`` function takes a frame, the column to dirty, a :class:`Stream` and a rate,
and returns the frame with that share of rows changed. Rows are picked independently per
call, so a record can collect several kinds of dirt.
"""

from __future__ import annotations

import polars as pl

from workbench.demo import business, data
from workbench.demo.rng import Stream

_TYPO_LETTERS = pl.Series(list("aeionrstlmkhudc"))
Rate = float | pl.Series  # one share for all rows, or one per row


def ascii_fold(expr: pl.Expr) -> pl.Expr:
    """Drop accents: "José Müller" -> "Jose Muller"."""
    return expr.str.replace_many(list(data.ACCENTS), list(data.ACCENTS.values()))


def transliterate(expr: pl.Expr) -> pl.Expr:
    """German transliteration, then accents dropped: "Müller" -> "Mueller"."""
    return ascii_fold(
        expr.str.replace_many(list(data.TRANSLITERATIONS), list(data.TRANSLITERATIONS.values()))
    )


def where(frame: pl.DataFrame, column: str, hit: pl.Series, value: pl.Expr) -> pl.DataFrame:
    """Replace ``column`` by ``value`` on the rows where ``hit`` is true."""
    return frame.with_columns(
        pl.when(pl.lit(hit)).then(value).otherwise(pl.col(column)).alias(column)
    )


def with_typos(frame: pl.DataFrame, column: str, s: Stream, rate: Rate) -> pl.DataFrame:
    """Swap, drop, double or replace one inner character (never the first)."""
    n = frame.height
    text = pl.col(column)
    length = text.str.len_chars()
    pos = (1 + pl.lit(s.uniform(n)) * (length - 2)).floor().cast(pl.Int64)
    kind = pl.lit(s.integers(n, 0, 4))
    letter = pl.lit(_TYPO_LETTERS.gather(s.integers(n, 0, len(_TYPO_LETTERS))))
    swap = (
        text.str.slice(0, pos) + text.str.slice(pos + 1, 1) + text.str.slice(pos, 1)
        + text.str.slice(pos + 2)
    )  # fmt: skip
    typo = (
        pl.when(kind == 0).then(swap)
        .when(kind == 1).then(text.str.slice(0, pos) + text.str.slice(pos + 1))
        .when(kind == 2).then(text.str.slice(0, pos + 1) + text.str.slice(pos))
        .otherwise(text.str.slice(0, pos) + letter + text.str.slice(pos + 1))
    )  # fmt: skip
    hit = s.bernoulli(n, rate)
    return frame.with_columns(
        pl.when(pl.lit(hit) & (length >= 4)).then(typo).otherwise(text).alias(column)
    )


_NICK_NAMES = list(data.NICKNAMES)
_NICK_FLAT = pl.Series([nick for nicks in data.NICKNAMES.values() for nick in nicks])
_NICK_OFFSETS = [0]
for _nicks in data.NICKNAMES.values():
    _NICK_OFFSETS.append(_NICK_OFFSETS[-1] + len(_nicks))


def with_nicknames(frame: pl.DataFrame, column: str, s: Stream, rate: Rate) -> pl.DataFrame:
    """Replace a formal first name by one of its nicknames (Robert -> Bob)."""
    n = frame.height
    name = pl.col(column)
    offset = name.replace_strict(_NICK_NAMES, _NICK_OFFSETS[:-1], default=None,
                                 return_dtype=pl.Int64)  # fmt: skip
    count = name.replace_strict(
        _NICK_NAMES, [len(v) for v in data.NICKNAMES.values()], default=None,
        return_dtype=pl.Int64,
    )  # fmt: skip
    pick = offset + (pl.lit(s.uniform(n)) * count).floor().cast(pl.Int64)
    nick = pl.lit(_NICK_FLAT).gather(pick.fill_null(0))
    hit = pl.lit(s.bernoulli(n, rate)) & offset.is_not_null()
    return frame.with_columns(pl.when(hit).then(nick).otherwise(name).alias(column))


def with_case(
    frame: pl.DataFrame, column: str, s: Stream, upper: float, lower: float
) -> pl.DataFrame:
    """Write a share of values in upper case and another share in lower case."""
    u = pl.lit(s.uniform(frame.height))
    text = pl.col(column)
    return frame.with_columns(
        pl.when(u < upper)
        .then(text.str.to_uppercase())
        .when(u < upper + lower)
        .then(text.str.to_lowercase())
        .otherwise(text)
        .alias(column)
    )


def with_accents_dropped(
    frame: pl.DataFrame, column: str, s: Stream, fold: float, transliterated: float = 0.0
) -> pl.DataFrame:
    """Drop accents (Müller -> Muller) or transliterate them (Müller -> Mueller)."""
    u = pl.lit(s.uniform(frame.height))
    text = pl.col(column)
    return frame.with_columns(
        pl.when(u < fold)
        .then(ascii_fold(text))
        .when(u < fold + transliterated)
        .then(transliterate(text))
        .otherwise(text)
        .alias(column)
    )


def with_blanks(
    frame: pl.DataFrame,
    columns: list[str],
    s: Stream,
    rate: Rate,
    keep: pl.Expr | None = None,
) -> pl.DataFrame:
    """Set ``columns`` to null together on a share of rows (never where ``keep`` is true)."""
    hit = pl.lit(s.bernoulli(frame.height, rate))
    if keep is not None:
        hit = hit & ~keep
    return frame.with_columns(pl.when(~hit).then(pl.col(c)).alias(c) for c in columns)


def with_email_variants(
    frame: pl.DataFrame,
    column: str,
    s: Stream,
    *,
    upper: float,
    capitalised: float,
    plus: float,
    padded: float = 0.0,
) -> pl.DataFrame:
    """Email spellings: ``ANNA@X.COM``, ``Anna.Schmidt@x.com``, ``anna+news@x.com``, ``' a@x '``."""
    n = frame.height
    email = pl.col(column)
    local = email.str.split_exact("@", 1).struct.field("field_0")
    domain = email.str.split_exact("@", 1).struct.field("field_1")
    tag = pl.lit(pl.Series(business.PLUS_TAGS).gather(s.integers(n, 0, len(business.PLUS_TAGS))))
    u = pl.lit(s.uniform(n))
    frame = frame.with_columns(
        pl.when(u < upper)
        .then(email.str.to_uppercase())
        .when(u < upper + capitalised)
        .then(local.str.to_titlecase() + "@" + domain)
        .when(u < upper + capitalised + plus)
        .then(local + "+" + tag + "@" + domain)
        .otherwise(email)
        .alias(column)
    )
    if padded:
        frame = where(frame, column, s.bernoulli(n, padded), pl.col(column) + " ")
    return frame


def with_street_abbreviations(
    frame: pl.DataFrame, column: str, s: Stream, rate: Rate
) -> pl.DataFrame:
    """Abbreviate street types: "Hauptstraße 5" -> "Hauptstr. 5", "Church Road" -> "Church Rd"."""
    short = pl.col(column).str.replace_many(
        list(data.STREET_ABBREVIATIONS), list(data.STREET_ABBREVIATIONS.values())
    )
    return where(frame, column, s.bernoulli(frame.height, rate), short)


def company_names(frame: pl.DataFrame, s: Stream, weights: list[float]) -> pl.Series:
    """One spelling per row of the company in ``base``/``legal``/``legal_alt``/``stem``.

    ``weights`` are for, in order: the registered name ("Nordwind Systems GmbH"), no legal
    form ("Nordwind Systems"), all caps, the legal-form variant ("Nordwind Systems Gmbh"),
    lower case without legal form, caps name with legal form ("NORDWIND SYSTEMS GmbH"), and
    the short name ("Nordwind").
    """
    pick = pl.lit(s.choice(frame.height, weights))
    name = pl.col("base") + " " + pl.col("legal")
    expr = (
        pl.when(pick == 0).then(name)
        .when(pick == 1).then(pl.col("base"))
        .when(pick == 2).then(name.str.to_uppercase())
        .when(pick == 3).then(pl.col("base") + " " + pl.col("legal_alt"))
        .when(pick == 4).then(pl.col("base").str.to_lowercase())
        .when(pick == 5).then(pl.col("base").str.to_uppercase() + " " + pl.col("legal"))
        .otherwise(pl.col("stem"))
    )  # fmt: skip
    return frame.select(expr.alias("company")).to_series()


def dedupe_emails(frame: pl.DataFrame, column: str, separator: str = "") -> pl.DataFrame:
    """Make addresses unique the way mail admins do: the second "anna@x" becomes "anna2@x".

    One pass: the caller picks a ``separator`` such that a renamed address cannot equal an
    original one (e.g. "" when local parts never end in a digit, "_" when they have no "_").
    """
    ordered = frame.select(pl.int_range(pl.len()).alias("i"), pl.col(column).alias("e")).sort(
        "e", "i"
    )
    position = pl.int_range(pl.len())
    starts = pl.when(pl.col("e") != pl.col("e").shift(1)).then(position)
    ranked = ordered.select("i", (position - starts.fill_null(0).cum_max()).alias("rank"))
    rank = pl.lit(pl.zeros(frame.height, pl.Int64, eager=True).scatter(ranked["i"], ranked["rank"]))
    parts = pl.col(column).str.split_exact("@", 1)
    renamed = pl.concat_str(
        parts.struct.field("field_0"), pl.lit(separator), (rank + 1).cast(pl.String), pl.lit("@"),
        parts.struct.field("field_1"),
    )  # fmt: skip
    return frame.with_columns(
        pl.when(rank > 0).then(renamed).otherwise(pl.col(column)).alias(column)
    )
