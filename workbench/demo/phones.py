"""Phone numbers written the many ways people write them.

A person's number is stored as parts (calling code, trunk prefix, area code, subscriber
number); :func:`phone_texts` renders each record's number in one of ten styles, with
North American numbers following their own conventions.
"""

from __future__ import annotations

import polars as pl

from workbench.demo.rng import Stream

STYLES = (
    "+49 30 1234567 / +1 (415) 555-0132",
    "030 1234567 / (415) 555-0132",
    "(030) 123-4567 / (415) 555-0132",
    "0049301234567 / 1-415-555-0132",
    "+49301234567 / +14155550132",
    "+49 (0)30 1234567 / +1 415-555-0132",
    "030-1234567 / 415.555.0132",
    "0301234567 / 4155550132",
    "+49 30 123 4567 / +1 415 555 0132",
    "030/1234567 / 415-555-0132",
)

# Style weights per system (indexes into STYLES).
CRM_STYLES = (0.3, 0.15, 0.05, 0.04, 0.14, 0.08, 0.06, 0.04, 0.1, 0.04)
BILLING_STYLES = (0.08, 0.3, 0.06, 0.1, 0.04, 0.04, 0.1, 0.12, 0.02, 0.14)
SUPPORT_STYLES = (0.15, 0.1, 0.05, 0.03, 0.4, 0.04, 0.05, 0.08, 0.08, 0.02)


def _cat(*parts: str | pl.Expr) -> pl.Expr:
    """Concatenate expressions and literal strings."""
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])


def phone_texts(frame: pl.DataFrame, s: Stream, weights: tuple[float, ...]) -> pl.Series:
    """Each row's number (``calling_code``, ``trunk``, ``area_code``, ``subscriber``) as text."""
    style = pl.lit(s.choice(frame.height, weights))
    cc, trunk, area, sub = (pl.col(c) for c in ("calling_code", "trunk", "area_code", "subscriber"))
    head, tail = sub.str.slice(0, 3), sub.str.slice(3)
    national = trunk + area
    generic = [
        _cat("+", cc, " ", area, " ", sub),
        _cat(national, " ", sub),
        _cat("(", national, ") ", head, "-", tail),
        _cat("00", cc, area, sub),
        _cat("+", cc, area, sub),
        pl.when(trunk != "")
        .then(_cat("+", cc, " (", trunk, ")", area, " ", sub))
        .otherwise(_cat("+", cc, " ", area, " ", sub)),
        _cat(national, "-", sub),
        _cat(national, sub),
        _cat("+", cc, " ", area, " ", head, " ", tail),
        _cat(national, "/", sub),
    ]
    north_american = [
        _cat("+1 (", area, ") ", head, "-", tail),
        _cat("(", area, ") ", head, "-", tail),
        _cat("(", area, ") ", head, "-", tail),
        _cat("1-", area, "-", head, "-", tail),
        _cat("+1", area, sub),
        _cat("+1 ", area, "-", head, "-", tail),
        _cat(area, ".", head, ".", tail),
        _cat(area, sub),
        _cat("+1 ", area, " ", head, " ", tail),
        _cat(area, "-", head, "-", tail),
    ]
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for i in reversed(range(len(STYLES))):
        chosen = pl.when(cc == "1").then(north_american[i]).otherwise(generic[i])
        expr = pl.when(style == i).then(chosen).otherwise(expr)
    return frame.select(expr.alias("phone")).to_series()
