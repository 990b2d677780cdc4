"""Cross-system reconciliation: does the CRM's revenue agree with what billing invoiced?

Per month, won deals in the CRM (by close month) against non-void invoices in billing (by
invoice month): counts and money in the base currency. Per account, the same totals by
company, matched on the company name with legal suffixes and punctuation removed
(``COMPANY_KEY``; companies are not resolved into entities). Stored in
``dq.reconciliation`` per validation run, in the validation's transaction; rows whose totals
differ are the differences to look at.
"""

from __future__ import annotations

import polars as pl

from workbench.errors import WorkbenchError
from workbench.standardize.rules import COMPANY_KEY
from workbench.store import Store

_MONTH_SQL = """
WITH crm AS (
    SELECT strftime(closed_at, '%Y-%m') AS key, count(*) AS n, sum(amount_base) AS amount
    FROM core.deals WHERE status = 'won' AND closed_at IS NOT NULL GROUP BY ALL),
bill AS (
    SELECT strftime(invoice_date, '%Y-%m') AS key, count(*) AS n, sum(amount_base) AS amount
    FROM core.invoices WHERE coalesce(status, '') <> 'void' GROUP BY ALL)
SELECT $run, 'month', key, coalesce(crm.n, 0), coalesce(crm.amount, 0),
       coalesce(bill.n, 0), coalesce(bill.amount, 0),
       coalesce(bill.n, 0) - coalesce(crm.n, 0),
       coalesce(bill.amount, 0) - coalesce(crm.amount, 0)
FROM crm FULL JOIN bill USING (key)
"""

_ACCOUNT_SQL = f"""
WITH crm AS (
    SELECT {COMPANY_KEY.format(x="c.name")} AS key, count(*) AS n, sum(d.amount_base) AS amount
    FROM core.deals d JOIN core.companies c ON c.record_id = d.company_id
    WHERE d.status = 'won' GROUP BY ALL),
bill AS (
    SELECT {COMPANY_KEY.format(x="p.company_name")} AS key, count(*) AS n,
           sum(i.amount_base) AS amount
    FROM core.invoices i JOIN core.contacts p
      ON p.record_id = i.customer_id AND p._system = i._system
    WHERE coalesce(i.status, '') <> 'void' AND p.company_name IS NOT NULL GROUP BY ALL)
SELECT $run, 'account', key, coalesce(crm.n, 0), coalesce(crm.amount, 0),
       coalesce(bill.n, 0), coalesce(bill.amount, 0),
       coalesce(bill.n, 0) - coalesce(crm.n, 0),
       coalesce(bill.amount, 0) - coalesce(crm.amount, 0)
FROM crm FULL JOIN bill USING (key)
"""


def reconcile(store: Store, run_id: int) -> int:
    """Store the month and account reconciliation of a run; returns the rows written.

    Needs core deals and invoices (and companies and contacts for the account level);
    missing objects mean nothing to reconcile, not an error.
    """
    written = 0
    if store.table_exists("core", "deals") and store.table_exists("core", "invoices"):
        store.execute(f"INSERT INTO dq.reconciliation {_MONTH_SQL}", {"run": run_id})
        if store.table_exists("core", "companies") and store.table_exists("core", "contacts"):
            store.execute(f"INSERT INTO dq.reconciliation {_ACCOUNT_SQL}", {"run": run_id})
        written = int(
            store.scalar("SELECT count(*) FROM dq.reconciliation WHERE run_id = $r", {"r": run_id})
        )
    return written


def differences(store: Store, level: str, *, limit: int = 50) -> pl.DataFrame:
    """The latest run's reconciliation rows (``month`` or ``account``) that differ, largest
    money difference first."""
    if not store.has_rows("dq", "reconciliation"):
        raise WorkbenchError(
            "Nothing has been reconciled yet.", fix="Run `workbench validate` first."
        )
    frame = store.frame(
        """SELECT key, crm_count, crm_amount, billing_count, billing_amount, count_diff,
                  amount_diff
           FROM dq.reconciliation
           WHERE run_id = (SELECT max(run_id) FROM dq.reconciliation) AND level = $l
             AND (count_diff <> 0 OR amount_diff <> 0)
           ORDER BY abs(amount_diff) DESC, key LIMIT $n""",
        {"l": level, "n": limit},
    )
    return frame.rename({"key": level})
