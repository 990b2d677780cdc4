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
import re

import polars as pl

from workbench.dictionary import Dictionary, FieldType
from workbench.errors import WorkbenchError
from workbench.privacy import HIDDEN, mask_record, mask_value, masker
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


def set_aside(
    store: Store, *, object: str | None = None, source: str | None = None, limit: int | None = None
) -> pl.DataFrame:
    """Values validation set aside from rows it kept (checks of severity warn): the row is in
    core with the value NULL; here are the value and why, one row per failed check."""
    _require(store)
    severity = severity_sql(store)
    return store.frame(
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


def mask_set_aside(values: pl.DataFrame, dictionary: Dictionary) -> pl.DataFrame:
    """:func:`set_aside` with personal values masked (by the column's PII class)."""
    return _mask_by_column(values, "value", dictionary)


def _mask_by_column(frame: pl.DataFrame, values: str, dictionary: Dictionary) -> pl.DataFrame:
    """``frame`` with its ``values`` column masked by the PII class of each row's object and
    column."""
    shown = []
    for obj, column, value in frame.select("object", "column", values).iter_rows():
        spec = dictionary.objects.get(obj)
        rules = masker(spec) if spec else {}
        shown.append(mask_value(value, *rules[column]) if column in rules else value)
    return frame.with_columns(pl.Series(values, shown, dtype=pl.String))


def reasons_summary(
    store: Store, *, object: str | None = None, source: str | None = None
) -> pl.DataFrame:
    """How many rows failed each check, per object, source and column, most first, with the
    ``outcome``: the row quarantined, the value set aside (a warning), or the row rejected.

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
    return pl.concat(parts, how="vertical_relaxed").sort(
        ["rows", "object", "source", "check", "column", "example"],
        descending=[True, False, False, False, False, False],
        nulls_last=True,
    )


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
    the raw text masked (see :func:`mask_text`) unless ``mask`` is false, then cut to
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


# A JSON key (kept: a name without spaces or @ names a field, it holds no value), an email
# address, a run of digits that may be a phone number (7 or more), a word (2 letters or more).
_TOKENS = re.compile(
    r'(?P<key>"[A-Za-z_][\w.-]{0,63}"(?=\s*:))'
    r"|(?P<email>[^\s@,;|\t\"'<>()\[\]{}:=]+@[^\s@,;|\t\"'<>()\[\]{}:=]+)"
    r"|(?P<digits>\+?\d[\d ()./-]{5,}\d)"
    r"|(?P<word>[^\W\d_]{2,})"
)
_PHONE_DIGITS = 7


def mask_text(text: str) -> str:
    """Raw text of a row no reader could split into fields, with whatever could be personal
    masked: an unreadable row cannot be matched to the dictionary's fields, so every word
    keeps only its first letter (``Anna`` -> ``A***``), email addresses their first letter
    and domain, runs of 7 or more digits (phone numbers, also dates) their last two digits.
    Punctuation, delimiters, short numbers (ids, amounts) and JSON keys stay, so the row's
    shape can be seen."""

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if match.lastgroup == "key":
            return token
        if match.lastgroup == "email":
            return str(mask_value(token, "contact", FieldType.EMAIL))
        if match.lastgroup == "digits":
            digits = [c for c in token if c.isdigit()]
            return f"{HIDDEN}{''.join(digits[-2:])}" if len(digits) >= _PHONE_DIGITS else token
        return f"{token[:1]}{HIDDEN}"

    return _TOKENS.sub(one, text)


def record_failures(store: Store, source: str, record_id: str) -> tuple[dict, pl.DataFrame]:
    """One record (by source and its own id) that was quarantined or had a value set aside,
    and every check it failed (with its severity)."""
    _require(store)
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
            f"No quarantined record {source}:{record_id}, and no value of it was set aside.",
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
    """Whether validation has run (and its quarantine tables exist)."""
    return store.table_exists("quar", "rows")


def _require(store: Store, *, ingest: bool = False) -> None:
    """Refuse to read a quarantine that does not exist yet (with ``ingest``: neither
    validation's nor ingest's)."""
    if validated(store) or (ingest and store.table_exists("quar", "ingest_rejects")):
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
        rows = quarantined(store)
        rows = mask_quarantine(rows, store, dictionary) if mask else rows
        files = store.frame("SELECT load_id, file_name AS file FROM meta.loads")
        parts.append(
            rows.join(files, on="load_id", how="left").with_columns(
                pl.lit("validate").alias("stage"),
                pl.lit(QUARANTINED).alias("outcome"),
                pl.lit(None, pl.Int64).alias("line"),
            )
        )
        values = set_aside(store)
        values = mask_set_aside(values, dictionary) if mask else values
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
    return _mask_by_column(summary, "example", dictionary)
