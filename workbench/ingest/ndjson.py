"""NDJSON with unreadable lines: keep the good lines, set the others aside with the reason.

DuckDB fails a whole NDJSON file on one malformed line (and reports the wrong line), so
when a strict read fails the loader comes here: every line is checked (a record must be one
JSON object, with no duplicate keys and no NaN), the good lines are copied to a temporary
file for DuckDB to read, and the bad ones become :class:`~workbench.ingest.rejects.Reject`
values with their line and record position. Blank lines are not records. Python's JSON
parser judges; DuckDB, on every core, first vouches for the lines it can (a flat object
its parser reads as Python's does), so that the parser sees only the rest.

Lines are read in bounded pieces (:func:`~workbench.ingest.jsonscan.read_lines`): a line
longer than :data:`~workbench.ingest.jsonscan.MAX_RECORD_BYTES` is set aside as
``RECORD TOO LARGE`` (with its first characters) without being held whole, and a record
nested deeper than :data:`~workbench.ingest.jsonscan.MAX_DEPTH` as ``NESTED TOO DEEP``
before Python's parser (which would raise RecursionError) sees it.
"""

from __future__ import annotations

import gzip as gz
import json
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import pyarrow as pa

from workbench.ingest.jsonscan import PREVIEW_CHARS, depth_reason, read_lines, size_reason, too_deep
from workbench.ingest.rejects import Reject


class _LineError(ValueError):
    pass


class _TooDeep(ValueError):
    pass


def split_lines(path: Path, *, gzip: bool) -> tuple[Path, list[Reject], int]:
    """Copy the readable lines of ``path`` to a temporary file (the caller deletes it).

    Returns the temporary file, the rejects (in record order) and the number of records
    (non-blank lines). Lines are checked in batches (see :func:`_doubtful`).
    """
    handle, name = tempfile.mkstemp(suffix=".ndjson", prefix="workbench-")
    out = Path(name)
    rejects: list[Reject] = []
    records = 0
    opener = gz.open if gzip else open
    batch = _Batch()
    try:
        with opener(path, "rb") as src, open(handle, "wb") as dst, duckdb.connect() as con:
            for line in read_lines(src):
                body = line.body
                if body is None:  # longer than MAX_RECORD_BYTES: its first characters only
                    records += 1
                    preview = (
                        line.preview.decode("utf-8", errors="replace")[:PREVIEW_CHARS] + " ..."
                    )
                    reason = size_reason(line.length)
                    rejects.append(
                        _reject(records, line.number, "RECORD TOO LARGE", preview, reason)
                    )
                    continue
                if not body.strip():
                    continue
                records += 1
                try:
                    if too_deep(body):
                        raise _TooDeep(depth_reason())
                    batch.add(body.decode("utf-8"), len(body), records, line.number)
                except (_TooDeep, UnicodeDecodeError) as exc:
                    raw = body.decode("utf-8", errors="replace")
                    rejects.append(_reject(records, line.number, _kind(exc), raw, str(exc)))
                if batch.full:
                    rejects += batch.flush(con, dst)
            rejects += batch.flush(con, dst)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    rejects.sort(key=lambda r: r.row_number)
    return out, rejects, records


BATCH_LINES = 50_000  # lines checked together by DuckDB
BATCH_BYTES = 64 * 1024 * 1024  # or fewer, when they are long
# What DuckDB's JSON parser (yyjson) reads and Python's does not: NaN and Infinity in any
# case (yyjson also reads nan, inf), trailing commas, integers longer than Python reads
# (4,300 digits; any run of 1,000 digits is doubted); and duplicate keys, which SQL checks
# in a flat object only (a line with more than one "{" goes to Python's parser).
_NOT_PYTHONS = r"(?i)[\[:,]\s*[-+]?(nan|inf)|,\s*[\]}]|[0-9]{1000}"
_VOUCHED_SQL = """
SELECT i FROM _wb_lines WHERE NOT CASE WHEN json_valid(line) THEN
    json_type(line) = 'OBJECT'
    AND NOT contains(substr(line, strpos(line, '{') + 1), '{')
    AND NOT regexp_matches(line, $not_pythons)
    AND len(json_keys(line)) = len(list_distinct(json_keys(line)))
  ELSE false END
"""


class _Batch:
    """Lines waiting for their check, with where they are in the file."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.places: list[tuple[int, int]] = []  # (record, line number)
        self.size = 0

    def clear(self) -> None:
        self.lines, self.places, self.size = [], [], 0

    @property
    def full(self) -> bool:
        return len(self.lines) >= BATCH_LINES or self.size >= BATCH_BYTES

    def add(self, text: str, size: int, record: int, number: int) -> None:
        self.lines.append(text)
        self.places.append((record, number))
        self.size += size

    def flush(self, con: duckdb.DuckDBPyConnection, dst: BinaryIO) -> list[Reject]:
        """Write the good lines of the batch to ``dst``, in order; the others as rejects."""
        rejects = []
        doubtful = _doubtful(con, self.lines)
        for i, text in enumerate(self.lines):
            if i in doubtful:
                try:
                    _check(text)
                except (_LineError, ValueError, RecursionError) as exc:
                    why = depth_reason() if isinstance(exc, RecursionError) else str(exc)
                    record, number = self.places[i]
                    rejects.append(_reject(record, number, _kind(exc), text, why))
                    continue
            dst.write(text.encode("utf-8") + b"\n")
        self.clear()
        return rejects


def _doubtful(con: duckdb.DuckDBPyConnection, lines: list[str]) -> set[int]:
    """The positions of ``lines`` that DuckDB cannot vouch for: not valid JSON, not one
    object, or what its parser reads and Python's does not (see ``_VOUCHED_SQL``), or nested
    objects (whose keys SQL cannot check for duplicates). Python's parser, the judge, reads
    only these: it costs microseconds a line, DuckDB a fraction on every core."""
    if not lines:
        return set()
    batch = pa.table({"i": pa.array(range(len(lines)), pa.int64()), "line": lines})
    con.register("_wb_lines", batch)
    try:
        found = con.execute(_VOUCHED_SQL, {"not_pythons": _NOT_PYTHONS}).fetchall()
        return {i for (i,) in found}
    finally:
        con.unregister("_wb_lines")


def _reject(record: int, line: int, kind: str, raw: str, message: str) -> Reject:
    return Reject(
        row_number=record,
        line=line,
        column_name=None,
        error_type=kind,
        raw_record=raw,
        message=message,
    )


def _kind(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "INVALID ENCODING"
    if isinstance(exc, (_TooDeep, RecursionError)):
        return "NESTED TOO DEEP"
    return "NOT AN OBJECT" if isinstance(exc, _LineError) else "MALFORMED JSON"


def _check(text: str) -> None:
    """Raise unless ``text`` is one JSON object, without duplicate keys or NaN (nesting is
    bounded before: see ``too_deep``)."""
    value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    if not isinstance(value, dict):
        kind = _JSON_KINDS.get(type(value), "value")
        raise _LineError(f"the line holds a JSON {kind}, not an object")


_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen.add(key)
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
