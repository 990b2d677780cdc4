"""Reading the quarantine: which rows failed, why, and the rows themselves.

Rows are set aside at two stages: ingest keeps the rows it could not read (a ragged row,
bytes that are not the file's encoding, an NDJSON line that is not an object) in
``quar.ingest_rejects`` with their line and the raw text; validation keeps the rows that
failed a check of severity error in ``quar.rows``, and every failed check in
``quar.failures`` (a value that failed a warning was set aside: its row is in core, the
value NULL there). All of it is read here, for the sources' current loads, and shown with
personal data masked unless asked otherwise.
"""

from __future__ import annotations

import json

import polars as pl

from workbench.dictionary import Dictionary
from workbench.errors import WorkbenchError
from workbench.privacy import mask_by_field, mask_record, mask_text
from workbench.record_ids import unique_id
from workbench.store import Store, table
from workbench.validate.run import REASON, REASON_VALUE_CHARS

INGEST_CHECK = "readable row (ingest)"  # the check an unreadable row failed, in summaries
EXCERPT_CHARS = 60  # of a rejected row's raw text in listings
EXPORT_COLUMNS = [
    "stage", "outcome", "object", "source", "record_id", "file", "load_id", "row_number",
    "line", "reasons", "record",
]  # fmt: skip
# what happened to a row (or value), in summaries and the export
QUARANTINED, SET_ASIDE, REJECTED = "row quarantined", "value set aside", "row rejected"
_REJECTS_SCHEMA = {
    "object": pl.String,
    "source": pl.String,
    "file": pl.String,
    "load_id": pl.Int64,
    "row_number": pl.Int64,
    "line": pl.Int64,
    "kind": pl.String,
    "reason": pl.String,
    "raw_record": pl.String,
}


def severity_sql(store: Store) -> str:
    """The SQL of a failure's severity in ``quar.failures``: a warehouse from before
    severities has no such column, and every failure it holds quarantined its row."""
    known = "severity" in store.columns("quar", "failures")
    return "coalesce(severity, 'error')" if known else "'error'"


def quarantined(
    store: Store,
    *,
    object: str | None = None,
    source: str | None = None,
    limit: int | None = None,
    masked_by: Dictionary | None = None,
) -> pl.DataFrame:
    """Quarantined rows with their lineage and reasons, newest run first; with
    ``masked_by``, personal data masked by that dictionary in ``record`` and ``reasons``."""
    _require(store)
    rows = store.frame(
        """SELECT object, source, record_id, load_id, row_number, reasons, record
           FROM quar.rows
           WHERE ($o IS NULL OR object = $o) AND ($s IS NULL OR source = $s)
           ORDER BY object, source, load_id, row_number
           LIMIT coalesce($n, 9223372036854775807)""",
        {"o": object, "s": source, "n": limit},
    )
    return rows if masked_by is None else _shown_rows(rows, store, masked_by)


def set_aside(
    store: Store,
    *,
    object: str | None = None,
    source: str | None = None,
    limit: int | None = None,
    masked_by: Dictionary | None = None,
) -> pl.DataFrame:
    """Values validation set aside from rows it kept (checks of severity warn): the row is in
    core with the value NULL; here are the value and why, one row per failed check (with
    ``masked_by``: the value masked by that dictionary)."""
    _require(store)
    severity = severity_sql(store)
    values = store.frame(
        f"""SELECT f.object, f.source, f.record_id, f.load_id, f.row_number, f."column",
                  f."check", f.value
           FROM quar.failures f
           WHERE {severity} = 'warn' AND ($o IS NULL OR f.object = $o)
             AND ($s IS NULL OR f.source = $s)
             AND NOT EXISTS (SELECT 1 FROM quar.rows q WHERE q.object = f.object
                   AND q.source = f.source AND q.load_id = f.load_id
                   AND q.row_number = f.row_number)
           ORDER BY f.object, f.source, f.load_id, f.row_number, f."column"
           LIMIT coalesce($n, 9223372036854775807)""",
        {"o": object, "s": source, "n": limit},
    )
    return values if masked_by is None else mask_by_field(values, "value", masked_by)


