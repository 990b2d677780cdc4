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
from workbench.ingest.files import ExportFile
from workbench.store import Store, quote_ident

REJECTS_TABLE = "_wb_rejects"
REJECTS_SCAN = "_wb_reject_scans"
LINEAGE = ("_load_id", "_source_file", "_row_number")
MAX_LINE_BYTES = 64 * 1024 * 1024  # a record may hold a cell of many megabytes
_LINE = re.compile(r"\b[Ll]ine:?\s*(\d+)")


@dataclass
class Incoming:
    """The rows of one file, ready to be inserted into a raw table."""

    columns: list[str]
    select_sql: str
    params: dict[str, Any]
    has_rejects_table: bool = False
    header_lines: int = 0
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for step in self.cleanup:
            step()


def read_export(
    store: Store, export: ExportFile, options: ReaderOptions, *, collect_rejects: bool = False
) -> Incoming:
    """Dispatch on the file's format.

    With ``collect_rejects`` a CSV's unreadable rows are collected instead of failing the
    read; it costs time, so the loader first tries without and retries with it on error.
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
    _check_columns(export, incoming.columns)
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
    encoding = options.encoding
    if encoding == "cp1252":
        path = _transcode(path, "cp1252", export.gzip)
        cleanup.append(path.unlink)
        encoding = "utf-8"
    elif encoding == "utf-8-sig":
        encoding = "utf-8"  # DuckDB skips a UTF-8 byte order mark itself
    delimiter = options.delimiter or ("\t" if export.format == "tsv" else None)
    params: dict[str, Any] = {
        "path": str(path),
        "quote": options.quote,
        "escape": options.escape or options.quote,
        "header": options.header,
        "skip": options.skip_rows,
        "encoding": encoding,
        "compression": "gzip" if export.gzip else "uncompressed",
    }
    args = [
        "$path",
        "all_varchar = true",
        "quote = $quote",
        "escape = $escape",
        "header = $header",
        "skip = $skip",
        "encoding = $encoding",
        "compression = $compression",
        "null_padding = false",
        f"max_line_size = {MAX_LINE_BYTES}",
        "strict_mode = true",
    ]
    if collect_rejects:
        args.append(
            f"store_rejects = true, rejects_table = '{REJECTS_TABLE}', "
            f"rejects_scan = '{REJECTS_SCAN}'"
        )
    if not delimiter:
        # Sniff tolerantly (a few bad rows must not change the dialect), then read strictly.
        delimiter = store.scalar(
            "SELECT Delimiter FROM sniff_csv($path, all_varchar = true, ignore_errors = true, "
            f"max_line_size = {MAX_LINE_BYTES}, "
            "header = $header, skip = $skip, encoding = $encoding, compression = $compression)",
            {k: params[k] for k in ("path", "header", "skip", "encoding", "compression")},
        )
    params["delim"] = delimiter
    args.append("delim = $delim")
    source_sql = f"read_csv({', '.join(args)})"
    for name in (REJECTS_TABLE, REJECTS_SCAN):
        store.execute(f"DROP TABLE IF EXISTS temp.{quote_ident(name)}")
    described = store.rows(f"DESCRIBE SELECT * FROM {source_sql}", params)
    columns = [r[0] for r in described]
    select = _text_select(columns, source_sql, params, "row_number() OVER ()")
    return Incoming(
        columns=columns,
        select_sql=select,
        params=params,
        has_rejects_table=collect_rejects,
        header_lines=(1 if options.header else 0) + options.skip_rows,
        cleanup=cleanup,
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
    fmt = "array" if export.format == "json" else "newline_delimited"
    params: dict[str, Any] = {
        "path": str(export.path),
        "fmt": fmt,
        "compression": "gzip" if export.gzip else "uncompressed",
    }
    base = "$path, format = $fmt, compression = $compression, maximum_object_size = 268435456"
    described = store.rows(f"DESCRIBE SELECT * FROM read_json({base}, sample_size = -1)", params)
    top = [r[0] for r in described]
    params["cols"] = {c: "VARCHAR" for c in top}
    source_sql = f"read_json({base}, columns = $cols)"
    exprs: list[tuple[str, str]] = [(c, f"{quote_ident(c)}") for c in top]
    for name, type_text, *_ in described:
        exprs.extend(_flatten_struct(name, quote_ident(name), "$", type_text))
    columns = [name for name, _ in exprs]
    cols = ", ".join(f"{expr} AS {quote_ident(name)}" for name, expr in exprs)
    select = f"SELECT {cols}, row_number() OVER () AS _row_number FROM {source_sql}"
    return Incoming(columns=columns, select_sql=select, params=params)


def _flatten_struct(
    prefix: str, json_col: str, json_path: str, type_text: str
) -> list[tuple[str, str]]:
    """For a nested object, one text column per leaf, named like ``Account.Name``."""
    if not type_text.startswith("STRUCT("):
        return []
    out: list[tuple[str, str]] = []
    for child, child_type in _struct_fields(type_text):
        name = f"{prefix}.{child}"
        path = f"{json_path}.{_json_key(child)}"
        out.append((name, f"json_extract_string({json_col}, '{path}')"))
        out.extend(_flatten_struct(name, json_col, path, child_type))
    return out


def _json_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"').replace("'", "''") + '"'


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
    columns = [r[0] for r in described if r[0] != "file_row_number"]
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
            f"{export.path.name} cannot be read as an Excel workbook: {exc}",
            where=str(export.path),
            fix="Check that it is a valid .xlsx file and that options.sheet names a sheet.",
        ) from exc
    name = f"_wb_xlsx_{id(frame)}"
    frame = frame.with_columns(pl.all().cast(pl.String)).with_row_index("_row_number", offset=1)
    store.con.register(name, frame.to_arrow())
    columns = [c for c in frame.columns if c != "_row_number"]
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


def read_error(export: ExportFile, exc: duckdb.Error) -> IngestError:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    found = _LINE.search(text)
    line = int(found.group(1)) if found else None
    fmt = export.format.upper()
    return IngestError(
        f"{export.path.name} cannot be read as {fmt}: {first}",
        where=where_file(export.path, line),
        fix="Check that the file is a complete export in the configured format and encoding "
        "(sources.<name>.format / options); nothing was loaded.",
    )
