"""Reading the quarantine: which rows failed, why, and the rows themselves."""

from __future__ import annotations

import json

import polars as pl

from workbench.dictionary import Dictionary
from workbench.errors import WorkbenchError
from workbench.privacy import mask_record, mask_value, masker
from workbench.store import Store
from workbench.validate.run import REASON, REASON_VALUE_CHARS


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


def mask_quarantine(rows: pl.DataFrame, store: Store, dictionary: Dictionary) -> pl.DataFrame:
    """``rows`` from :func:`quarantined` with PII masked in ``record`` and ``reasons``."""
    if rows.height == 0:
        return rows
    failures = store.frame(
        """SELECT f.object, f.source, f.load_id, f.row_number, f."column", f."check", f.value
           FROM quar.failures f SEMI JOIN (SELECT unnest($o) AS object, unnest($s) AS source,
                unnest($l) AS load_id, unnest($r) AS row_number) k
             USING (object, source, load_id, row_number)
           ORDER BY f."column\"""",
        {
            "o": rows["object"].to_list(),
            "s": rows["source"].to_list(),
            "l": rows["load_id"].to_list(),
            "r": rows["row_number"].to_list(),
        },
    )
    reasons: dict[tuple, list[str]] = {}
    for obj, src, load, row, column, check, value in failures.iter_rows():
        spec = dictionary.objects.get(obj)
        rules = masker(spec) if spec else {}
        shown = mask_value(value, *rules[column]) if column in rules else value
        reasons.setdefault((obj, src, load, row), []).append(
            REASON.format(column, check, str(shown or "empty")[:REASON_VALUE_CHARS])
        )
    masked_reasons, masked_records = [], []
    for row in rows.iter_rows(named=True):
        key = (row["object"], row["source"], row["load_id"], row["row_number"])
        masked_reasons.append("; ".join(reasons.get(key, [])))
        spec = dictionary.objects.get(row["object"])
        record = json.loads(row["record"]) if row["record"] else {}
        masked_records.append(json.dumps(mask_record(record, spec) if spec else record))
    return rows.with_columns(
        pl.Series("reasons", masked_reasons, dtype=pl.String),
        pl.Series("record", masked_records, dtype=pl.String),
    )


def mask_examples(summary: pl.DataFrame, dictionary: Dictionary) -> pl.DataFrame:
    """:func:`reasons_summary` with PII examples masked."""
    examples = []
    for obj, column, value in summary.select("object", "column", "example").iter_rows():
        spec = dictionary.objects.get(obj)
        rules = masker(spec) if spec else {}
        examples.append(mask_value(value, *rules[column]) if column in rules else value)
    return summary.with_columns(pl.Series("example", examples, dtype=pl.String))