def reasons_summary(
    store: Store,
    *,
    object: str | None = None,
    source: str | None = None,
    masked_by: Dictionary | None = None,
) -> pl.DataFrame:
    """How many rows failed each check, per object, source and column, most first, with the
    ``outcome``: the row quarantined, the value set aside (a warning), or the row rejected,
    and an ``example`` of the values (with ``masked_by``: masked by that dictionary).

    Rows ingest could not read count under the check ``readable row (ingest)``, one line per
    kind of problem (its ``example``, e.g. ``too many columns``), without a column.
    """
    _require(store, ingest=True)
    parts = []
    if store.table_exists("quar", "failures"):
        parts.append(
            store.frame(
                f"""SELECT object, source, "column", "check",
                          CASE WHEN {severity_sql(store)} = 'warn' AND NOT EXISTS (
                                 SELECT 1 FROM quar.rows q WHERE q.object = f.object
                                   AND q.source = f.source AND q.load_id = f.load_id
                                   AND q.row_number = f.row_number)
                               THEN $aside ELSE $quarantined END AS outcome,
                          count(DISTINCT (load_id, row_number)) AS rows, any_value(value) AS example
                   FROM quar.failures f
                   WHERE ($o IS NULL OR object = $o) AND ($s IS NULL OR source = $s)
                   GROUP BY ALL""",
                {"o": object, "s": source, "aside": SET_ASIDE, "quarantined": QUARANTINED},
            )
        )
    if store.table_exists("quar", "ingest_rejects"):
        parts.append(
            store.frame(
                """SELECT l.object, r.source, NULL::VARCHAR AS "column", $check AS "check",
                          $rejected AS outcome, count(*) AS rows, lower(r.error_type) AS example
                   FROM quar.ingest_rejects r JOIN meta.loads l USING (load_id)
                   WHERE l.is_current AND ($o IS NULL OR l.object = $o)
                     AND ($s IS NULL OR r.source = $s)
                   GROUP BY l.object, r.source, r.error_type""",
                {"o": object, "s": source, "check": INGEST_CHECK, "rejected": REJECTED},
            )
        )
    summary = pl.concat(parts, how="vertical_relaxed").sort(
        ["rows", "object", "source", "check", "column", "example"],
        descending=[True, False, False, False, False, False],
        nulls_last=True,
    )
    return summary if masked_by is None else mask_by_field(summary, "example", masked_by)


def ingest_rejects(
    store: Store, *, object: str | None = None, source: str | None = None, limit: int | None = None
) -> pl.DataFrame:
    """Rows ingest could not read in the sources' current loads, in file order.

    Columns: ``object``, ``source``, ``file`` (its name), ``load_id``, ``row_number`` (the
    record's position among the file's records), ``line`` (where it starts), ``kind`` (of
    problem, e.g. ``too many columns``), ``reason`` (the kind, the column if known, and the
    reader's message) and ``raw_record``
    (the text as read, unmasked: see :func:`reject_excerpts`).
    """
    if not store.table_exists("quar", "ingest_rejects"):
        return pl.DataFrame(schema=_REJECTS_SCHEMA)
    return store.frame(
        """SELECT l.object, r.source, l.file_name AS file, r.load_id, r.row_number, r.line,
                  lower(r.error_type) AS kind,
                  concat_ws(': ', lower(r.error_type) || coalesce(' (' || r.column_name || ')', ''),
                            r.message) AS reason,
                  r.raw_record
           FROM quar.ingest_rejects r JOIN meta.loads l USING (load_id)
           WHERE l.is_current AND ($o IS NULL OR l.object = $o) AND ($s IS NULL OR r.source = $s)
           ORDER BY l.object, r.source, r.load_id, r.row_number
           LIMIT coalesce($n, 9223372036854775807)""",
        {"o": object, "s": source, "n": limit},
    ).cast(_REJECTS_SCHEMA)  # type: ignore[arg-type]


def reject_excerpts(
    rejects: pl.DataFrame, *, mask: bool = True, chars: int | None = EXCERPT_CHARS
) -> pl.DataFrame:
    """``rejects`` from :func:`ingest_rejects` with ``raw_record`` replaced by ``excerpt``:
    the raw text masked (:func:`workbench.privacy.mask_text`) unless ``mask`` is false, then cut to
    ``chars`` characters on one line (``None``: whole, as read)."""
    excerpts = []
    for text in rejects["raw_record"].to_list():
        shown = mask_text(text) if mask and text is not None else text
        if chars is not None and shown is not None:
            shown = " ".join(shown.split())
            shown = shown if len(shown) <= chars else shown[: chars - 3] + "..."
        excerpts.append(shown)
    return rejects.with_columns(pl.Series("raw_record", excerpts, dtype=pl.String)).rename(
        {"raw_record": "excerpt"}
    )


def record_failures(
    store: Store, source: str, record_id: str, *, masked_by: Dictionary | None = None
) -> tuple[dict, pl.DataFrame]:
    """One record (by source and its own id) that was quarantined or had a value set aside,
    and every check it failed (with its severity); with ``masked_by``, personal data masked
    by that dictionary in the record, its reasons and the failing values."""
    _require(store)
    row, failures = _record_failures(store, source, record_id)
    if masked_by is None:
        return row, failures
    shown = _shown_rows(pl.DataFrame([row]), store, masked_by).row(0, named=True)
    return shown, mask_by_field(failures, "value", masked_by, obj=row["object"])


