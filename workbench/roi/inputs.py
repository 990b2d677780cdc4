"""Volumes and prices measured from the data for ``auto`` values of ``roi.yaml``.

All are monthly means over the baseline window ``[start, end)``, over every segment (the
integration is assumed rolled out to everyone after the canary).
"""

from __future__ import annotations

from datetime import datetime

from workbench.config.kpis import KpiDef, Stat
from workbench.kpi.expressions import check_kpi
from workbench.kpi.periods import step
from workbench.kpi.sql import rows_sql, utc
from workbench.store import Store, quote_ident, table

_ROWS = frozenset({Stat.MEAN, Stat.MEDIAN, Stat.QUANTILE, Stat.RATE})  # volume: rows
_DISTINCT = frozenset({Stat.PER, Stat.CHURN})  # volume: distinct `per` values
_TOTALS = frozenset({Stat.COUNT, Stat.SUM})  # the KPI is a monthly total: volume 1


def months_between(start: datetime, end: datetime) -> int:
    months = 0
    while start + step("month", months) < end:
        months += 1
    return max(months, 1)


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
    """The monthly volume a change of ``kpi`` applies to (see ``KpiChange`` in roi.config):
    qualifying rows, or distinct ``per`` values, summed over the months of the window and
    divided by its months (a month without rows counts as 0); 1 for count and sum KPIs."""
    assert volume_measurable(kpi)
    if kpi.stat in _TOTALS:
        return 1.0
    if not store.table_exists("core", kpi.object):
        return 0.0
    checked = check_kpi(kpi, store.columns("core", kpi.object), kpi_id=kpi_id)
    counted = "count(m)" if kpi.stat in _ROWS else "count(DISTINCT (period, g))"
    total = store.scalar(
        f"SELECT {counted} FROM ({rows_sql(checked, None)}) WHERE period >= $s AND period < $e",
        {"grain": "month", "s": start, "e": end},
    )
    return float(total or 0) / months_between(start, end)
