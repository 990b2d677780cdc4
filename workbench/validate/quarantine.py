"""Reading the quarantine: which rows failed, why, and the rows themselves."""

from __future__ import annotations

import polars as pl

from workbench.errors import WorkbenchError
from workbench.store import Store


def quarantined(
    store: Store, *, object: str | None = None, source: str | None = None, limit: int | None = None
) -> pl.DataFrame:
    """Quarantined rows with their lineage and reasons, newest run first."""
    _require(store)
    return store.frame(
        """SELECT object, source, record_id, load_id, row_number, reasons, record
           FROM quar.rows
           WHERE ($o IS NULL OR object = $o) AND ($s IS NULL OR source = $s)
           ORDER BY object, source, load_id, row_number
           LIMIT coalesce($n, 9223372036854775807)""",
        {"o": object, "s": source, "n": limit},
    )


def reasons_summary(store: Store) -> pl.DataFrame:
    """How many rows failed each check, per object, source and column."""
    _require(store)
    return store.frame(
        """SELECT object, source, "column", "check", count(DISTINCT (load_id, row_number)) AS rows,
                  any_value(value) AS example
           FROM quar.failures GROUP BY ALL ORDER BY rows DESC, object, source"""
    )


def record_failures(store: Store, source: str, record_id: str) -> tuple[dict, pl.DataFrame]:
    """One quarantined record (by source and its own id) and every check it failed."""
    _require(store)
    rows = store.frame(
        "SELECT * FROM quar.rows WHERE source = $s AND record_id = $r ORDER BY row_number",
        {"s": source, "r": record_id},
    )
    if rows.height == 0:
        raise WorkbenchError(
            f"No quarantined record {source}:{record_id}.",
            fix="`workbench quarantine list` shows what is quarantined.",
        )
    failures = store.frame(
        """SELECT "column", "check", value FROM quar.failures
           WHERE source = $s AND record_id = $r ORDER BY "column\"""",
        {"s": source, "r": record_id},
    )
    return rows.row(0, named=True), failures


def _require(store: Store) -> None:
    if not store.table_exists("quar", "rows"):
        raise WorkbenchError(
            "Nothing has been validated yet.", fix="Run `workbench validate` first."
        )
