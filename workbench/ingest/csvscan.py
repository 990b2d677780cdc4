"""Where each record of a CSV file starts: physical lines, blank lines, unclosed quotes.

DuckDB reports a rejected CSV row by its "line": the index of the row when skipped rows,
the header and blank lines count one each and a quoted value spanning several lines counts
once. Users need the line an editor shows and the record's position among the data rows, so
a file with rejected rows is scanned once (:func:`scan_layout`) to translate one into the
other. The same scan finds a quote that is opened and never closed, which otherwise makes
DuckDB's sniffer fail with a generic message.

Quotes count only at the start of a field, as in RFC 4180 and DuckDB (``Bo"b`` is text).
"""

from __future__ import annotations

import gzip as gz
import io
import re
from array import array
from dataclasses import dataclass, field
from pathlib import Path

CHUNK_CHARS = 1 << 20


@dataclass
class Layout:
    """Per DuckDB row ("item", 0-based): its first physical line and its record position.

    ``records[i]`` is the 1-based position of item ``i`` among the data records, or 0 for
    a skipped row, the header or a blank line.
    """

    starts: array[int] = field(default_factory=lambda: array("q"))
    records: array[int] = field(default_factory=lambda: array("q"))
    open_quote_line: int | None = None  # line of a quote that is never closed

    def locate(self, duckdb_line: int) -> tuple[int, int] | None:
        """(record position, physical line) of the row DuckDB calls ``duckdb_line``."""
        i = duckdb_line - 1
        if 0 <= i < len(self.starts) and self.records[i]:
            return int(self.records[i]), int(self.starts[i])
        return None


class _Scanner:
    def __init__(self, delimiter: str, quote: str, escape: str, skip: int, header: bool) -> None:
        self.delimiter, self.quote, self.escape = delimiter, quote, escape
        specials = {"\r", "\n", delimiter, quote, escape} - {""}
        self.pattern = re.compile("[" + "".join(re.escape(c) for c in sorted(specials)) + "]")
        self.skip, self.header_pending = skip, header
        self.layout = Layout()
        self.line = self.item_start = 1
        self.count = 0
        self.nonblank = self.in_quote = self.after_cr = self.escaped = False
        self.field_start = True
        self.quote_line = 0

    def feed(self, chunk: str) -> None:
        pos = 0
        for match in self.pattern.finditer(chunk):
            i = match.start()
            if i > pos:
                self._ordinary()
            pos = i + 1
            char = chunk[i]
            if self.escaped and char not in "\r\n":
                self.escaped = False
                self._ordinary()
                continue
            self.escaped = False
            if char == "\n" and self.after_cr:
                self.after_cr = False  # \r\n ends one line
            elif char in "\r\n":
                self._newline()
                self.after_cr = char == "\r"
            else:
                self.after_cr = False
                self.nonblank = True
                self._special(char)
        if pos < len(chunk):
            self._ordinary()

    def _ordinary(self) -> None:
        self.nonblank = True
        self.after_cr = self.escaped = self.field_start = False

    def _special(self, char: str) -> None:
        if self.in_quote:
            if char == self.escape and self.escape != self.quote:
                self.escaped = True
            elif char == self.quote:
                self.in_quote = False
        elif char == self.quote and self.field_start:
            self.in_quote, self.quote_line = True, self.line
        elif char == self.delimiter:
            self.field_start = True
            return
        self.field_start = False

    def _newline(self) -> None:
        if self.in_quote:
            self.line += 1
            return
        self._end_item()
        self.line += 1
        self.item_start = self.line

    def _end_item(self) -> None:
        record = 0
        if self.nonblank and len(self.layout.starts) >= self.skip:
            if self.header_pending:
                self.header_pending = False
            else:
                self.count += 1
                record = self.count
        self.layout.starts.append(self.item_start)
        self.layout.records.append(record)
        self.nonblank, self.field_start = False, True

    def finish(self) -> Layout:
        if self.in_quote:
            self.layout.open_quote_line = self.quote_line
        if self.nonblank or self.in_quote:
            self._end_item()
        return self.layout


def scan_layout(
    path: Path,
    *,
    gzip: bool,
    encoding: str,
    delimiter: str,
    quote: str,
    escape: str,
    skip_rows: int,
    header: bool,
) -> Layout:
    """Scan the file once; see :class:`Layout`."""
    scanner = _Scanner(delimiter, quote, escape, skip_rows, header)
    with _text(path, gzip, encoding, newline="") as text:
        for chunk in iter(lambda: text.read(CHUNK_CHARS), ""):
            scanner.feed(chunk)
    return scanner.finish()


def read_line(path: Path, *, gzip: bool, encoding: str, number: int) -> str:
    """Physical line ``number`` (1-based) of the file, for messages."""
    with _text(path, gzip, encoding, newline=None) as text:
        for i, line in enumerate(text, start=1):
            if i == number:
                return line.rstrip("\r\n")
    return ""


def _text(path: Path, gzip: bool, encoding: str, newline: str | None) -> io.TextIOWrapper:
    """The file as text (undecodable bytes replaced); closing it closes the file."""
    raw = gz.open(path, "rb") if gzip else path.open("rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=newline)


def guess_delimiter(first_line: str) -> str:
    """The most frequent of the usual delimiters in a header line (',' if none occurs)."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","
