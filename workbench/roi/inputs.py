"""Volumes and prices measured from the data for ``auto`` values of ``roi.yaml``.

All are monthly means over the baseline window ``[start, end)``, over every segment (the
integration is assumed rolled out to everyone after the canary).
"""

from __future__ import annotations

from datetime import datetime

from workbench.config.kpis import KpiDef, Stat
from workbench.kpi.expressions import check_kpi
from workbench.kpi.sql import rows_sql, utc
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


def monthly_count(store: Store, obj: str, time: str, start: datetime, end: datetime) -> float:
    """Mean number of ``obj`` records per month with ``time`` in the window."""
    if not store.table_exists("core", obj):
        return 0.0
    count = store.scalar(
        f"SELECT count(*) FROM {table('core', obj)} WHERE {utc(quote_ident(time))} >= $s "
        f"AND {utc(quote_ident(time))} < $e",
        {"s": start, "e": end},
    )
    return float(count) / months_between(start, end)


def won_deal_value(store: Store, start: datetime, end: datetime) -> float:
    """Mean base-currency amount of deals won (closed) in the window."""
    if not store.table_exists("core", "deals"):
        return 0.0
    value = store.scalar(
        "SELECT avg(amount_base) FROM core.deals WHERE status = 'won' "
        f"AND {utc('closed_at')} >= $s AND {utc('closed_at')} < $e",
        {"s": start, "e": end},
    )
    return float(value or 0.0)


def active_customers(store: Store, start: datetime, end: datetime) -> float:
    """Mean number of customers per month with a non-void invoice."""
    if not store.table_exists("core", "invoices"):
        return 0.0
    value = store.scalar(
        """SELECT avg(c) FROM (
             SELECT date_trunc('month', invoice_date) AS p,
                    count(DISTINCT customer_id) AS c
             FROM core.invoices
             WHERE coalesce(status, '') <> 'void'
               AND invoice_date >= CAST($s AS DATE) AND invoice_date < CAST($e AS DATE)
             GROUP BY p)""",
        {"s": start, "e": end},
    )
    return float(value or 0.0)


def volume_measurable(kpi: KpiDef) -> bool:
    """Whether :func:`kpi_volume` can measure the volume of ``kpi``."""
    return kpi.stat in _TOTALS or (kpi.stat in _ROWS | _DISTINCT and kpi.time is not None)


def kpi_volume(store: Store, kpi: KpiDef, kpi_id: str, start: datetime, end: datetime) -> float:
    """The monthly volume a change of ``kpi`` applies to (see ``KpiChange`` in roi.config),
    over the calendar months from ``start``'s up to the launch month (``end``'s), which is
    left out: its rows after the launch are not the baseline. Qualifying rows (for a rate,
    every row it divides by; for the others, rows with a measure), or distinct non-null
    ``per`` values, summed over those months and divided by their number (a month without
    rows counts as 0); 1 for count and sum KPIs."""
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
    total = store.scalar(
        f"SELECT {counted} FROM ({rows_sql(checked, None)}) "
        f"WHERE period >= $s AND period < $e {rows}",
        {"grain": "month", "s": first, "e": last},
    )
    return float(total or 0) / months
