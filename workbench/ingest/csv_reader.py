"""The CSV/TSV reader: dialect sniffing, strict reading, rejected rows with true positions.

DuckDB reads the file strictly (every row as wide as the header), on every thread, into a
temporary table whose row ids give each row its position (:data:`INCOMING_TABLE`, which the
loader copies into the raw table); when that fails the loader reads again collecting
DuckDB's rejected rows, which :mod:`.csvscan` translates to record positions and physical
lines. A quote that is never closed is refused naming its
line. cp1252 is transcoded to UTF-8 first (DuckDB cannot decode it). DuckDB's strict
reader takes one kind of line end per file, so when the first read fails and the lines end
in a mix of ``\\r\\n``, ``\\n`` and ``\\r``, the read again is of a copy whose records all end
in ``\\n`` (files that read at once are never scanned for it).

Before DuckDB sees a file, a header wider than :data:`.files.MAX_COLUMNS` is refused, and
so is a record longer than :data:`.files.MAX_LINE_BYTES` (measured when the file was hashed;
measured again here if DuckDB sniffs another delimiter than the one guessed then). DuckDB
sniffs with that ``max_line_size`` and reads with the one :func:`line_size` fits to the
file's longest record, in a buffer of twice the limit (by default DuckDB allocates 16 times
the line size per buffer).
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from workbench.config import ReaderOptions
from workbench.errors import IngestError, where_file
from workbench.ingest.csvmeter import RecordMeter, measure_file
from workbench.ingest.csvscan import (
    Layout,
    count_fields,
    fix_line_ends,
    guess_delimiter,
    mixed_line_ends,
    read_line,
    scan_layout,
)
from workbench.ingest.csvtrail import StrayRecords, mark_stray, stray_message, stray_records
from workbench.ingest.files import MAX_COLUMNS, MAX_LINE_BYTES, ExportFile
from workbench.ingest.incoming import (
    Incoming,
    RetryWithRejects,
    clean_message,
    column_names,
    header_repeats,
    text_select,
)
from workbench.ingest.rejects import Reject
from workbench.store import Store, quote_ident, table

REJECTS_TABLE = "_wb_rejects"
INCOMING_TABLE = "_wb_incoming"
"""The temporary table a file's rows are read into, in the order of the file: DuckDB reads
and writes it on every thread, and its ``rowid`` numbers the rows (``row_number() OVER ()``
over ``read_csv`` made the whole read, and the compression of the raw table, one thread's
work). The loader reads before its transaction: a temporary table filled inside one is read
back on one thread. Rows a transaction adds have consecutive row ids from a large base,
hence the ``min(rowid)``."""
REJECTS_SCAN = "_wb_reject_scans"
SNIFF_PARAMS = ("path", "header", "skip", "encoding", "compression", "max_line", "buffer")
DUCKDB_LINE_BYTES = 2 * 1024 * 1024
"""DuckDB's default ``max_line_size``. With 16 MiB DuckDB kept a load's rows in memory and
compressed them at the commit instead of while it read (the raw rows of a 1M-row export
took 1.5 times as long and 1.7 times the CPU), so files whose records fit are read with the
default (see :func:`line_size`)."""
_RENAMED = re.compile(r"_\d+$")  # DuckDB (and the Excel reader) name a repeated 'x' 'x_1'


def read_csv(
    store: Store, export: ExportFile, options: ReaderOptions, collect_rejects: bool
) -> Incoming:
    path = export.path
    cleanup: list[Callable[[], None]] = []
    encoding = export.encoding or options.encoding
    setting = f"sources.{export.source}.options.encoding"
    path, encoding = duckdb_readable(path, encoding, export.gzip, setting)
    if path != export.path:
        cleanup.append(path.unlink)
    try:
        if collect_rejects:  # the strict read failed: mixed line ends are one reason
            path, encoding = _one_kind_of_line_end(export, options, path, encoding, cleanup)
        return _read_csv_at(store, export, options, collect_rejects, path, encoding, cleanup)
    except BaseException:
        for step in cleanup:
            step()
        raise


def duckdb_readable(path: Path, encoding: str, gzip: bool, setting: str) -> tuple[Path, str]:
    """The file and encoding to give DuckDB's CSV reader for a file in ``encoding`` (one of
    :data:`workbench.config.sources.ENCODINGS`).

    cp1252, which DuckDB cannot decode, becomes a temporary, uncompressed UTF-8 copy (the
    returned path is then not ``path``: the caller deletes it); a UTF-8 byte order mark DuckDB
    skips itself. ``setting`` is the option to change when the bytes are not the encoding.
    """
    if encoding == "cp1252":
        return _transcode(path, "cp1252", gzip, setting), "utf-8"
    if encoding == "utf-8-sig":
        return path, "utf-8"
    return path, encoding


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
        "buffer": 2 * MAX_LINE_BYTES,
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
        "buffer_size = $buffer",
    ]
    _check_width(export, options, path, encoding, delimiter)
    if not delimiter:
        # Sniff tolerantly (a few bad rows must not change the dialect), then read strictly.
        try:
            delimiter = store.scalar(
                "SELECT Delimiter FROM sniff_csv($path, all_varchar = true, ignore_errors = true, "
                "max_line_size = $max_line, buffer_size = $buffer, header = $header, skip = $skip, "
                "encoding = $encoding, compression = $compression)",
                {k: params[k] for k in SNIFF_PARAMS},
            )
        except duckdb.Error as exc:
            if not collect_rejects:  # the read again looks for mixed line ends first
                raise RetryWithRejects() from exc
            found = _quotes(export, options, path, encoding)
            raise (
                _unclosed_quote(export, path, found) or _layout_error(export, exc, options, found)
            ) from exc
    params["delim"] = delimiter
    stray = stray_records(
        path,
        gzip=params["compression"] == "gzip",
        encoding=encoding,
        delimiter=str(delimiter),
        quote=options.quote,
        escape=options.escape or options.quote,
        skip_rows=options.skip_rows,
        header=options.header,
    )
    if stray is not None:
        if not collect_rejects:  # DuckDB would read them with their values shifted
            raise RetryWithRejects()
        marked = _temp_file()
        cleanup.append(marked.unlink)
        mark_stray(path, marked, stray, gzip=params["compression"] == "gzip",
                   encoding=encoding, delimiter=str(delimiter))  # fmt: skip
        path, encoding = marked, "utf-8" if encoding == "utf-16" else encoding
        params.update(path=str(path), encoding=encoding, compression="uncompressed")
    longest = _check_records(export, options, str(delimiter))
    params["max_line"] = line_size(export, path, encoding, longest)
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
        found = _quotes(export, options, path, encoding)
        quote_error = _unclosed_quote(export, path, found)
        if quote_error:
            raise quote_error from exc
        if collect_rejects:  # even a tolerant read cannot make sense of the file
            raise _layout_error(export, exc, options, found) from exc
        raise  # ragged rows also fail the strict sniffer: retried collecting rejects
    columns = column_names(export, [r[0] for r in described])
    duplicates: dict[str, list[int]] = {}
    renamed: dict[str, tuple[str, int]] = {}
    if options.header and any(_RENAMED.search(c) for c in columns):
        duplicates, renamed = header_repeats(columns, _header(store, common, params))
    header_lines = (1 if options.header else 0) + options.skip_rows

    def layout(wanted: list[int]) -> Layout:
        return scan_layout(
            path,
            gzip=params["compression"] == "gzip",
            encoding="utf-16" if encoding == "utf-16" else "utf-8",
            delimiter=str(delimiter),
            quote=options.quote,
            escape=options.escape or options.quote,
            skip_rows=options.skip_rows,
            header=options.header,
            wanted=wanted,
        )

    incoming = table("temp", INCOMING_TABLE)
    cleanup.append(lambda: drop_incoming(store))
    store.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(INCOMING_TABLE)} AS "
                  f"SELECT * FROM {source_sql}", params)  # fmt: skip
    return Incoming(
        columns=columns,
        select_sql=text_select(
            columns, incoming, {}, f"rowid - (SELECT min(rowid) FROM {incoming}) + 1"
        ),
        params={},
        rejects=(lambda: _csv_rejects(store, layout, header_lines, stray))
        if collect_rejects
        else None,
        duplicates=duplicates,
        renamed=renamed,
        cleanup=cleanup,
    )


def drop_incoming(store: Store) -> None:
    # the loader reads before its transaction; read inside one, a failed transaction cannot
    # run the DROP, and its rollback drops the table instead
    with contextlib.suppress(duckdb.Error):
        store.execute(f"DROP TABLE IF EXISTS {table('temp', INCOMING_TABLE)}")


def _check_width(
    export: ExportFile, options: ReaderOptions, path: Path, encoding: str, delimiter: str | None
) -> None:
    """Refuse a header (or first row) of more than :data:`MAX_COLUMNS` fields at once."""
    number = options.skip_rows + 1
    gzip = export.gzip and path == export.path
    scan_encoding = "utf-16" if encoding == "utf-16" else "utf-8"
    try:
        line = read_line(path, gzip=gzip, encoding=scan_encoding, number=number)
    except UnicodeError:  # UTF-16 without a byte order mark: DuckDB reads it little-endian
        line = read_line(path, gzip=gzip, encoding="utf-16-le", number=number)
    delimiter = delimiter or guess_delimiter(line)
    if line.count(delimiter) < MAX_COLUMNS:
        return
    escape = options.escape or options.quote
    width = count_fields(line, delimiter=delimiter, quote=options.quote, escape=escape)
    if width <= MAX_COLUMNS:
        return
    what = "its header" if options.header else "its first row"
    raise IngestError(
        f"{export.path.name} has {width:,} columns in {what} (line {number}); Workbench loads "
        f"at most {MAX_COLUMNS:,} columns per export.",
        where=where_file(export.path, number),
        fix="Export only the columns the project maps (a file this wide is usually a pivot "
        "or a transposed table); nothing was loaded.",
    )


def _check_records(export: ExportFile, options: ReaderOptions, delimiter: str) -> int | None:
    """Measure the records again if they were measured with another delimiter than the one
    DuckDB reads with (quotes open values only after a delimiter); returns the bytes of the
    longest record (None if never measured)."""
    if export.measured_with is None or export.measured_with == delimiter:
        return export.longest_record
    meter = RecordMeter(
        MAX_LINE_BYTES,
        delimiter=delimiter,
        quote=options.quote,
        escape=options.escape,
        skip_rows=options.skip_rows,
    )
    measure_file(export.path, export.gzip, meter)
    return meter.longest()


def line_size(export: ExportFile, path: Path, encoding: str, longest: int | None) -> int:
    """The ``max_line_size`` DuckDB reads ``path`` with: twice its longest record, at least
    :data:`DUCKDB_LINE_BYTES`, at most :data:`.files.MAX_LINE_BYTES`.

    Only for the export's own UTF-8 bytes, as measured; a transcoded copy (its records grow)
    or a file whose records were not measured is read with the limit.
    """
    if longest is None or path != export.path or encoding != "utf-8":
        return MAX_LINE_BYTES
    return min(MAX_LINE_BYTES, max(DUCKDB_LINE_BYTES, 2 * longest))


def _one_kind_of_line_end(
    export: ExportFile,
    options: ReaderOptions,
    path: Path,
    encoding: str,
    cleanup: list[Callable[[], None]],
) -> tuple[Path, str]:
    """The file to read and its encoding: a copy with every record ending in ``\\n`` if the
    file ends them in more than one way (which DuckDB's strict reader cannot read)."""
    gzip = export.gzip and path == export.path
    if not mixed_line_ends(path, gzip=gzip, encoding=encoding):
        return path, encoding
    if encoding == "utf-16":  # the copy is made from UTF-8 bytes
        setting = f"sources.{export.source}.options.encoding"
        path, gzip, encoding = _transcode(path, "utf-16", gzip, setting), False, "utf-8"
        cleanup.append(path.unlink)
    first = read_line(path, gzip=gzip, encoding="utf-8", number=options.skip_rows + 1)
    delimiter = options.delimiter or ("\t" if export.format == "tsv" else guess_delimiter(first))
    out = _temp_file()
    try:
        mixed = fix_line_ends(
            path,
            out,
            gzip=gzip,
            delimiter=delimiter,
            quote=options.quote,
            escape=options.escape or options.quote,
        )
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    if not mixed:  # only quoted values hold other line ends: the file itself is fine
        out.unlink()
        return path, encoding
    cleanup.append(out.unlink)
    return out, encoding


def _header(store: Store, common: list[str], params: dict[str, Any]) -> list[str | None]:
    """The header's names as written (DuckDB renames a repeated one; this reads them as
    data). Empty when it cannot be read so."""
    args = ", ".join([*common, "delim = $delim", "header = false", "ignore_errors = true",
                      "null_padding = true"])  # fmt: skip
    keys = ("path", "quote", "escape", "skip", "encoding", "compression", "max_line", "buffer",
            "delim")  # fmt: skip
    try:
        rows = store.rows(f"SELECT * FROM read_csv({args}) LIMIT 1", {k: params[k] for k in keys})
    except duckdb.Error:
        return []
    return [None if name is None else str(name) for name in (rows[0] if rows else ())]


def _csv_rejects(
    store: Store,
    layout: Callable[[list[int]], Layout],
    header_lines: int,
    stray: StrayRecords | None = None,
) -> list[Reject]:
    """DuckDB's rejected rows, one per record, with true record position and line (the
    records :mod:`.csvtrail` marked with one more delimiter are said to be what they are)."""
    exists = store.scalar(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'temp' AND table_name = $n",
        {"n": REJECTS_TABLE},
    )
    if not exists:
        return []
    rows = store.rows(
        # a short row is reported once per field it lacks: the first of those is named
        "SELECT line, coalesce(arg_min(column_name, TRY_CAST(regexp_extract(error_message, "
        "'Found: ([0-9]+)', 1) AS INTEGER)), any_value(column_name)), "
        "string_agg(DISTINCT error_type, '; '), "
        "any_value(csv_line), string_agg(DISTINCT error_message, '; ') "
        f"FROM temp.{quote_ident(REJECTS_TABLE)} GROUP BY line ORDER BY line"
    )
    if not rows:
        return []
    found = layout([int(r[0]) for r in rows])
    rejects = []
    for line, column, kind, text, message in rows:
        where = found.locate(int(line)) or (int(line) - header_lines, int(line))
        record, said = (text or "").lstrip("\r\n"), _ragged_message(kind, message) or message
        if stray is not None and where[1] in stray.starts:
            record, said = stray_message(stray, where[1], record)
        rejects.append(
            Reject(
                row_number=where[0],
                line=where[1],
                column_name=column,
                error_type=kind,
                raw_record=record,
                message=said,
            )
        )
    return rejects


_COUNTS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _ragged_message(kinds: str, message: str | None) -> str | None:
    """A row with too few or too many fields, said once: DuckDB reports a short row once per
    field it lacks (``Expected ... 9 Found: 4; ... Found: 5; ...``), where it has 4."""
    counts = [(int(e), int(f)) for e, f in _COUNTS.findall(message or "")]
    if not counts or len({e for e, _ in counts}) != 1 or ";" in kinds:
        return None
    expected = counts[0][0]
    if kinds == "MISSING COLUMNS":  # (the column shown with it is the first one missing)
        return f"{min(f for _, f in counts)} of the header's {expected} fields"
    if kinds == "TOO MANY COLUMNS":
        return f"{max(f for _, f in counts)} fields where the header has {expected}"
    return None


def _quotes(export: ExportFile, options: ReaderOptions, path: Path, encoding: str) -> Layout:
    """The file's quoted values, scanned: one never closed, the one that spans most lines."""
    scan_encoding = "utf-16" if encoding == "utf-16" else "utf-8"
    gzip = export.gzip and path == export.path
    first = read_line(path, gzip=gzip, encoding=scan_encoding, number=options.skip_rows + 1)
    return scan_layout(
        path,
        gzip=gzip,
        encoding=scan_encoding,
        delimiter=options.delimiter or guess_delimiter(first),
        quote=options.quote,
        escape=options.escape or options.quote,
        skip_rows=options.skip_rows,
        header=options.header,
        wanted=(),
    )


def _unclosed_quote(export: ExportFile, path: Path, found: Layout) -> IngestError | None:
    """The error for a quote that is opened and never closed, if the file has one."""
    if found.open_quote_line is None:
        return None
    line = found.open_quote_line
    shown = _line_of(export, path, line)
    return IngestError(
        f"{export.path.name} has a quoted value that starts on line {line} and is never "
        f"closed, so the rest of the file would be read as one value: {shown}",
        where=where_file(export.path, line),
        fix='Close the quote in the export (a quote inside a value is written twice: ""), '
        f"or set sources.{export.source}.options.quote if the file uses another quote "
        "character; nothing was loaded.",
    )


def _layout_error(
    export: ExportFile, exc: duckdb.Error, options: ReaderOptions, found: Layout | None = None
) -> IngestError:
    """A file DuckDB cannot lay out; with the quoted value over several lines likeliest to be
    a quote not closed where it should be and closed by a later one (Layout.suspect_quote)."""
    what = (
        f"{export.path.name}: Workbench cannot work out how the CSV is laid out "
        f"({clean_message(str(exc), export)})"
    )
    where = str(export.path)
    key = f"sources.{export.source}.options"
    fix = (
        f"Check the file's quotes and encoding ({key}.encoding); nothing was loaded."
        if options.delimiter
        else f"Set {key}.delimiter (and quote, encoding) to the file's; nothing was loaded."
    )
    if found is not None and found.suspect_quote is not None:
        line, lines = found.suspect_quote
        what += (
            f". A quoted value starts on line {line} and runs over {lines} lines, to the "
            f"next quote: {_line_of(export, export.path, line)}"
        )
        where = where_file(export.path, line)
        fix = (
            "If that quote is not closed where the value ends, close it (a quote inside a "
            'value is written twice: ""); ' + fix[0].lower() + fix[1:]
        )
    return IngestError(what, where=where, fix=fix)


def _line_of(export: ExportFile, path: Path, line: int) -> str:
    """Line ``line`` of the file as read (``path``: the export or Workbench's copy), cut."""
    scan_encoding = "utf-8" if path != export.path or export.encoding != "utf-16" else "utf-16"
    text = read_line(path, gzip=export.gzip and path == export.path, encoding=scan_encoding,
                     number=line)  # fmt: skip
    return text if len(text) <= 80 else text[:77] + "..."


def _transcode(path: Path, encoding: str, gzip: bool, setting: str) -> Path:
    """Re-encode a file DuckDB cannot decode natively into a temporary UTF-8 file."""
    import gzip as gz

    opener = gz.open if gzip else open
    out = _temp_file()
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
            fix=f"Set {setting} to the file's real encoding.",
        ) from exc
    return out


def _temp_file() -> Path:
    handle, name = tempfile.mkstemp(suffix=".csv", prefix="workbench-")
    os.close(handle)
    return Path(name)
