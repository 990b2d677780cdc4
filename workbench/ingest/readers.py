"""Readers: turn one export file into a SELECT that yields its rows as text.

Every reader returns an :class:`Incoming`: the source's column names and a SQL ``SELECT``
(with bound parameters) that produces each column as VARCHAR plus ``_row_number``, the
1-based position of the record in the file. Values stay exactly as the file has them;
typing and mapping happen later, in staging. CSV rows the parser cannot read are collected
in a rejects table with line and reason instead of failing the whole file.
"""

from __future__ import annotations

import codecs
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from workbench.config import ReaderOptions
from workbench.errors import IngestError, where_file
from workbench.ingest.csvscan import Layout, guess_delimiter, read_line, scan_layout
from workbench.ingest.files import ExportFile
from workbench.ingest.ndjson import split_lines
from workbench.ingest.rejects import Reject
from workbench.store import Store, quote_ident

REJECTS_TABLE = "_wb_rejects"
REJECTS_SCAN = "_wb_reject_scans"
LINEAGE = ("_load_id", "_source_file", "_row_number")
MAX_LINE_BYTES = 64 * 1024 * 1024  # a record may hold a cell of many megabytes
_LINE = re.compile(r"\b[Ll]ine:?\s*(\d+)")
SNIFF_PARAMS = ("path", "header", "skip", "encoding", "compression", "max_line")
_RENAMED = re.compile(r"_\d+$")  # DuckDB renames a repeated header 'x' to 'x_1'


class RetryWithRejects(Exception):
    """The strict read cannot tell good rows from bad; read again collecting rejects."""


@dataclass
class Incoming:
    """The rows of one file, ready to be inserted into a raw table.

    ``rejects`` (when set) lists the records the reader set aside, after the rows were
    inserted; ``duplicates`` maps a lower-cased header name that occurs more than once to
    its 1-based column positions.
    """

    columns: list[str]
    select_sql: str
    params: dict[str, Any]
    rejects: Callable[[], list[Reject]] | None = None
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for step in self.cleanup:
            step()


def read_export(
    store: Store, export: ExportFile, options: ReaderOptions, *, collect_rejects: bool = False
) -> Incoming:
    """Dispatch on the file's format.

    With ``collect_rejects`` unreadable rows (CSV) and lines (NDJSON) are set aside instead
    of failing the read; it costs time, so the loader first tries without and retries with
    it on error.
    """
    reader = {
        "csv": _read_csv,
        "tsv": _read_csv,
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


def _text_select(
    columns: list[str], source_sql: str, params: dict[str, Any], row_number: str
) -> str:
    cols = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in columns)
    return f"SELECT {cols}, {row_number} AS _row_number FROM {source_sql}"


# -- CSV / TSV ---------------------------------------------------------------------------
def _read_csv(
    store: Store, export: ExportFile, options: ReaderOptions, collect_rejects: bool
) -> Incoming:
    path = export.path
    cleanup: list[Callable[[], None]] = []
    encoding = export.encoding or options.encoding
    if encoding == "cp1252":
        path = _transcode(path, "cp1252", export.gzip)
        cleanup.append(path.unlink)
        encoding = "utf-8"
    elif encoding == "utf-8-sig":
        encoding = "utf-8"  # DuckDB skips a UTF-8 byte order mark itself
    try:
        return _read_csv_at(store, export, options, collect_rejects, path, encoding, cleanup)
    except BaseException:
        for step in cleanup:
            step()
        raise


