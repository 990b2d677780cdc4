"""Cross-system reconciliation: do two money ledgers of the project agree?

The project's pack names the two (the CRM pack: won deals in the CRM, by close month, against
non-void invoices in billing, by invoice month; ``reconciliation`` in its pack.yaml). Per
month, their counts and base-currency money; per account, the same totals by the account's
name with legal suffixes and punctuation removed (``COMPANY_KEY``; accounts are not resolved
into entities). Stored in ``dq.reconciliation`` per validation run, in the validation's
transaction (the left ledger in the ``crm_*`` columns, the right in ``billing_*``); rows
whose totals differ are the differences to look at. Rows without a date, or without an
account name, are kept under the keys ``(no date)`` and ``(no account)``, so each level's
totals add up to the ledger's.
"""

from __future__ import annotations

import polars as pl

from workbench.errors import WorkbenchError
from workbench.packs import Ledger, Reconciliation
from workbench.standardize.rules import COMPANY_KEY
from workbench.store import Store, quote_ident, table

_COMPARE_SQL = """
SELECT $run, $level, key, coalesce(l.n, 0), coalesce(l.amount, 0),
       coalesce(r.n, 0), coalesce(r.amount, 0),
       coalesce(r.n, 0) - coalesce(l.n, 0),
       coalesce(r.amount, 0) - coalesce(l.amount, 0)
FROM ({left}) l FULL JOIN ({right}) r USING (key)
"""


def _filter(side: Ledger, alias: str, param: str, params: dict[str, object]) -> str:
    """`` AND <the ledger's row filter>`` on ``alias`` (its values into ``params``)."""
    if side.filter is None:
        return ""
    params[param] = side.filter.values
    return " AND " + side.filter.sql(f"{alias}.{quote_ident(side.filter.field)}", param)


NO_DATE, NO_ACCOUNT = "(no date)", "(no account)"  # keys of rows without one: kept


def _month_sql(side: Ledger, param: str, params: dict[str, object]) -> str:
    date = f"x.{quote_ident(side.date)}"
    params["no_date"] = NO_DATE
    return (
        f"SELECT coalesce(strftime({date}, '%Y-%m'), $no_date) AS key, count(*) AS n, "
        f"sum(x.{quote_ident(side.amount)}) AS amount FROM {table('core', side.object)} x "
        f"WHERE true{_filter(side, 'x', param, params)} GROUP BY ALL"
    )


def _account_sql(side: Ledger, param: str, params: dict[str, object]) -> str:
    acc = side.account
    assert acc is not None
    name = f"a.{quote_ident(acc.name)}"
    same = " AND a._system = x._system" if acc.same_system else ""
    params["no_account"] = NO_ACCOUNT
    return (
        f"SELECT coalesce({COMPANY_KEY.format(x=name)}, $no_account) AS key, count(*) AS n, "
        f"sum(x.{quote_ident(side.amount)}) AS amount FROM {table('core', side.object)} x "
        f"LEFT JOIN {table('core', acc.via)} a ON a.{quote_ident(acc.key)} = "
        f"x.{quote_ident(acc.ref)}{same} "
        f"WHERE true{_filter(side, 'x', param, params)} GROUP BY ALL"
    )


def _needs(side: Ledger, account: bool) -> dict[str, set[str]]:
    """The core columns a ledger's month (or account) totals read, by object."""
    fields = {side.amount, side.account.ref if account and side.account else side.date}
    fields |= {side.filter.field} if side.filter else set()
    needs = {side.object: fields}
    if account and side.account is not None:
        needs[side.account.via] = {side.account.key, side.account.name}
    return needs


def _readable(store: Store, *needs: dict[str, set[str]]) -> bool:
    """Whether every object the ledgers read is loaded with the columns they read."""
    merged: dict[str, set[str]] = {}
    for need in needs:
        for obj, cols in need.items():
            merged.setdefault(obj, set()).update(cols)
    return all(
        store.table_exists("core", obj) and cols <= set(store.columns("core", obj))
        for obj, cols in merged.items()
    )


def reconcile(store: Store, run_id: int, spec: Reconciliation | None) -> int:
    """Store the month and account reconciliation of a run; returns the rows written.

    ``spec`` is the project's pack's (None: nothing to reconcile). A ledger whose object or
    fields are not loaded means nothing to reconcile at that level, not an error.
    """
    if spec is None:
        return 0
    levels = [("month", _month_sql, False)]
    if spec.left.account is not None and spec.right.account is not None:
        levels.append(("account", _account_sql, True))
    written = 0
    for level, build, account in levels:
        if not _readable(store, _needs(spec.left, account), _needs(spec.right, account)):
            continue
        params: dict[str, object] = {"run": run_id, "level": level}
        sql = _COMPARE_SQL.format(
            left=build(spec.left, "lv", params), right=build(spec.right, "rv", params)
        )
        store.execute(f"INSERT INTO dq.reconciliation {sql}", params)
        written = int(
            store.scalar("SELECT count(*) FROM dq.reconciliation WHERE run_id = $r", {"r": run_id})
        )
    return written


def differences(store: Store, level: str, *, limit: int = 50) -> pl.DataFrame:
    """The latest run's reconciliation rows (``month`` or ``account``) that differ, largest
    money difference first."""
    return _latest(
        store,
        level,
        "AND (count_diff <> 0 OR amount_diff <> 0) ORDER BY abs(amount_diff) DESC, key LIMIT $n",
        {"n": limit},
    )


def totals(store: Store, level: str) -> pl.DataFrame:
    """Every reconciliation row of the latest run at ``level`` (``month`` or ``account``),
    those that agree too, in key order (for months: by month), the rows without a date or
    an account last."""
    return _latest(
        store,
        level,
        "ORDER BY key IN ($no_date, $no_account), key",
        {"no_date": NO_DATE, "no_account": NO_ACCOUNT},
    )


def _latest(store: Store, level: str, rest: str, params: dict[str, object]) -> pl.DataFrame:
    """The latest run's rows at ``level``, ``rest`` (a condition and order) applied."""
    if not store.has_rows("dq", "reconciliation"):
        raise WorkbenchError(
            "Nothing has been reconciled yet.", fix="Run `workbench validate` first."
        )
    frame = store.frame(
        f"""SELECT key, crm_count, crm_amount, billing_count, billing_amount, count_diff,
                   amount_diff
            FROM dq.reconciliation
            WHERE run_id = (SELECT max(run_id) FROM dq.reconciliation) AND level = $l
            {rest}""",
        {"l": level, **params},
    )
    return frame.rename({"key": level})
