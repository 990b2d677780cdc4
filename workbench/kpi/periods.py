"""Reporting periods: grains, labels such as ``2026-09``, and parsing them back.

A period is half-open, ``[start, end)`` in UTC. Labels: day ``2026-09-30``, week
``2026-W40`` (ISO weeks, starting Monday), month ``2026-09``, quarter ``2026-Q3``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Literal

import polars as pl
from dateutil.relativedelta import relativedelta

from workbench.errors import ConfigError

Grain = Literal["day", "week", "month", "quarter"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month", "quarter")

_PATTERNS: list[tuple[Grain, re.Pattern[str]]] = [
    ("day", re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
    ("week", re.compile(r"^(\d{4})-W(\d{2})$")),
    ("month", re.compile(r"^(\d{4})-(\d{2})$")),
    ("quarter", re.compile(r"^(\d{4})-Q([1-4])$")),
]


def step(grain: Grain, n: int = 1) -> relativedelta:
    """The length of ``n`` periods of ``grain``."""
    return {
        "day": relativedelta(days=n),
        "week": relativedelta(weeks=n),
        "month": relativedelta(months=n),
        "quarter": relativedelta(months=3 * n),
    }[grain]


_OFFSETS = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "3mo"}  # polars' spelling
# a gap this short before a period's end is no sign of a cut (a quiet night; a weekend at
# the end of a week, month or quarter)
_SLACK = {
    "day": timedelta(hours=1),
    "week": timedelta(days=1),
    "month": timedelta(days=3),
    "quarter": timedelta(days=3),
}


def gap_to_end(start: datetime, grain: Grain, newest: datetime) -> timedelta:
    """How long before the end of the period of ``grain`` starting at ``start`` its newest
    row (``newest``) is dated."""
    return start + step(grain) - newest


def loaded_after(start: datetime, grain: Grain, loaded: datetime | None) -> bool:
    """Whether every export was loaded after the period of ``grain`` starting at ``start``
    ended (``loaded``: the earliest of the sources' latest loads, naive UTC; None: not
    known). Then its data is taken as whole, however early its newest row: a December
    whose last row is dated the 23rd, loaded in January, had its holidays."""
    return loaded is not None and loaded >= start + step(grain)


def is_partial(gap: timedelta, grain: Grain, usual: timedelta | None) -> bool:
    """Whether a period whose newest row is dated ``gap`` before its end is cut short (an
    export taken mid-month, or the month in progress): the gap is longer than a quiet
    spell (a weekend) beyond the ``usual`` one, the longest of the periods before (None:
    there were none, and nothing tells). Data that comes early in every month (invoices on
    the 1st) or only now and then is not taken for a cut; data that comes every day and
    stops on the 17th is. Such a period's values are not final (leads not yet answered or
    converted, tickets not yet solved)."""
    return usual is not None and short_of_end(gap, grain) and gap > usual + _SLACK[grain]


def short_of_end(gap: timedelta, grain: Grain) -> bool:
    """Whether the newest row is dated further before its period's end than a quiet spell
    (the first sign of a cut, :func:`is_partial`)."""
    return gap > _SLACK[grain]


def whole_periods(values: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    """The rows of ``values`` (KPI values per period: ``grain``, ``period_start``) whose
    period lies wholly within ``[start, end)``. A period that straddles a bound, such as
    the month of a launch on the 15th, belongs to neither side: its value mixes both."""
    if values.height == 0:
        return values
    grains = values["grain"].unique().to_list()
    if len(grains) != 1 or grains[0] not in _OFFSETS:
        raise ValueError(f"KPI values of one known grain expected, not {grains}")
    period_end = pl.col("period_start").dt.offset_by(_OFFSETS[grains[0]])
    return values.filter((pl.col("period_start") >= start) & (period_end <= end))


def label(start: date | datetime, grain: Grain) -> str:
    """The label of the period starting at ``start``."""
    d = start.date() if isinstance(start, datetime) else start
    if grain == "day":
        return d.isoformat()
    if grain == "week":
        year, week, _ = d.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{d.year}-{d.month:02d}"
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def parse(text: str, grain: Grain | None = None) -> tuple[Grain, date]:
    """Read a period label; returns its grain and first day.

    Raises:
        ConfigError: the label is not one of the four forms, or not of ``grain``.
    """
    for kind, pattern in _PATTERNS:
        match = pattern.match(text.strip())
        if not match:
            continue
        if grain is not None and kind != grain:
            break
        try:
            return kind, _first_day(kind, [int(g) for g in match.groups()])
        except ValueError:
            break
    raise ConfigError(
        f"{text!r} is not a {grain or 'period'} label.",
        where="--period",
        fix="Write a month as 2026-09, a quarter as 2026-Q3, an ISO week as 2026-W39, "
        "a day as 2026-09-30 (matching --grain when given).",
    )


def _first_day(grain: Grain, parts: list[int]) -> date:
    if grain == "day":
        return date(parts[0], parts[1], parts[2])
    if grain == "week":
        return date.fromisocalendar(parts[0], parts[1], 1)
    if grain == "month":
        return date(parts[0], parts[1], 1)
    return date(parts[0], 3 * parts[1] - 2, 1)


def bounds(text: str, grain: Grain | None = None) -> tuple[Grain, datetime, datetime]:
    """The grain and UTC ``[start, end)`` of a period label (naive datetimes, meaning UTC)."""
    kind, first = parse(text, grain)
    start = datetime(first.year, first.month, first.day)
    return kind, start, start + step(kind)


def previous(text: str, grain: Grain | None = None) -> str:
    """The label of the period before ``text`` (e.g. ``2026-08`` for ``2026-09``)."""
    kind, first = parse(text, grain)
    return label(first - step(kind), kind)


def last_complete(today: date, grain: Grain = "month") -> str:
    """The last period of ``grain`` that ended before ``today`` (for scheduled reports)."""
    _, current = parse(label(today, grain), grain)
    return label(current - timedelta(days=1), grain)
