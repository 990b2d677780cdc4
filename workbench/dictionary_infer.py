"""Draft a data-dictionary section from an export, for a user to review and edit.

Types come from DuckDB's sniffer plus a look at the values (emails, phones, currency
codes); ``required`` from null rates; ``allowed`` values for low-cardinality text;
``unique`` where every value differs; ``identity`` from the column name.

A CSV file's columns are its header's, all of them: the delimiter is sniffed tolerantly
(a few ragged rows must not change it), rows with more or fewer fields than the header are
left out of the profile and counted in the draft's heading, and lines ending in a mix of
``\\r\\n``, ``\\n`` and ``\\r`` are made one kind first.
"""

from __future__ import annotations

import gzip as gz
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from workbench.config.sources import DEFAULT_NULLS, ENCODINGS, known_encoding
from workbench.errors import IngestError
from workbench.ingest.content import UTF16_BOMS
from workbench.ingest.csv_reader import duckdb_readable
from workbench.ingest.csvmeter import RecordMeter, measure_file
from workbench.ingest.csvscan import (
    fix_line_ends,
    guess_delimiter,
    mixed_line_ends,
    read_line,
)
from workbench.ingest.files import GZIP_MAGIC, MAX_LINE_BYTES, ExportFile
from workbench.ingest.jsonlist import records_as_lines
from workbench.ingest.jsonscan import DUCKDB_JSON_OPTIONS, scan_file
from workbench.ingest.readers import struct_fields
from workbench.ingest.xlsx_guard import check_workbook
from workbench.store import quote_ident

SAMPLE_ROWS = 100_000
MAX_ALLOWED = 12
_RAGGED = ("TOO MANY COLUMNS", "MISSING COLUMNS")
_IDENTITY_NAMES = (
    (r"first|given|vorname|prenom", "name"),
    (r"last|surname|family|nachname|^nom$", "name"),
    (r"^name$|full.?name|kunde|requester", "name"),
    (r"e.?mail|mail", "email"),
    (r"phone|tel|mobile|handy|fax", "phone"),
    (r"zip|postal|postcode|plz", "postcode"),
    (r"company|account|firma|organi[sz]ation|employer", "company"),
    (r"birth|dob|geburt", "date"),
)
_TYPES = {
    "BIGINT": "integer",
    "INTEGER": "integer",
    "DOUBLE": "decimal",
    "DECIMAL": "decimal",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "BOOLEAN": "boolean",
}


def infer_section(
    path: Path,
    object_name: str,
    *,
    delimiter: str | None = None,
    encoding: str = "utf-8",
    skip_rows: int = 0,
    records: str | None = None,
) -> str:
    """A commented YAML ``objects:`` section for the file's columns.

    Every column of the file gets a field; CSV rows that cannot be profiled (ragged, or
    unreadable) are counted in the heading. ``skip_rows``: lines (CSV) or sheet rows (XLSX)
    above the header, as a source's ``options.skip_rows``; ``records``: the key of a JSON
    object that holds the records, as a source's ``options.records``.
    """
    sample = (
        _read_records(path, records) if records else _read(path, delimiter, encoding, skip_rows)
    )
    frame = sample.frame
    fields: dict[str, dict[str, Any]] = {}
    mapping: dict[str, str] = {}
    for column in frame.columns:
        name = base = _snake(column)
        n = 1
        while name in fields:  # two headers that read alike keep a field each
            n += 1
            name = f"{base}_{n}"
        fields[name] = _field(frame[column], column)
        mapping[name] = column
    _name_the_key(fields, mapping)
    doc = {"objects": {object_name: {"description": f"Drafted from {path.name}", "fields": fields}}}
    header = (
        f"# Draft dictionary section for {path.name} ({frame.height:,} rows read).\n"
        + sample.left_out(frame.width)
        + "# Review every field: types, required, allowed values and identity are guesses.\n"
        "# Matching source mapping for workbench.yaml:\n"
        + "".join(f"#   {k}: {v}\n" for k, v in mapping.items())
    )
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


@dataclass
class _Sample:
    """The rows profiled, and how many CSV rows were left out."""

    frame: pl.DataFrame
    ragged: int = 0  # more or fewer fields than the header
    unreadable: int = 0  # other rows DuckDB could not read (bytes, quotes)

    def left_out(self, width: int) -> str:
        """Heading lines on the rows left out of the profile (none if none were)."""
        lines = ""
        if self.ragged:
            rows = "row has" if self.ragged == 1 else "rows have"
            lines += (
                f"# {self.ragged:,} ragged {rows} more or fewer fields than the header's "
                f"{width}: left out of the profile. Every column of the header is listed.\n"
            )
            if not self.frame.height:
                lines += "# No row matches the header: check the delimiter (--delimiter).\n"
        if self.unreadable:
            rows = "row" if self.unreadable == 1 else "rows"
            lines += (
                f"# {self.unreadable:,} {rows} could not be read (bytes that are not the "
                "encoding, or a stray quote): left out of the profile.\n"
            )
        return lines


