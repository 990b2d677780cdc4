"""The demo's calendar: activity window, launch date, drawing and formatting timestamps.

All timestamps are generated as naive UTC ``Datetime("us")`` values and only turned into
text (with ``+0000``, ``Z`` or a local offset) when an export is written.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import polars as pl

from workbench.demo.rng import Stream

WINDOW_START = datetime(2025, 9, 1)
WINDOW_END = datetime(2026, 11, 1)  # exclusive: activity runs through 2026-10-31
EXPORTED_AT = WINDOW_END  # the moment every export was taken
LAUNCH = datetime(2026, 5, 1)  # the canary segment
WAVE2_LAUNCH = datetime(2026, 8, 1)  # the second wave of the staggered rollout
HISTORY_START = datetime(2019, 1, 1)  # earliest contact/account creation

SF_UTC = "%Y-%m-%dT%H:%M:%S%.3f+0000"  # 2025-03-04T10:22:33.000+0000
SF_LOCAL = "%Y-%m-%dT%H:%M:%S%.3f%z"  # 2026-09-30T22:00:00.000-0500
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"  # 2025-03-04T10:22:33Z
ISO_LOCAL = "%Y-%m-%dT%H:%M:%S%:z"  # 2025-03-04T11:22:33+01:00
ISO_MS_UTC = "%Y-%m-%dT%H:%M:%S%.3fZ"  # 2025-03-04T10:22:33.123Z
GERMAN_DATE = "%d.%m.%Y"

_US_PER_HOUR = 3_600_000_000
_US_PER_DAY = 24 * _US_PER_HOUR


def window_dates() -> tuple[date, date, date]:
    """(first day, last day, launch day) of the activity window."""
    return WINDOW_START.date(), (WINDOW_END - timedelta(days=1)).date(), LAUNCH.date()


def seasonal_factor(ts: pl.Expr, amplitude: float) -> pl.Expr:
    """A mild yearly cycle shared by every segment: ``1 + a * sin(2 pi (month - 1) / 12)``."""
    return 1.0 + amplitude * ((ts.dt.month().cast(pl.Float64) - 1.0) * (math.pi / 6)).sin()


def business_times(
    stream: Stream, n: int, start: datetime = WINDOW_START, end: datetime = WINDOW_END
) -> pl.Series:
    """``n`` moments in [start, end): weekdays busier, August and December quieter,
    a slow upward trend, office hours (around 10:30 UTC, spread 3 h)."""
    days = (end - start).days
    weights = []
    for d in range(days):
        date_ = start + timedelta(days=d)
        w = (0.25 if date_.weekday() == 5 else 0.15) if date_.weekday() >= 5 else 1.0
        w *= {8: 0.8, 12: 0.75}.get(date_.month, 1.0)
        weights.append(w * (1.0 + 0.2 * d / days))
    day = stream.choice(n, weights)
    hour = (stream.normal(n) * 3.0 + 10.5).clip(0.0, 23.99)
    micros = day * _US_PER_DAY + (hour * _US_PER_HOUR).cast(pl.Int64)
    return _after(start, micros + stream.integers(n, 0, 1_000_000))


def uniform_times(stream: Stream, n: int, start: datetime, end: datetime) -> pl.Series:
    """``n`` moments uniform in [start, end), at microsecond resolution."""
    span = int((end - start) / timedelta(microseconds=1))
    return _after(start, stream.integers(n, 0, span))


def skewed_times(stream: Stream, n: int, start: datetime, end: datetime, power: float) -> pl.Series:
    """``n`` moments in [start, end) leaning towards ``end`` when ``power`` < 1."""
    span = int((end - start) / timedelta(microseconds=1))
    return _after(start, (stream.uniform(n).pow(power) * span).cast(pl.Int64).clip(0, span - 1))


def hours(x: pl.Expr) -> pl.Expr:
    """A duration of ``x`` hours (float)."""
    return pl.duration(microseconds=(x * _US_PER_HOUR).cast(pl.Int64))


def _after(start: datetime, micros: pl.Series) -> pl.Series:
    """``start`` plus each of ``micros`` microseconds."""
    return pl.select(pl.lit(start) + pl.duration(microseconds=pl.lit(micros))).to_series()


def format_times(
    frame: pl.DataFrame, column: str, zone_column: str, utc_format: str, local_format: str
) -> pl.Series:
    """Timestamps of ``column`` as text: rows whose ``zone_column`` is null in UTC with
    ``utc_format``; the others in their IANA zone with ``local_format`` (which shows the
    offset, e.g. ``-0500`` or ``+02:00``). Nulls stay null."""
    indexed = frame.select(
        pl.int_range(pl.len()).alias("_i"), pl.col(column).alias("_t"), pl.col(zone_column)
    )
    utc = indexed.filter(pl.col(zone_column).is_null()).select(
        "_i", pl.col("_t").dt.strftime(utc_format).alias("_s")
    )
    parts = [utc]
    local = indexed.filter(pl.col(zone_column).is_not_null())
    for (zone,), part in sorted(
        local.partition_by(zone_column, as_dict=True, maintain_order=True).items()
    ):
        text = (
            pl.col("_t")
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(str(zone))
            .dt.strftime(local_format)
        )
        parts.append(part.select("_i", text.alias("_s")))
    return pl.concat(parts).sort("_i")["_s"].rename(column)
