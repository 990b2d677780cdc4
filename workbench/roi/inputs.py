"""Volumes and prices measured from the data for ``auto`` values of ``roi.yaml``.

All are monthly means over the baseline window ``[start, end)``, over every segment (the
integration is assumed rolled out to everyone after the canary).
"""

from __future__ import annotations

from datetime import datetime

from workbench.config.kpis import KpiDef, Stat
from workbench.kpi.expressions import check_kpi
from workbench.kpi.sql import rows_sql, segment_column, utc
from workbench.packs import Volume
from workbench.store import Store, quote_ident, table

_ROWS = frozenset({Stat.MEAN, Stat.MEDIAN, Stat.QUANTILE, Stat.RATE})  # volume: rows
_DISTINCT = frozenset({Stat.PER, Stat.CHURN})  # volume: distinct `per` values
_TOTALS = frozenset({Stat.COUNT, Stat.SUM})  # the KPI is a monthly total: volume 1


AVERAGE_MONTH_DAYS = 365.25 / 12


def months_between(start: datetime, end: datetime) -> int:
    """The months ``[start, end)`` spans, to the nearest whole month (at least 1): a window
    from a clamped month end (28 Feb) to 31 May is 3 months, not 4."""
    return max(round((end - start).total_seconds() / 86_400 / AVERAGE_MONTH_DAYS), 1)


def _whole_months(start: datetime, end: datetime) -> tuple[datetime, datetime, int]:
    """The calendar months from ``start``'s month up to (not including) ``end``'s month: the
    months wholly before a launch on ``end`` but for the first's days before ``start``."""
    first = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = end.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return first, last, (last.year - first.year) * 12 + last.month - first.month


def _rows_sql(volume: Volume, params: dict[str, object]) -> str | None:
    """``FROM <object> WHERE <time in [$s, $e)> AND <filter>`` (None: not loaded)."""
    t = utc(quote_ident(volume.time))
    where = f"{t} >= $s AND {t} < $e"
    if volume.filter is not None:
        params["values"] = volume.filter.values
        where += " AND " + volume.filter.sql(quote_ident(volume.filter.field), "values")
    return f"FROM {table('core', volume.object)} WHERE {where}"


def _loaded(store: Store, volume: Volume | None) -> bool:
    """Whether the pack declares ``volume`` and its object is loaded with its fields."""
    if volume is None or not store.table_exists("core", volume.object):
        return False
    needed = {volume.time, volume.per, volume.amount, volume.filter and volume.filter.field}
    return {f for f in needed if f} <= set(store.columns("core", volume.object))


def monthly_count(store: Store, volume: Volume | None, start: datetime, end: datetime) -> float:
    """Mean number of the volume's rows per month with its time in the window (0: the pack
    declares none, or it is not loaded)."""
    if not _loaded(store, volume):
        return 0.0
    assert volume is not None
    params: dict[str, object] = {"s": start, "e": end}
    count = store.scalar(f"SELECT count(*) {_rows_sql(volume, params)}", params)
    return float(count) / months_between(start, end)


def mean_amount(store: Store, volume: Volume | None, start: datetime, end: datetime) -> float:
    """Mean ``amount`` of the volume's rows in the window (the CRM pack: the base-currency
    value of a deal won)."""
    if not _loaded(store, volume):
        return 0.0
    assert volume is not None and volume.amount is not None
    params: dict[str, object] = {"s": start, "e": end}
    value = store.scalar(
        f"SELECT avg({quote_ident(volume.amount)}) {_rows_sql(volume, params)}", params
    )
    return float(value or 0.0)


def monthly_distinct(store: Store, volume: Volume | None, start: datetime, end: datetime) -> float:
    """Mean number of distinct ``per`` values per month, over the months of the window with
    rows (the CRM pack: customers with a non-void invoice)."""
    if not _loaded(store, volume):
        return 0.0
    assert volume is not None and volume.per is not None
    params: dict[str, object] = {"s": start, "e": end}
    month = f"date_trunc('month', {utc(quote_ident(volume.time))})"
    value = store.scalar(
        f"""SELECT avg(c) FROM (SELECT {month} AS p, count(DISTINCT {quote_ident(volume.per)})
             AS c {_rows_sql(volume, params)} GROUP BY p)""",
        params,
    )
    return float(value or 0.0)


def is_total(kpi: KpiDef) -> bool:
    """Whether ``kpi`` is a monthly total (count, sum), whose volume is 1."""
    return kpi.stat in _TOTALS


def volume_measurable(kpi: KpiDef) -> bool:
    """Whether :func:`kpi_volume` can measure the volume of ``kpi``."""
    return kpi.stat in _TOTALS or (kpi.stat in _ROWS | _DISTINCT and kpi.time is not None)


def kpi_volume(
    store: Store,
    kpi: KpiDef,
    kpi_id: str,
    start: datetime,
    end: datetime,
    group: tuple[str, str] | None = None,
) -> float:
    """The monthly volume a change of ``kpi`` applies to (see ``KpiChange`` in roi.config),
    over the calendar months from ``start``'s up to the launch month (``end``'s), which is
    left out: its rows after the launch are not the baseline. Qualifying rows (for a rate,
    every row it divides by; for the others, rows with a measure), or distinct non-null
    ``per`` values, summed over those months and divided by their number (a month without
    rows counts as 0); 1 for count and sum KPIs. With ``group`` (a field and one of its
    values) only the rows of that group count."""
    assert volume_measurable(kpi)
    if kpi.stat in _TOTALS:
        return 1.0
    first, last, months = _whole_months(start, end)
    if not store.table_exists("core", kpi.object) or months < 1:
        return 0.0
    checked = check_kpi(kpi, store.columns("core", kpi.object), kpi_id=kpi_id)
    if kpi.stat is Stat.RATE:
        counted, rows = "count(*)", ""
    elif kpi.stat in _ROWS:
        counted, rows = "count(m)", ""
    else:
        counted, rows = "count(DISTINCT (period, g))", "AND g IS NOT NULL"
    params: dict[str, object] = {"grain": "month", "s": first, "e": last}
    column = None
    if group is not None:  # as the KPI values name it: text, `source` the lineage column
        params["group"] = group[1]
        rows += " AND CAST(seg AS VARCHAR) = $group"
        column = segment_column(group[0])
    total = store.scalar(
        f"SELECT {counted} FROM ({rows_sql(checked, column)}) "
        f"WHERE period >= $s AND period < $e {rows}",
        params,
    )
    return float(total or 0) / months