_ID_LIKE = re.compile(r"(^|_)(id|nr|no|number|key|code)$")  # of a field name (_snake)
_ID_NAME = re.compile(r"(^|_)(id|nr|no|key)$")  # an id for sure (not 'country_code')


def _name_the_key(fields: dict[str, dict[str, Any]], mapping: dict[str, str]) -> None:
    """Every object needs ``record_id``: the first unique id-like column becomes it."""
    unique = [n for n, f in fields.items() if f.get("unique")]
    idlike = [n for n in unique if _ID_LIKE.search(n)]
    candidates = idlike or unique
    if not candidates:
        description = "No unique column found: map the source's id here"
        if "record_id" in fields:  # a column of that name whose values repeat in the file
            description = f"{fields['record_id']['description']}; its values repeat in this file"
        fields["record_id"] = {
            "type": "text",
            "required": True,
            "unique": True,
            "description": description,
        }
        return
    chosen = candidates[0]
    spec = fields.pop(chosen)
    spec.update(type="text", required=True, unique=True)
    spec.pop("rules", None)
    fields_items = [("record_id", spec), *fields.items()]
    fields.clear()
    fields.update(fields_items)
    column = mapping.pop(chosen)
    items = [("record_id", column), *mapping.items()]
    mapping.clear()
    mapping.update(items)


def _read(path: Path, delimiter: str | None, encoding: str, skip_rows: int = 0) -> _Sample:
    if not path.is_file():
        raise IngestError(f"{path} is not a file.", where=str(path), fix="Give an export file.")
    suffix = "".join(s for s in path.suffixes if s != ".gz").lower()
    con = duckdb.connect()
    try:
        if suffix.endswith((".json", ".ndjson", ".jsonl")):
            _check_json(path, lines=not suffix.endswith(".json"))
            return _Sample(_json_sample(con, path))
        elif suffix.endswith(".parquet"):
            rel = con.sql(
                "SELECT * FROM read_parquet($p) LIMIT $n", params={"p": str(path), "n": SAMPLE_ROWS}
            )
        elif suffix.endswith(".xlsx"):
            check_workbook(path)  # a zip bomb is refused before the reader inflates it
            options = {"header_row": skip_rows} if skip_rows else None
            return _Sample(pl.read_excel(path, read_options=options).head(SAMPLE_ROWS))
        else:
            return _read_csv(con, path, delimiter, encoding, skip_rows)
        return _Sample(rel.pl())
    except duckdb.Error as exc:
        raise _unreadable(path, exc) from exc
    finally:
        con.close()


def _read_records(path: Path, key: str) -> _Sample:
    """The records under ``key`` of a JSON object (Stripe's ``data``), as ingest reads them
    with ``options.records``."""
    if not path.is_file():
        raise IngestError(f"{path} is not a file.", where=str(path), fix="Give an export file.")
    gzip = _is_gzip(path)
    export = ExportFile(path, "", "json", gzip, "", path.stat().st_size)
    lines = records_as_lines(export, key, where="--records")
    con = duckdb.connect()
    try:
        _check_json(lines, lines=True)
        return _Sample(_json_sample(con, lines))
    except duckdb.Error as exc:
        raise _unreadable(path, exc) from exc
    finally:
        con.close()
        lines.unlink(missing_ok=True)


def _json_sample(con: duckdb.DuckDBPyConnection, path: Path) -> pl.DataFrame:
    """The records with nested objects as ingest reads them: JSON text plus one column per
    leaf (``org.name``), typed as DuckDB reads them."""
    source = f"read_json($p, {DUCKDB_JSON_OPTIONS})"
    described = con.execute(f"DESCRIBE SELECT * FROM {source}", {"p": str(path)}).fetchall()
    params: dict[str, Any] = {"p": str(path), "n": SAMPLE_ROWS}
    exprs: list[str] = []
    for name, type_text, *_ in described:
        exprs.extend(_json_columns(quote_ident(name), name, str(type_text), params))
    return con.sql(f"SELECT {', '.join(exprs)} FROM {source} LIMIT $n", params=params).pl()


