"""Readers: turn one export file into a SELECT that yields its rows as text.

Every reader returns an :class:`~workbench.ingest.incoming.Incoming`. Values stay exactly
as the file has them; typing and mapping happen later, in staging. CSV (in
:mod:`.csv_reader`) and NDJSON set unreadable rows aside with line and reason instead of
failing the whole file; JSON, Parquet and XLSX files are read whole or refused.

JSON records are bounded (:mod:`.jsonscan`): none larger than 32 MiB, none nested deeper
than 64 levels (NDJSON lines beyond are set aside, JSON array files refused). Objects with
up to 4,096 keys are read as columns, however few records share them (DuckDB would read
objects with more than 200 keys, or with keys that few records share, as one MAP); a
nested object with more keys is a map (custom fields keyed by id) and loads as one column
of JSON text; a file of more than 4,096 columns in all is refused. Workbooks are checked
for zip bombs (:mod:`.xlsx_guard`) before the Excel reader opens them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import duckdb

from workbench.config import ReaderOptions
from workbench.errors import IngestError, where_file
from workbench.ingest.csv_reader import INCOMING_TABLE, drop_incoming, read_csv
from workbench.ingest.files import ExportFile
from workbench.ingest.incoming import (
    LINEAGE,
    Incoming,
    NoRecords,
    RetryWithRejects,
    clean_message,
    column_names,
    header_repeats,
    text_select,
)
from workbench.ingest.jsonlist import records_as_lines
from workbench.ingest.jsonscan import (
    DUCKDB_JSON_OPTIONS,
    DUCKDB_OBJECT_BYTES,
    MAX_COLUMNS,
    MAX_KEYS,
    MAX_RECORD_BYTES,
    Problem,
    scan_file,
)
from workbench.ingest.ndjson import split_lines
from workbench.ingest.rejects import Reject
from workbench.ingest.xlsx_guard import check_workbook
from workbench.store import Store, quote_ident, table

_LINE = re.compile(r"\b[Ll]ine:?\s*(\d+)")


def read_export(
    store: Store, export: ExportFile, options: ReaderOptions, *, collect_rejects: bool = False
) -> Incoming:
    """Dispatch on the file's format.

    With ``collect_rejects`` unreadable rows (CSV) and lines (NDJSON) are set aside instead
    of failing the read; it costs time, so the loader first tries without and retries with
    it on error.
    """
    reader = {
        "csv": read_csv,
        "tsv": read_csv,
        "json": _read_json,
        "ndjson": _read_json,
        "parquet": _read_parquet,
        "xlsx": _read_xlsx,
    }[export.format]
    incoming = reader(store, export, options, collect_rejects)  # duckdb.Error: see read_error
    try:
        _check_columns(export, incoming.columns)
    except IngestError:
        incoming.close()
        raise
    return incoming


def sets_rows_aside(export: ExportFile, options: ReaderOptions) -> bool:
    """Whether the reader of ``export`` can set unreadable records aside, so that a failed
    read is tried again collecting them: CSV and TSV rows, NDJSON lines, the records under
    a key of a JSON object (read as lines). A JSON array, Parquet or XLSX file is read
    whole or refused."""
    return export.format in ("csv", "tsv", "ndjson") or (
        export.format == "json" and bool(options.records)
    )


# -- JSON / NDJSON -----------------------------------------------------------------------
def _read_json(
    store: Store, export: ExportFile, options: ReaderOptions, collect_rejects: bool
) -> Incoming:
    path, gzip, lines = export.path, export.gzip, export.format == "ndjson"
    cleanup: list[Callable[[], None]] = []
    rejects: Callable[[], list[Reject]] | None = None
    if export.format == "json" and options.records:  # one record a line, as NDJSON
        path, gzip, lines = records_as_lines(export, options.records), False, True
        cleanup.append(path.unlink)
    try:
        if not collect_rejects:  # split_lines checks each line itself
            problem = scan_file(path, gzip=gzip, lines=lines)
            if problem is not None and lines:
                raise RetryWithRejects()  # such lines are set aside
            if problem is not None:
                raise _beyond_bounds(export, problem)
        if lines and collect_rejects:
            split, found, records = split_lines(path, gzip=gzip)
            cleanup.append(split.unlink)
            path, gzip = split, False
            rejects = lambda: found  # noqa: E731
            if len(found) == records:
                raise _no_objects(export, found)
    except BaseException:
        for step in cleanup:
            step()
        raise
    fmt = "newline_delimited" if lines else "array"
    params: dict[str, Any] = {
        "path": str(path),
        "fmt": fmt,
        "compression": "gzip" if gzip else "uncompressed",
    }
    base = f"$path, format = $fmt, compression = $compression, {DUCKDB_JSON_OPTIONS}"
    try:
        described = _describe(store, base, params, lines=lines)
        top = column_names(export, [r[0] for r in described])
        if top == ["json"] and str(described[0][1]).startswith("MAP("):
            raise _too_wide(export, f"more than {MAX_KEYS:,} distinct keys")
        if top == ["json"] and not collect_rejects:
            _check_records(store, export, params, lines=lines)
        exprs: list[tuple[str, str]] = [(c, f"{quote_ident(c)}") for c in top]
        for name, type_text, *_ in described:
            exprs.extend(_flatten_struct(name, quote_ident(name), "$", type_text, params))
        if len(exprs) > MAX_COLUMNS:
            raise _too_wide(export, f"{len(exprs):,} columns (nested keys included)")
    except BaseException:
        for step in cleanup:
            step()
        raise
    params["cols"] = {c: "VARCHAR" for c in top}
    source_sql = f"read_json({base}, columns = $cols)"
    columns = column_names(export, [name for name, _ in exprs])
    cols = ", ".join(f"{expr} AS {quote_ident(name)}" for name, expr in exprs)
    # into a temporary table numbered by row id, as CSV is (csv_reader.INCOMING_TABLE):
    # row_number() OVER () made the read and the raw table's writing one thread's work
    cleanup.append(lambda: drop_incoming(store))
    try:
        store.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(INCOMING_TABLE)} AS "
                      f"SELECT {cols} FROM {source_sql}", params)  # fmt: skip
    except BaseException:
        for step in cleanup:
            step()
        raise
    incoming = table("temp", INCOMING_TABLE)
    return Incoming(
        columns=columns,
        select_sql=text_select(
            columns, incoming, {}, f"rowid - (SELECT min(rowid) FROM {incoming}) + 1"
        ),
        params={},
        rejects=rejects,
        cleanup=cleanup,
    )


_NESTED = re.compile(r"STRUCT|MAP|UNION|JSON|\[")  # a DuckDB type holding values inside


def _describe(
    store: Store, base: str, params: dict[str, Any], *, lines: bool
) -> list[tuple[Any, ...]]:
    """The columns (and types) of a JSON export, from every record (DuckDB's schema
    detection over a whole file is single-threaded: 1.3 s for a million sync events).

    For NDJSON whose first records are flat objects, their columns are taken when one
    parallel pass over every line finds no key outside them and no object or array value
    (a brace anywhere after a line's first character counts as one: such a file is detected
    whole, as before); 0.56 s for the same file.
    """
    whole = f"DESCRIBE SELECT * FROM read_json({base}, sample_size = -1)"
    if not lines:
        return store.rows(whole, params)
    sampled = store.rows(f"DESCRIBE SELECT * FROM read_json({base})", params)
    if not sampled or any(_NESTED.search(str(r[1])) for r in sampled):
        return store.rows(whole, params)
    try:  # every key of every line; NULL for a line that is no flat object
        found = store.rows(
            "SELECT DISTINCT unnest(CASE WHEN json_type(json) <> 'OBJECT' "
            "OR strpos(substr(json, 2), '{') > 0 OR strpos(json, '[') > 0 THEN [NULL] "
            "ELSE json_keys(json) END) FROM read_ndjson_objects($path, compression = "
            f"$compression, maximum_object_size = {DUCKDB_OBJECT_BYTES})",
            {k: params[k] for k in ("path", "compression")},
        )
    except duckdb.Error:  # a line DuckDB cannot read: as before
        return store.rows(whole, params)
    keys = {r[0] for r in sampled}
    flat = all(key is not None and key in keys for (key,) in found)
    return sampled if flat else store.rows(whole, params)


def _check_records(
    store: Store, export: ExportFile, params: dict[str, Any], *, lines: bool
) -> None:
    """A lone ``json`` column means the records are not all JSON objects (or there are none):
    read as lines (NDJSON, or records under a key), those that are not are set aside."""
    total, bad, first_bad, kind = store.rows(
        "SELECT count(*), count(*) FILTER (WHERE json_type(json) <> 'OBJECT'), "
        "min(n) FILTER (WHERE json_type(json) <> 'OBJECT'), "
        "arg_min(json_type(json), n) FILTER (WHERE json_type(json) <> 'OBJECT') "
        "FROM (SELECT json, row_number() OVER () AS n FROM read_json_objects("
        "$path, format = $fmt, compression = $compression, "
        f"maximum_object_size = {DUCKDB_OBJECT_BYTES}))",
        params,
    )[0]
    name = export.path.name
    if total == 0:
        raise NoRecords(
            f"{name} holds no records: its JSON array is empty.",
            where=str(export.path),
            fix="Check the export (a failed or filtered export is often empty); nothing was "
            "loaded. If the source really has no records now, load it with `workbench ingest "
            "--allow-empty`.",
        )
    if not bad:
        return
    if lines:
        raise RetryWithRejects()
    raise IngestError(
        f"{name} is not an array of records: {bad:,} of its {total:,} elements are not JSON "
        f"objects (element {first_bad} is a {_JSON_TYPES.get(str(kind), str(kind).lower())}).",
        where=str(export.path),
        fix="Export the records as a JSON array of objects ([{...}, {...}]); nothing was loaded.",
    )


_JSON_TYPES = {"UBIGINT": "number", "BIGINT": "number", "DOUBLE": "number", "VARCHAR": "string",
               "ARRAY": "array", "BOOLEAN": "boolean", "NULL": "null"}  # fmt: skip


def _too_wide(export: ExportFile, what: str) -> IngestError:
    return IngestError(
        f"{export.path.name} cannot be read as JSON: its records have {what}; Workbench loads "
        f"at most {MAX_COLUMNS:,} columns per export.",
        where=str(export.path),
        fix="Export only the fields the project maps (records with that many different keys "
        "hold a map, such as custom fields keyed by id, at their top level); nothing was "
        "loaded.",
    )


def _beyond_bounds(export: ExportFile, problem: Problem) -> IngestError:
    """A JSON array file with a record too large or nested too deep: refused whole."""
    why = problem.reason.replace("the record", f"a record (on line {problem.line})", 1)
    return IngestError(
        f"{export.path.name} cannot be read as JSON: {why}.",
        where=where_file(export.path, problem.line),
        fix="Check the export (no CRM record is that large or nests that deep: the file is "
        "broken or not an export). As NDJSON (one record per line) such a record is set aside "
        "and the others load; nothing was loaded.",
    )


def _no_objects(export: ExportFile, found: list[Reject]) -> IngestError:
    first = found[0]
    return IngestError(
        f"{export.path.name} has no readable record: none of its {len(found):,} lines is a "
        f"JSON object (line {first.line}: {first.message}).",
        where=where_file(export.path, first.line),
        fix="Check that the file is NDJSON (one JSON object per line; "
        f"sources.{export.source}.format); nothing was loaded.",
    )


def _flatten_struct(
    prefix: str, json_col: str, json_path: str, type_text: str, params: dict[str, Any]
) -> list[tuple[str, str]]:
    """For a nested object, one text column per leaf, named like ``Account.Name``.

    The JSON paths are bound as parameters (``$jp0``, ...), never spliced into the SQL.
    """
    if not type_text.startswith("STRUCT(") or type_text.endswith("]"):
        return []  # a list of objects (``STRUCT(...)[]``) stays one JSON column: no leaves
    out: list[tuple[str, str]] = []
    for child, child_type in struct_fields(type_text):
        name = f"{prefix}.{child}"
        path = f"{json_path}.{_json_key(child)}"
        mark = f"jp{sum(k.startswith('jp') for k in params)}"
        params[mark] = path
        out.append((name, f"json_extract_string({json_col}, ${mark})"))
        out.extend(_flatten_struct(name, json_col, path, child_type, params))
    return out


def _json_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def struct_fields(type_text: str) -> list[tuple[str, str]]:
    """Split ``STRUCT(a VARCHAR, "b c" STRUCT(x BIGINT))`` into its (name, type) pairs."""
    inner = type_text[len("STRUCT(") : -1]
    parts, depth, current, in_quote = [], 0, "", False
    for ch in inner:
        if ch == '"':
            in_quote = not in_quote
        elif not in_quote and ch in "([":
            depth += 1
        elif not in_quote and ch in ")]":
            depth -= 1
        if ch == "," and depth == 0 and not in_quote:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    fields = []
    for part in parts:
        if part.startswith('"'):
            end = part.index('"', 1)
            while part[end + 1 : end + 2] == '"':
                end = part.index('"', end + 2)
            name, rest = part[1:end].replace('""', '"'), part[end + 1 :].strip()
        else:
            name, _, rest = part.partition(" ")
        fields.append((name, rest))
    return fields


# -- Parquet -----------------------------------------------------------------------------
def _read_parquet(
    store: Store, export: ExportFile, options: ReaderOptions, collect_rejects: bool
) -> Incoming:
    params: dict[str, Any] = {"path": str(export.path)}
    source_sql = "read_parquet($path, file_row_number = true)"
    described = store.rows(f"DESCRIBE SELECT * FROM {source_sql}", params)
    columns = column_names(export, [r[0] for r in described if r[0] != "file_row_number"])
    select = text_select(columns, source_sql, params, "file_row_number + 1")
    return Incoming(columns=columns, select_sql=select, params=params)


# -- Excel -------------------------------------------------------------------------------
def _read_xlsx(
    store: Store, export: ExportFile, options: ReaderOptions, collect_rejects: bool
) -> Incoming:
    import polars as pl

    check_workbook(export.path)  # zip bombs are refused before the reader inflates them
    sheet = options.sheet
    try:
        frame = pl.read_excel(
            export.path,
            sheet_name=sheet if isinstance(sheet, str) else None,
            sheet_id=(sheet + 1 if isinstance(sheet, int) else (None if sheet else 1)),
            has_header=options.header,
            infer_schema_length=0,
            read_options=_xlsx_skip(options),
            # empty rows are skipped and counted as a CSV's are, the others keep their row
            drop_empty_rows=False,
        )
    except Exception as exc:  # fastexcel raises its own, undocumented exception types
        why = clean_message(str(exc), export)
        raise IngestError(
            f"{export.path.name} cannot be read as an Excel workbook: {why}",
            where=str(export.path),
            fix="Check that it is a valid .xlsx file and that options.sheet names a sheet.",
        ) from exc
    name = f"_wb_xlsx_{id(frame)}"
    frame = frame.rename(dict(zip(frame.columns, _distinct(frame.columns), strict=True)))
    frame = frame.with_columns(pl.all().cast(pl.String)).with_row_index("_row_number", offset=1)
    store.con.register(name, frame.to_arrow())
    columns = column_names(export, [c for c in frame.columns if c != "_row_number"])
    duplicates: dict[str, list[int]] = {}
    renamed: dict[str, tuple[str, int]] = {}
    if options.header and any(_RENAMED.search(c) for c in columns):
        duplicates, renamed = header_repeats(columns, _xlsx_header(export, options))
    cols = ", ".join(quote_ident(c) for c in columns)
    select = f"SELECT {cols}, _row_number FROM {quote_ident(name)}"
    return Incoming(
        columns=columns,
        select_sql=select,
        params={},
        duplicates=duplicates,
        renamed=renamed,
        cleanup=[lambda: _unregister(store, name)],
    )


_RENAMED = re.compile(r"_\d+$")  # the Excel reader names a repeated header 'x' 'x_1'


def _distinct(columns: list[str]) -> list[str]:
    """Names that differ in more than case, as SQL's are: a second 'first' beside 'First'
    becomes 'first_1' (as DuckDB's CSV reader names it; the reader kept both)."""
    taken: set[str] = set()
    names = []
    for column in columns:
        name, n = column, 0
        while name.lower() in taken:
            n += 1
            name = f"{column}_{n}"
        taken.add(name.lower())
        names.append(name)
    return names


def _xlsx_header(export: ExportFile, options: ReaderOptions) -> list[str | None]:
    """The header row's names as written (the reader renames a repeated one)."""
    import polars as pl

    sheet = options.sheet
    first = pl.read_excel(
        export.path,
        sheet_name=sheet if isinstance(sheet, str) else None,
        sheet_id=(sheet + 1 if isinstance(sheet, int) else (None if sheet else 1)),
        has_header=False,
        infer_schema_length=0,
        read_options={"skip_rows": options.skip_rows, "n_rows": 1},
        drop_empty_rows=False,
    )
    row = first.row(0) if first.height else ()
    return [None if name is None else str(name) for name in row]


def _xlsx_skip(options: ReaderOptions) -> dict[str, int] | None:
    """``skip_rows`` skips the sheet's first rows, above the header, as it skips a CSV's
    first lines (a title, a merged banner, blank rows); every row below the header is data.

    fastexcel's own ``skip_rows`` skips rows *after* the header row (data rows); its
    ``header_row`` is the 0-based sheet row of the labels, the rows above it skipped. Without
    a header there is no header row and ``skip_rows`` counts from the sheet's first row.
    """
    if not options.skip_rows:
        return None
    if options.header:
        return {"header_row": options.skip_rows}
    return {"skip_rows": options.skip_rows}


def _unregister(store: Store, name: str) -> None:
    store.con.unregister(name)


# -- errors ------------------------------------------------------------------------------
def _check_columns(export: ExportFile, columns: list[str]) -> None:
    if not columns:
        raise IngestError(
            f"{export.path.name} has no columns.",
            where=str(export.path),
            fix="Check the delimiter and header options of the source.",
        )
    clash = [c for c in columns if c.lower() in LINEAGE]
    if clash:
        raise IngestError(
            f"{export.path.name} has column(s) {', '.join(clash)} whose names Workbench uses "
            "for lineage.",
            where=str(export.path),
            fix="Rename those columns in the export.",
        )


_EXPLAIN = (
    (
        re.compile(r"Expected top-level JSON array .* first character is '\{'"),
        "it holds a single JSON object, not an array of records",
        "If the object holds the records under a key (Stripe's and Chargebee's list exports: "
        "data), set the source's options.records to it; else export the records as a JSON "
        "array ([{...}, {...}]), or as NDJSON (one object a line); nothing was loaded.",
    ),
    (
        re.compile(r'"maximum_object_size" of \d+ bytes exceeded'),
        f"it holds a record larger than {MAX_RECORD_BYTES // (1024 * 1024)} MiB, the most "
        "Workbench reads in one record",
        "Check the export (a record that large is a runaway field or a broken file). As NDJSON "
        "(one record per line) such a record is set aside and the others load; nothing was "
        "loaded.",
    ),
    (
        re.compile(r"unexpected end of data"),
        "it ends in the middle of a JSON value (the file is cut short)",
        "Copy or export the file again; a partial file is not loaded.",
    ),
    (
        re.compile(r"No magic bytes found at end of file|too small to be a Parquet file"),
        "it is not a complete Parquet file (its footer is missing: cut short or not Parquet)",
        "Copy or export the file again; a partial file is not loaded.",
    ),
)


def read_error(export: ExportFile, exc: Exception) -> IngestError:
    """The message for a file DuckDB cannot read at all."""
    text = str(exc)
    found = _LINE.search(text) if export.format in ("csv", "tsv") else None
    line = int(found.group(1)) if found else None
    for pattern, what, fix in _EXPLAIN:
        if pattern.search(text):
            return IngestError(
                f"{export.path.name} cannot be read as {export.format.upper()}: {what}.",
                where=str(export.path),
                fix=fix,
            )
    why = clean_message(text, export)
    return IngestError(
        f"{export.path.name} cannot be read as {export.format.upper()}: {why}",
        where=where_file(export.path, line),
        fix="Check that the file is a complete export in the configured format and encoding "
        f"(sources.{export.source}.format / options); nothing was loaded.",
    )


__all__ = [
    "LINEAGE",
    "Incoming",
    "RetryWithRejects",
    "read_error",
    "read_export",
    "struct_fields",
]
