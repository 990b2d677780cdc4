"""Records wider than the header whose extra fields are empty: stray delimiters.

DuckDB reads a record that has more fields than the header, all of the extra ones empty, as
if those delimiters were not there (trailing delimiters), even in strict mode. So a record
with a stray field in the middle and an empty last field loaded with every value after the
stray one a column to the left, silently. When every record of a file ends so, that is how
the file writes records and DuckDB's reading stands; otherwise :func:`stray_records` finds
those records and :func:`mark_stray` copies the file with a field :data:`MARK` added at
their end, so that DuckDB's strict reader rejects them as too wide (the reader then says
what they are: :func:`stray_message`).
"""

from __future__ import annotations

import csv
import gzip as gz
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.ingest.csvscan import byte_chunks, open_text

MARK = "!stray"  # the field added to a stray record in the copy DuckDB reads


@dataclass(frozen=True)
class StrayRecords:
    """The records to reject: their fields by first physical line, their last lines, and the
    header's fields."""

    starts: dict[int, int]
    ends: frozenset[int]
    header_fields: int


def stray_records(
    path: Path,
    *,
    gzip: bool,
    encoding: str,
    delimiter: str,
    quote: str,
    escape: str,
    skip_rows: int,
    header: bool,
) -> StrayRecords | None:
    """The records with more fields than the header, the extra ones empty, unless every
    record is so (None: there are none, or the file has no header to count against).

    A file none of whose lines ends in the delimiter is not parsed (a quick byte search);
    one that has such lines is read with Python's ``csv`` module (about a second for a
    million records).
    """
    if not header or len(delimiter) != 1 or len(quote) > 1 or len(escape) > 1:
        return None  # (Python's csv module reads one-character delimiters and quotes)
    if not _ends_in_delimiter(path, gzip, encoding, delimiter):
        return None
    starts: dict[int, int] = {}
    ends: set[int] = set()
    records = 0
    with open_text(path, gzip, encoding, newline="") as text:
        for _ in range(skip_rows):
            text.readline()
        reader = csv.reader(
            text,
            delimiter=delimiter,
            quotechar=quote or None,
            quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
            doublequote=escape == quote,
            escapechar=None if escape in ("", quote) else escape,
            strict=False,
        )
        width = len(next(reader, []))
        before = reader.line_num
        for record in reader:
            if any(record):  # a blank line, or one of delimiters only, is no record
                records += 1
                if len(record) > width and not any(record[width:]):
                    starts[before + 1 + skip_rows] = len(record)
                    ends.add(reader.line_num + skip_rows)
            before = reader.line_num
    if not starts or 2 * len(starts) > records:  # most records so: the file's layout
        return None
    return StrayRecords(starts, frozenset(ends), width)


def mark_stray(
    path: Path, out: Path, stray: StrayRecords, *, gzip: bool, encoding: str, delimiter: str
) -> None:
    """Copy the file to ``out`` with the field :data:`MARK` added at the end of each stray
    record: the same lines, and DuckDB's strict reader rejects those. Bytes that are not the
    encoding are copied as they are (rejected as before); UTF-16 is copied as UTF-8."""
    if encoding == "utf-16":
        text = open_text(path, gzip, encoding, newline="")
        sink = out.open("w", encoding="utf-8", newline="")
    else:
        raw = gz.open(path, "rb") if gzip else path.open("rb")  # noqa: SIM115
        text = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
        sink = out.open("w", encoding=encoding, errors="surrogateescape", newline="")
    with text, sink:
        for number, line in enumerate(text, start=1):
            if number in stray.ends:
                body = line.rstrip("\r\n")
                line = body + delimiter + MARK + line[len(body) :]
            sink.write(line)


def stray_message(stray: StrayRecords, line: int, record: str) -> tuple[str, str]:
    """The text of the stray record starting at ``line`` as the file has it (the copy's
    mark taken off), and what it is."""
    text = record.rstrip("\r\n")
    text = text.removesuffix(MARK)[:-1] if text.endswith(MARK) else text
    width, fields = stray.header_fields, stray.starts[line]
    last = "the last one" if fields == width + 1 else f"the last {fields - width}"
    return text, (
        f"{fields} fields where the header has {width}, {last} empty: a stray delimiter "
        "would shift the values after it into the next columns"
    )


def _ends_in_delimiter(path: Path, gzip: bool, encoding: str, delimiter: str) -> bool:
    """Whether a line of the file ends in the delimiter (inside quoted values too, and the
    last line without a line end): the byte before each line end, with numpy (a byte search
    for the pair took longer)."""
    mark = delimiter.encode()
    if len(mark) != 1:
        return True  # (a multi-byte delimiter: the records are read)
    tail = b""  # the last two bytes before the chunk
    for chunk in byte_chunks(path, gzip, encoding):
        data = np.frombuffer(tail + chunk, dtype=np.uint8)
        newline = 10 if 10 in data[: 1 << 16] or 13 not in data[: 1 << 16] else 13
        ends = np.flatnonzero(data == newline)
        ends = ends[ends > 0]
        before = data[ends - 1]
        if newline == 10:  # \r\n: the byte before the \r
            crlf = ends[(before == 13) & (ends > 1)]
            if (data[crlf - 2] == mark[0]).any():
                return True
        if (before == mark[0]).any():
            return True
        tail = chunk[-2:]
    return tail[-1:] == mark