def _json_columns(expr: str, name: str, type_text: str, params: dict[str, Any]) -> list[str]:
    """Select expressions for one column; struct keys are bound as parameters."""
    nested = type_text.startswith(("STRUCT(", "MAP(", "UNION(")) or type_text.endswith("]")
    out = [f"{f'to_json({expr})' if nested else expr} AS {quote_ident(name)}"]
    if type_text.startswith("STRUCT(") and not type_text.endswith("]"):  # not a list of them
        for child, child_type in struct_fields(type_text):
            key = f"k{len(params)}"
            params[key] = child
            child_expr = f"struct_extract({expr}, ${key})"
            out.extend(_json_columns(child_expr, f"{name}.{child}", child_type, params))
    return out


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def _check_json(path: Path, *, lines: bool) -> None:
    """Refuse a record DuckDB must not be given: too large, or nested too deep."""
    gzip = _is_gzip(path)
    problem = scan_file(path, gzip=gzip, lines=lines)
    if problem is not None:
        raise IngestError(
            f"{path.name}: {problem.reason} (line {problem.line}).",
            where=f"{path}, line {problem.line}",
            fix="Leave that record out of the sample file (`workbench ingest` sets such NDJSON "
            "lines aside and loads the others).",
        )


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    delimiter: str | None,
    encoding: str,
    skip_rows: int = 0,
) -> _Sample:
    """The rows that fit the header; ragged and unreadable ones are counted, not read.

    The file is decoded as ingest decodes it (:func:`~workbench.ingest.csv_reader.duckdb_readable`):
    cp1252 through a UTF-8 copy, UTF-16 when its byte order mark says so, whatever
    ``encoding`` says.
    """
    gzip = _is_gzip(path)
    encoding = _encoding(path, gzip, encoding)
    _check_records(path, gzip, delimiter, encoding)
    decoded, encoding = duckdb_readable(path, encoding, gzip, "--encoding")
    gzip = gzip and decoded == path  # a transcoded copy is not compressed
    copy = None
    try:
        if encoding != "utf-16" and mixed_line_ends(decoded, gzip=gzip, encoding=encoding):
            copy = _one_kind_of_line_end(decoded, gzip, delimiter)
        source = copy or decoded
        params: dict[str, Any] = {"p": str(source), "e": encoding, "m": MAX_LINE_BYTES,
                                  "b": 2 * MAX_LINE_BYTES, "k": skip_rows}  # fmt: skip
        if not delimiter:
            delimiter = _sniff_delimiter(con, source, params, gzip=gzip and copy is None)
        params.update(d=delimiter, n=SAMPLE_ROWS, r="_wb_infer_rejects", s="_wb_infer_scans")
        # the tokens ingest reads as empty by default (N/A, NULL, -...): empty here too, so
        # that a column of numbers with some N/A is a number, and not every value required
        params["nulls"] = DEFAULT_NULLS
        rel = con.sql(
            "SELECT * FROM read_csv($p, encoding = $e, delim = $d, header = true, skip = $k, "
            "nullstr = $nulls, "
            "sample_size = -1, strict_mode = true, null_padding = false, store_rejects = true, "
            "rejects_table = $r, rejects_scan = $s, max_line_size = $m, buffer_size = $b) "
            "LIMIT $n",
            params=params,
        )
        frame = rel.pl()
        counts = con.sql(
            "SELECT count(DISTINCT line) FILTER (WHERE error_type IN $ragged), "
            "count(DISTINCT line) FILTER (WHERE error_type NOT IN $ragged) FROM _wb_infer_rejects",
            params={"ragged": list(_RAGGED)},
        ).fetchone()
        ragged, unreadable = counts or (0, 0)
        return _Sample(frame, ragged=int(ragged), unreadable=int(unreadable))
    finally:
        if copy is not None:
            copy.unlink()
        if decoded != path:
            decoded.unlink()


def _encoding(path: Path, gzip: bool, name: str) -> str:
    """The encoding ingest would read the file in: the one its UTF-16 byte order mark
    declares, else ``name`` (any spelling of one of ingest's encodings)."""
    with gz.open(path, "rb") if gzip else path.open("rb") as handle:
        if handle.read(2) in UTF16_BOMS:
            return "utf-16"
    known = known_encoding(name)
    if known is None:
        raise IngestError(
            f"--encoding {name!r} is not an encoding Workbench reads.",
            where=f"{path}, option --encoding",
            fix=f"Use one of {', '.join(ENCODINGS)} (as sources.<name>.options.encoding "
            "takes), or convert the file to UTF-8 first.",
        )
    return known


