"""How a value reads in a table, the same in the terminal and in a report."""

from __future__ import annotations

import math


def cell_text(value: object, digits: int = 4) -> str:
    """A table cell: blank for missing, yes/no, thousands separators for counts and large
    amounts, ``digits`` significant digits for other numbers."""
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
        return f"{value:.{digits}g}"
    return str(value)