def _read_csv_at(
    store: Store,
    export: ExportFile,
    options: ReaderOptions,
    collect_rejects: bool,
    path: Path,
    encoding: str,
    cleanup: list[Callable[[], None]],
) -> Incoming:
    delimiter = options.delimiter or ("\t" if export.format == "tsv" else None)
    params: dict[str, Any] = {
        "path": str(path),
        "quote": options.quote,
        "escape": options.escape or options.quote,
        "header": options.header,
        "skip": options.skip_rows,
        "encoding": encoding,
        "compression": "gzip" if export.gzip and path == export.path else "uncompressed",
        "max_line": MAX_LINE_BYTES,
    }
    common = [
        "$path",
        "all_varchar = true",
        "quote = $quote",
        "escape = $escape",
        "skip = $skip",
        "encoding = $encoding",
        "compression = $compression",
        "max_line_size = $max_line",
    ]
    if not delimiter:
        # Sniff tolerantly (a few bad rows must not change the dialect), then read strictly.
        try:
            delimiter = store.scalar(
                "SELECT Delimiter FROM sniff_csv($path, all_varchar = true, ignore_errors = true, "
                "max_line_size = $max_line, header = $header, skip = $skip, "
                "encoding = $encoding, compression = $compression)",
                {k: params[k] for k in SNIFF_PARAMS},
            )
        except duckdb.Error as exc:
            quote_error = _unclosed_quote(export, options, path, encoding)
            raise (quote_error or _layout_error(export, exc)) from exc
    params["delim"] = delimiter
    args = [*common, "header = $header", "null_padding = false", "strict_mode = true",
            "delim = $delim"]  # fmt: skip
    if collect_rejects:
        params["rejects"], params["scan"] = REJECTS_TABLE, REJECTS_SCAN
        args.append("store_rejects = true, rejects_table = $rejects, rejects_scan = $scan")
    source_sql = f"read_csv({', '.join(args)})"
    for name in (REJECTS_TABLE, REJECTS_SCAN):
        store.execute(f"DROP TABLE IF EXISTS temp.{quote_ident(name)}")
    try:
        described = store.rows(f"DESCRIBE SELECT * FROM {source_sql}", params)
    except duckdb.Error as exc:
        if "sniff" not in str(exc).lower():
            raise
        quote_error = _unclosed_quote(export, options, path, encoding)
        if quote_error:
            raise quote_error from exc
        if collect_rejects:  # even a tolerant read cannot make sense of the file
            raise _layout_error(export, exc) from exc
        raise  # ragged rows also fail the strict sniffer: retried collecting rejects
    columns = _column_names(export, [r[0] for r in described])
    duplicates: dict[str, list[int]] = {}
    if options.header and any(_RENAMED.search(c) for c in columns):
        duplicates = _repeated_headers(store, common, params)
    header_lines = (1 if options.header else 0) + options.skip_rows

    def layout() -> Layout:
        return scan_layout(
            path,
            gzip=params["compression"] == "gzip",
            encoding="utf-16" if encoding == "utf-16" else "utf-8",
            delimiter=str(delimiter),
            quote=options.quote,
            escape=options.escape or options.quote,
            skip_rows=options.skip_rows,
            header=options.header,
        )

    return Incoming(
        columns=columns,
        select_sql=_text_select(columns, source_sql, params, "row_number() OVER ()"),
        params=params,
        rejects=(lambda: _csv_rejects(store, layout, header_lines)) if collect_rejects else None,
        duplicates=duplicates,
        cleanup=cleanup,
    )


def _repeated_headers(
    store: Store, common: list[str], params: dict[str, Any]
) -> dict[str, list[int]]:
    """Header names that occur more than once (case-insensitively), with their positions."""
    args = ", ".join([*common, "delim = $delim", "header = false", "ignore_errors = true",
                      "null_padding = true"])  # fmt: skip
    keys = ("path", "quote", "escape", "skip", "encoding", "compression", "max_line", "delim")
    try:
        rows = store.rows(f"SELECT * FROM read_csv({args}) LIMIT 1", {k: params[k] for k in keys})
    except duckdb.Error:
        return {}
    seen: dict[str, list[int]] = {}
    for position, name in enumerate(rows[0] if rows else (), start=1):
        if name is not None:
            seen.setdefault(str(name).strip().lower(), []).append(position)
    return {name: spots for name, spots in seen.items() if len(spots) > 1}


def _csv_rejects(store: Store, layout: Callable[[], Layout], header_lines: int) -> list[Reject]:
    """DuckDB's rejected rows, one per record, with true record position and line."""
    exists = store.scalar(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'temp' AND table_name = $n",
        {"n": REJECTS_TABLE},
    )
    if not exists:
        return []
    rows = store.rows(
        "SELECT line, any_value(column_name), string_agg(DISTINCT error_type, '; '), "
        "any_value(csv_line), string_agg(DISTINCT error_message, '; ') "
        f"FROM temp.{quote_ident(REJECTS_TABLE)} GROUP BY line ORDER BY line"
    )
    if not rows:
        return []
    found = layout()
    rejects = []
    for line, column, kind, text, message in rows:
        where = found.locate(int(line)) or (int(line) - header_lines, int(line))
        rejects.append(
            Reject(
                row_number=where[0],
                line=where[1],
                column_name=column,
                error_type=kind,
                raw_record=(text or "").lstrip("\r\n"),
                message=message,
            )
        )
    return rejects


