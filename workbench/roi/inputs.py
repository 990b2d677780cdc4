"""Volumes and prices measured from the data for ``auto`` values of ``roi.yaml``.

All are monthly means over the baseline window ``[start, end)``, over every segment (the
integration is assumed rolled out to everyone after the canary).
"""

from __future__ import annotations

from datetime import datetime

from workbench.kpi.periods import step
from workbench.kpi.sql import utc
from workbench.store import Store, quote_ident, table


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