def _check_records(path: Path, gzip: bool, delimiter: str | None, encoding: str) -> None:
    """Refuse a record longer than ingest reads, before DuckDB holds it in memory."""
    utf16 = encoding == "utf-16"
    meter = RecordMeter(MAX_LINE_BYTES, delimiter=delimiter, quote=None if utf16 else '"',
                        escape=None)  # fmt: skip
    measure_file(path, gzip, meter)


def _sniff_delimiter(
    con: duckdb.DuckDBPyConnection, source: Path, params: dict[str, Any], *, gzip: bool
) -> str:
    """DuckDB's delimiter, sniffed past ragged rows; the header's likeliest if it finds none."""
    try:
        found = con.sql(
            "SELECT Delimiter FROM sniff_csv($p, encoding = $e, header = true, skip = $k, "
            "ignore_errors = true, sample_size = -1, max_line_size = $m, buffer_size = $b)",
            params=params,
        ).fetchone()
    except duckdb.Error:
        found = None
    header = read_line(source, gzip=gzip, encoding=params["e"], number=params["k"] + 1)
    guessed = guess_delimiter(header)
    if found and (found[0] in header or guessed not in header):
        return str(found[0])
    return guessed  # one column would silently hide the header's others


def _one_kind_of_line_end(path: Path, gzip: bool, delimiter: str | None) -> Path | None:
    """A copy of the file with every record ending in ``\\n``, if its record ends are mixed."""
    first = read_line(path, gzip=gzip, encoding="utf-8", number=1)
    handle, name = tempfile.mkstemp(suffix=".csv", prefix="workbench-")
    os.close(handle)
    out = Path(name)
    try:
        delimiter = delimiter or guess_delimiter(first)
        mixed = fix_line_ends(path, out, gzip=gzip, delimiter=delimiter, quote='"', escape='"')
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    if mixed:
        return out
    out.unlink()
    return None


def _unreadable(path: Path, exc: duckdb.Error) -> IngestError:
    return IngestError(
        f"{path.name} cannot be read: {str(exc).splitlines()[0]}",
        where=str(path),
        fix="Pass --delimiter/--encoding, or check the file.",
    )


def _field(values: pl.Series, column: str) -> dict[str, Any]:
    kind = _kind(values)
    non_null = values.drop_nulls()
    out: dict[str, Any] = {"type": kind}
    if values.len() and values.null_count() == 0:
        out["required"] = True
    # ten distinct values say a column is unique; an id's name says so for fewer
    enough = non_null.len() >= 10 or (values.null_count() == 0 and _ID_NAME.search(_snake(column)))
    if non_null.len() and non_null.n_unique() == non_null.len() and enough:
        out["unique"] = True
    identity = next((k for p, k in _IDENTITY_NAMES if re.search(p, column, re.I)), None)
    if identity and kind in ("text", "email", "phone", "date"):
        out["identity"] = "email" if kind == "email" else ("phone" if kind == "phone" else identity)
        out["pii"] = "contact" if identity in ("name", "email", "phone", "postcode") else "none"
    distinct = non_null.n_unique()
    if kind == "text" and 0 < distinct <= MAX_ALLOWED and non_null.len() >= 20 and not identity:
        out["rules"] = {"allowed": sorted(str(v) for v in non_null.unique().to_list())}
    out["description"] = f"From column {column}"
    return out


def _kind(values: pl.Series) -> str:
    # polars' Datetime is a timestamp: it must not pass for a DATE by its first letters
    dtype = str(values.dtype).upper().replace("DATETIME", "TIMESTAMP")
    for prefix, kind in _TYPES.items():
        if dtype.startswith(prefix):
            return kind
    if values.dtype == pl.Int64 or values.dtype == pl.Int32:
        return "integer"
    if values.dtype in (pl.Float64, pl.Float32) or isinstance(values.dtype, pl.Decimal):
        return "decimal"
    if values.dtype == pl.Date:
        return "date"
    if isinstance(values.dtype, pl.Datetime):
        return "timestamp"
    if values.dtype == pl.Boolean:
        return "boolean"
    text = values.cast(pl.String).drop_nulls()
    if text.len() == 0:
        return "text"

    def share(pattern: str) -> float:
        return int(text.str.contains(pattern).sum()) / text.len()

    if share(r"^[^@\s]+@[^@\s]+\.[^@\s]+$") > 0.8:
        return "email"
    if share(r"^[+(]?[\d][\d\s().\-/]{5,}$") > 0.8:
        return "phone"
    if share(r"^[A-Z]{3}$") > 0.95 and text.n_unique() <= 200:
        return "currency"
    return "text"


def _snake(column: str) -> str:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", column)
    name = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()
    return name if name and not name[0].isdigit() else f"f_{name}"
