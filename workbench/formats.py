"""Date formats and money units that sources declare, checked before any data is read.

A date or timestamp ``format`` is either a DuckDB ``strptime`` pattern (``%d.%m.%Y``) or one
of the epoch units (``epoch`` or ``epoch_s`` for seconds since 1970-01-01 UTC, ``epoch_ms``,
``epoch_us``), as many APIs export them. Amounts in minor units (Stripe's cents) are
divided by the ISO 4217 exponent of their currency (2 for EUR, 0 for JPY, 3 for KWD).
"""

from __future__ import annotations

from functools import cache

import duckdb
from iso4217 import Currency

# epoch unit -> microseconds per unit
EPOCH_UNITS = {"epoch": 1_000_000, "epoch_s": 1_000_000, "epoch_ms": 1_000, "epoch_us": 1}


def is_epoch(fmt: str) -> bool:
    """Whether ``fmt`` names an epoch unit rather than a strptime pattern."""
    return fmt in EPOCH_UNITS


def format_problem(fmt: str) -> str | None:
    """Why ``fmt`` cannot read dates (None when it can)."""
    if is_epoch(fmt):
        return None
    if "%" not in fmt:
        return (
            f"{fmt!r} is not a date format: it has no %-directive (e.g. '%d.%m.%Y'); for "
            f"seconds since 1970 use one of {', '.join(EPOCH_UNITS)}"
        )
    try:
        _checker().execute("SELECT try_strptime(NULL::VARCHAR, $f)", {"f": fmt})
    except duckdb.Error as exc:
        detail = str(exc).split("Error: ", 1)[-1]
        return (
            f"{fmt!r} is not a valid date format ({detail}); see DuckDB's strptime "
            f"directives (%Y, %m, %d, %H, %M, %S, %z, ...) or use one of {', '.join(EPOCH_UNITS)}"
        )
    return None


@cache
def _checker() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@cache
def minor_unit_exponents() -> dict[str, int]:
    """ISO 4217 exponent of every currency whose minor unit is not a hundredth."""
    return {c.code: c.exponent for c in Currency if c.exponent is not None and c.exponent != 2}