def _record_failures(store: Store, source: str, record_id: str) -> tuple[dict, pl.DataFrame]:
    rows = store.frame(
        "SELECT * FROM quar.rows WHERE source = $s AND record_id = $r ORDER BY row_number",
        {"s": source, "r": record_id},
    )
    failures = store.frame(
        f"""SELECT "column", "check", value, {severity_sql(store)} AS severity
            FROM quar.failures WHERE source = $s AND record_id = $r ORDER BY "column", "check"
        """,
        {"s": source, "r": record_id},
    )
    if rows.height:
        return rows.row(0, named=True), failures
    kept = set_aside(store, source=source).filter(pl.col("record_id") == record_id)
    if kept.height == 0:
        raise WorkbenchError(
            f"No quarantined record {unique_id(source, record_id)}, "
            "and no value of it was set aside.",
            fix="`workbench quarantine list` shows what is quarantined or set aside.",
        )
    first = kept.row(0, named=True)
    core = store.frame(
        f"SELECT * FROM {table('core', first['object'])} WHERE _source = $s AND record_id = $r",
        {"s": source, "r": record_id},
    )
    found = core.row(0, named=True) if core.height else {}
    record = {k: None if v is None else str(v) for k, v in found.items() if k[:1] != "_"}
    for column, value in kept.select("column", "value").iter_rows():
        record[column] = value  # as it was before it was set aside
    row = {k: first[k] for k in ("object", "source", "record_id", "load_id", "row_number")}
    return dict(row, reasons=None, record=json.dumps(record)), failures


def validated(store: Store) -> bool:
    """Whether validation has run."""
    return store.has_rows("meta", "validation_runs")


def _require(store: Store, *, ingest: bool = False) -> None:
    """Refuse to read a quarantine that does not exist yet (with ``ingest``: neither
    validation's nor ingest's)."""
    if validated(store) or (ingest and store.has_rows("meta", "loads")):
        return
    raise WorkbenchError("Nothing has been validated yet.", fix="Run `workbench validate` first.")


def quarantine_export(store: Store, dictionary: Dictionary, *, mask: bool = True) -> pl.DataFrame:
    """Every row set aside, by ingest or by validation, in one layout for a CSV file.

    Columns (:data:`EXPORT_COLUMNS`): ``stage`` (``ingest`` or ``validate``), ``outcome``
    (``row quarantined``, ``value set aside`` from a row kept in core, ``row rejected``
    by ingest; a set-aside value's ``record`` holds only that value), ``object``,
    ``source``, ``record_id`` (empty for ingest rejects: their row could not be read),
    ``file``, ``load_id``, ``row_number`` (position among the file's records), ``line``
    (where the row starts in the file; ingest rejects only), ``reasons`` and ``record``
    (validation: the staged record as JSON; ingest: the raw text as read). Personal data is
    masked unless ``mask`` is false.
    """
    _require(store, ingest=True)
    parts = []
    if validated(store):
        rows = quarantined(store, masked_by=dictionary if mask else None)
        files = store.frame("SELECT load_id, file_name AS file FROM meta.loads")
        parts.append(
            rows.join(files, on="load_id", how="left").with_columns(
                pl.lit("validate").alias("stage"),
                pl.lit(QUARANTINED).alias("outcome"),
                pl.lit(None, pl.Int64).alias("line"),
            )
        )
        values = set_aside(store, masked_by=dictionary if mask else None)
        parts.append(
            values.join(files, on="load_id", how="left").select(
                pl.lit("validate").alias("stage"),
                pl.lit(SET_ASIDE).alias("outcome"),
                "object",
                "source",
                "record_id",
                "file",
                "load_id",
                "row_number",
                pl.lit(None, pl.Int64).alias("line"),
                pl.format(REASON, "column", "check", pl.col("value").fill_null("empty"))
                .str.slice(0, 200)
                .alias("reasons"),
                pl.struct(pl.col("value").alias("v"), pl.col("column").alias("c"))
                .map_elements(lambda x: json.dumps({x["c"]: x["v"]}), return_dtype=pl.String)
                .alias("record"),
            )
        )
    rejects = reject_excerpts(ingest_rejects(store), mask=mask, chars=None)
    parts.append(
        rejects.rename({"reason": "reasons", "excerpt": "record"}).with_columns(
            pl.lit("ingest").alias("stage"),
            pl.lit(REJECTED).alias("outcome"),
            pl.lit(None, pl.String).alias("record_id"),
        )
    )
    return pl.concat([p.select(EXPORT_COLUMNS) for p in parts], how="vertical_relaxed")


def _shown_rows(rows: pl.DataFrame, store: Store, dictionary: Dictionary) -> pl.DataFrame:
    """``rows`` of ``quar.rows`` with personal data masked by ``dictionary`` in ``record``
    and in ``reasons`` (written again from the failing values, masked)."""
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
    masked = mask_by_field(failures, "value", dictionary)
    for obj, src, load, row, column, check, shown in masked.iter_rows():
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