def _unclosed_quote(
    export: ExportFile, options: ReaderOptions, path: Path, encoding: str
) -> IngestError | None:
    """The error for a quote that is opened and never closed, if the file has one."""
    scan_encoding = "utf-16" if encoding == "utf-16" else "utf-8"
    gzip = export.gzip and path == export.path
    first = read_line(path, gzip=gzip, encoding=scan_encoding, number=options.skip_rows + 1)
    found = scan_layout(
        path,
        gzip=gzip,
        encoding=scan_encoding,
        delimiter=options.delimiter or guess_delimiter(first),
        quote=options.quote,
        escape=options.escape or options.quote,
        skip_rows=options.skip_rows,
        header=options.header,
    )
    if found.open_quote_line is None:
        return None
    line = found.open_quote_line
    text = read_line(path, gzip=gzip, encoding=scan_encoding, number=line)
    shown = text if len(text) <= 80 else text[:77] + "..."
    return IngestError(
        f"{export.path.name} has a quoted value that starts on line {line} and is never "
        f"closed, so the rest of the file would be read as one value: {shown}",
        where=where_file(export.path, line),
        fix='Close the quote in the export (a quote inside a value is written twice: ""), '
        f"or set sources.{export.source}.options.quote if the file uses another quote "
        "character; nothing was loaded.",
    )


def _layout_error(export: ExportFile, exc: duckdb.Error) -> IngestError:
    return IngestError(
        f"{export.path.name}: Workbench cannot work out how the CSV is laid out "
        f"({_clean(str(exc), export)})",
        where=str(export.path),
        fix=f"Set sources.{export.source}.options.delimiter (and quote, encoding) to the "
        "file's; nothing was loaded.",
    )


