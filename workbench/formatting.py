"""How a value reads, the same in the terminal and in a report.

Numbers never show in scientific notation; counts and large amounts get thousands
separators; shares read as percentages, money with its currency code, time stamps to the
minute. :func:`value_text` picks the form from a KPI's unit.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

# KPI units (workbench/config/kpis.yaml) that are shares and money
SHARE_UNITS = {"share", "rate", "ratio"}
MONEY_UNITS = {"base currency", "currency", "money"}


def cell_text(value: object, digits: int = 4) -> str:
    """A table cell: blank for missing, yes/no, thousands separators for counts and large
    amounts, ``digits`` significant digits for other numbers (never an exponent), time
    stamps to the minute."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if abs(value) >= 1000 or (value.is_integer() and value != 0):
            return f"{value:,.0f}"
        return number_text(value, digits)
    if isinstance(value, datetime):
        return time_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def number_text(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, written out (0.000012, not 1.2e-05)."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent_text(value: float | None, digits: int = 1) -> str:
    """A share as a percentage: 0.1234 -> ``12.3%``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value * 100:,.{digits}f}%"


def money_text(value: float | None, currency: str, digits: int = 2) -> str:
    """An amount with its ISO currency code and thousands separators: ``EUR 1,234.50``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{currency} {value:,.{digits}f}"


def time_text(value: datetime) -> str:
    """A time stamp to the minute, in UTC when it has a zone: ``2026-10-01 14:05 UTC``."""
    if value.tzinfo is None:
        return f"{value:%Y-%m-%d %H:%M}"
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def value_text(value: float | None, unit: str, currency: str = "EUR") -> str:
    """A KPI value as its unit reads: a share as %, money with the currency, else a number
    with the unit (``12.5 hours``, ``1,204 tickets``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit in SHARE_UNITS:
        return percent_text(value)
    if unit in MONEY_UNITS:
        return money_text(value, currency)
    shown = cell_text(float(value), 3)
    return f"{shown} {unit}" if unit else shown


def change_text(value: float | None, unit: str, currency: str = "EUR") -> str:
    """A change of a KPI value, signed, as its unit reads: a share's in percentage points
    (0.04 -> ``+4.0 pp``; a % would read as relative), else as :func:`value_text`
    (``+0.38 hours``, ``EUR -12.00``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit in SHARE_UNITS:
        return f"{value * 100:+,.1f} pp"
    text = value_text(value, unit, currency)
    if value > 0:
        return f"{currency} +{text[len(currency) + 1 :]}" if unit in MONEY_UNITS else f"+{text}"
    return text


# C0 and C1 control characters (but tab and newline), DEL, the line and paragraph
# separators (a line break to some terminals and viewers), and the bidirectional
# embeddings, overrides and isolates that can make text read backwards
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def plain(text: str) -> str:
    """``text`` safe to show in a terminal: control characters, escape sequences and
    bidirectional overrides become visible escapes (``ESC`` -> ``\\x1b``), so a value
    can neither colour, retitle, rewrite nor reorder what the terminal shows."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