def _transcode(path: Path, encoding: str, gzip: bool) -> Path:
    """Re-encode a file DuckDB cannot decode natively into a temporary UTF-8 file."""
    import gzip as gz

    opener = gz.open if gzip else open
    out = Path(tempfile.mkstemp(suffix=".csv", prefix="workbench-")[1])
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with opener(path, "rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                dst.write(decoder.decode(chunk))
            dst.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        out.unlink(missing_ok=True)
        raise IngestError(
            f"{path.name} is not valid {encoding}: byte {exc.object[exc.start]:#04x} "
            f"cannot be decoded.",
            where=str(path),
            fix="Set sources.<name>.options.encoding to the file's real encoding.",
        ) from exc
    return out


# -- JSON / NDJSON -----------------------------------------------------------------------
def _read_json(
    store: Store, export: ExportFile, options: ReaderOptions, collect_rejects: bool
) -> Incoming:
    path, gzip = export.path, export.gzip
    cleanup: list[Callable[[], None]] = []
    rejects: Callable[[], list[Reject]] | None = None
    if export.format == "ndjson" and collect_rejects:
        path, found, records = split_lines(export.path, gzip=export.gzip)
        cleanup.append(path.unlink)
        gzip = False
        rejects = lambda: found  # noqa: E731
        if len(found) == records:
            for step in cleanup:
                step()
            raise _no_objects(export, found)
    fmt = "array" if export.format == "json" else "newline_delimited"
    params: dict[str, Any] = {
        "path": str(path),
        "fmt": fmt,
        "compression": "gzip" if gzip else "uncompressed",
    }
    base = "$path, format = $fmt, compression = $compression, maximum_object_size = 268435456"
    try:
        described = store.rows(
            f"DESCRIBE SELECT * FROM read_json({base}, sample_size = -1)", params
        )
        top = _column_names(export, [r[0] for r in described])
        if top == ["json"] and not collect_rejects:
            _check_records(store, export, params)
    except BaseException:
        for step in cleanup:
            step()
        raise
    params["cols"] = {c: "VARCHAR" for c in top}
    source_sql = f"read_json({base}, columns = $cols)"
    exprs: list[tuple[str, str]] = [(c, f"{quote_ident(c)}") for c in top]
    for name, type_text, *_ in described:
        exprs.extend(_flatten_struct(name, quote_ident(name), "$", type_text, params))
    columns = _column_names(export, [name for name, _ in exprs])
    cols = ", ".join(f"{expr} AS {quote_ident(name)}" for name, expr in exprs)
    select = f"SELECT {cols}, row_number() OVER () AS _row_number FROM {source_sql}"
    return Incoming(
        columns=columns, select_sql=select, params=params, rejects=rejects, cleanup=cleanup
    )


def _check_records(store: Store, export: ExportFile, params: dict[str, Any]) -> None:
    """A lone ``json`` column means the records are not all JSON objects (or there are none)."""
    total, bad, first_bad, kind = store.rows(
        "SELECT count(*), count(*) FILTER (WHERE json_type(json) <> 'OBJECT'), "
        "min(n) FILTER (WHERE json_type(json) <> 'OBJECT'), "
        "arg_min(json_type(json), n) FILTER (WHERE json_type(json) <> 'OBJECT') "
        "FROM (SELECT json, row_number() OVER () AS n FROM read_json_objects("
        "$path, format = $fmt, compression = $compression, maximum_object_size = 268435456))",
        params,
    )[0]
    name = export.path.name
    if total == 0:
        raise IngestError(
            f"{name} holds no records: its JSON array is empty.",
            where=str(export.path),
            fix="Export it again from the source system; nothing was loaded.",
        )
    if not bad:
        return
    if export.format == "ndjson":
        raise RetryWithRejects()
    raise IngestError(
        f"{name} is not an array of records: {bad:,} of its {total:,} elements are not JSON "
        f"objects (element {first_bad} is a {_JSON_TYPES.get(str(kind), str(kind).lower())}).",
        where=str(export.path),
        fix="Export the records as a JSON array of objects ([{...}, {...}]); nothing was loaded.",
    )


_JSON_TYPES = {"UBIGINT": "number", "BIGINT": "number", "DOUBLE": "number", "VARCHAR": "string",
               "ARRAY": "array", "BOOLEAN": "boolean", "NULL": "null"}  # fmt: skip


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
    if not type_text.startswith("STRUCT("):
        return []
    out: list[tuple[str, str]] = []
    for child, child_type in _struct_fields(type_text):
        name = f"{prefix}.{child}"
        path = f"{json_path}.{_json_key(child)}"
        mark = f"jp{sum(k.startswith('jp') for k in params)}"
        params[mark] = path
        out.append((name, f"json_extract_string({json_col}, ${mark})"))
        out.extend(_flatten_struct(name, json_col, path, child_type, params))
    return out


def _json_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _struct_fields(type_text: str) -> list[tuple[str, str]]:
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
    columns = _column_names(export, [r[0] for r in described if r[0] != "file_row_number"])
    select = _text_select(columns, source_sql, params, "file_row_number + 1")
    return Incoming(columns=columns, select_sql=select, params=params)


# -- Excel -------------------------------------------------------------------------------
def _read_xlsx(
    store: Store, export: ExportFile, options: ReaderOptions, collect_rejects: bool
) -> Incoming:
    import polars as pl

    sheet = options.sheet
    try:
        frame = pl.read_excel(
            export.path,
            sheet_name=sheet if isinstance(sheet, str) else None,
            sheet_id=(sheet + 1 if isinstance(sheet, int) else (None if sheet else 1)),
            has_header=options.header,
            infer_schema_length=0,
            read_options={"skip_rows": options.skip_rows} if options.skip_rows else None,
        )
    except Exception as exc:  # fastexcel raises its own, undocumented exception types
        raise IngestError(
            f"{export.path.name} cannot be read as an Excel workbook: {_clean(str(exc), export)}",
            where=str(export.path),
            fix="Check that it is a valid .xlsx file and that options.sheet names a sheet.",
        ) from exc
    name = f"_wb_xlsx_{id(frame)}"
    frame = frame.with_columns(pl.all().cast(pl.String)).with_row_index("_row_number", offset=1)
    store.con.register(name, frame.to_arrow())
    columns = _column_names(export, [c for c in frame.columns if c != "_row_number"])
    cols = ", ".join(quote_ident(c) for c in columns)
    select = f"SELECT {cols}, _row_number FROM {quote_ident(name)}"
    return Incoming(
        columns=columns,
        select_sql=select,
        params={},
        cleanup=[lambda: _unregister(store, name)],
    )


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


def _column_names(export: ExportFile, columns: list[str]) -> list[str]:
    """Refuse column names no table can have (control characters such as NUL bytes)."""
    for position, name in enumerate(columns, start=1):
        if any(ord(ch) < 32 and ch not in "\t" for ch in name):
            raise IngestError(
                f"{export.path.name}: the name of column {position} ({name!r}) holds control "
                "characters such as NUL bytes.",
                where=where_file(export.path, 1),
                fix="Fix the header of the export (or check options.encoding: UTF-16 read as "
                "UTF-8 looks like this); nothing was loaded.",
            )
    return columns


_EXPLAIN = (
    (
        re.compile(r"Expected top-level JSON array .* first character is '\{'"),
        "it holds a single JSON object, not an array of records",
        "Export the records as a JSON array ([{...}, {...}]), or set 'format: ndjson' on the "
        "source if the file has one object per line; nothing was loaded.",
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
_ERROR_KIND = re.compile(r"^[A-Z][A-Za-z ]*Error: ")


def _clean(text: str, export: ExportFile) -> str:
    """DuckDB's first line, without its error class and with the file named once."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    first = _ERROR_KIND.sub("", first)
    for spelled in (f' in file "{export.path}"', f" in file '{export.path}'"):
        first = first.replace(spelled, "")
    return first.replace(f'"{export.path}"', export.path.name).replace(
        str(export.path), export.path.name
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
    return IngestError(
        f"{export.path.name} cannot be read as {export.format.upper()}: {_clean(text, export)}",
        where=where_file(export.path, line),
        fix="Check that the file is a complete export in the configured format and encoding "
        f"(sources.{export.source}.format / options); nothing was loaded.",
    )
