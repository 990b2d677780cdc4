"""Where each record of a CSV file starts: physical lines, blank lines, unclosed quotes.

DuckDB reports a rejected CSV row by its "line": the index of the row when skipped rows,
the header and blank lines count one each and a quoted value spanning several lines counts
once. Users need the line an editor shows and the record's position among the data rows, so
a file with rejected rows is scanned once (:func:`scan_layout`) to translate one into the
other. The same scan finds a quote that is opened and never closed, which otherwise makes
DuckDB's sniffer fail with a generic message.

DuckDB's strict reader also takes one kind of line end per file (``\\r\\n``, ``\\n`` or
``\\r``) and stops at another, so a file whose lines end in a mix of them (files
concatenated, or edited on different systems) is copied with its record ends made ``\\n``
(:func:`mixed_line_ends`, :func:`fix_line_ends`); line ends inside quoted values are kept.

Quotes count only at the start of a field, as in RFC 4180 and DuckDB (``Bo"b`` is text);
with the quote as its own escape, a quote right after a closing one is an escaped quote
(``"a""b"``), so the value goes on.
"""

from __future__ import annotations

import codecs
import gzip as gz
import io
import re
from array import array
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

CHUNK_CHARS = 1 << 20
CHUNK_BYTES = 1 << 20
_LAST_BYTE = itemgetter(slice(-1, None))


@dataclass
class Layout:
    """Per DuckDB row ("item", 0-based): its first physical line and its record position.

    ``records[i]`` is the 1-based position of item ``i`` among the data records, or 0 for
    a skipped row, the header or a blank line.
    """

    starts: array[int] = field(default_factory=lambda: array("q"))
    records: array[int] = field(default_factory=lambda: array("q"))
    open_quote_line: int | None = None  # line of a quote that is never closed
    # (line, lines) of the quoted value over several lines likeliest to be a quote closed by
    # a later one: the one holding the most delimiters, else the longest
    suspect_quote: tuple[int, int] | None = None
    picked: dict[int, tuple[int, int]] | None = None  # only the wanted rows: see scan_layout

    def locate(self, duckdb_line: int) -> tuple[int, int] | None:
        """(record position, physical line) of the row DuckDB calls ``duckdb_line``."""
        if self.picked is not None:
            return self.picked.get(duckdb_line)
        i = duckdb_line - 1
        if 0 <= i < len(self.starts) and self.records[i]:
            return int(self.records[i]), int(self.starts[i])
        return None


class _Scanner:
    def __init__(
        self,
        delimiter: str,
        quote: str,
        escape: str,
        skip: int,
        header: bool,
        wanted: Collection[int] | None = None,
    ) -> None:
        self.delimiter, self.quote, self.escape = delimiter, quote, escape
        specials = {"\r", "\n", delimiter, quote, escape} - {""}
        self.pattern = re.compile("[" + "".join(re.escape(c) for c in sorted(specials)) + "]")
        self.skip, self.header_pending = skip, header
        self.wanted = None if wanted is None else set(wanted)
        self.layout = Layout(picked=None if wanted is None else {})
        self.items = 0  # DuckDB rows ended so far
        self.line = self.item_start = 1
        self.count = 0
        self.nonblank = self.in_quote = self.after_cr = self.escaped = False
        self.just_closed = False  # the last character was a closing quote
        self.field_start = True
        self.quote_line = self.quoted_delimiters = 0
        self.suspect = (0, 0)  # (delimiters, lines) of Layout.suspect_quote

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
                self.just_closed = False
            else:
                self.after_cr = False
                self.nonblank = True
                self._special(char)
        if pos < len(chunk):
            self._ordinary()

    def _ordinary(self) -> None:
        self.nonblank = True
        self.after_cr = self.escaped = self.field_start = self.just_closed = False

    def _special(self, char: str) -> None:
        closed, self.just_closed = self.just_closed, False
        if self.in_quote:
            if char == self.escape and self.escape != self.quote:
                self.escaped = True
            elif char == self.quote:
                self.in_quote, self.just_closed = False, True
                lines = self.line - self.quote_line + 1
                if lines > 1 and (self.quoted_delimiters, lines) > self.suspect:
                    self.suspect = (self.quoted_delimiters, lines)
                    self.layout.suspect_quote = (self.quote_line, lines)
            elif char == self.delimiter:
                self.quoted_delimiters += 1
        elif char == self.quote and self.field_start:
            self.in_quote, self.quote_line, self.quoted_delimiters = True, self.line, 0
        elif char == self.quote and closed and self.escape == self.quote:
            self.in_quote = True  # "" inside a quoted value: the value goes on
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
        if self.nonblank and self.items >= self.skip:
            if self.header_pending:
                self.header_pending = False
            else:
                self.count += 1
                record = self.count
        self.items += 1
        if self.wanted is None:
            self.layout.starts.append(self.item_start)
            self.layout.records.append(record)
        elif record and self.items in self.wanted:
            assert self.layout.picked is not None
            self.layout.picked[self.items] = (record, self.item_start)
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
    wanted: Collection[int] | None = None,
) -> Layout:
    """Scan the file once; see :class:`Layout`.

    With ``wanted`` (DuckDB's line numbers of the rows to locate), only those are kept, in
    ``Layout.picked``: memory then grows with them, not with the file's rows (a file of a
    billion blank lines holds as many rows).
    """
    scanner = _Scanner(delimiter, quote, escape, skip_rows, header, wanted)
    with open_text(path, gzip, encoding, newline="") as text:
        for chunk in iter(lambda: text.read(CHUNK_CHARS), ""):
            scanner.feed(chunk)
    return scanner.finish()


def read_line(path: Path, *, gzip: bool, encoding: str, number: int) -> str:
    """Physical line ``number`` (1-based) of the file, for messages."""
    with open_text(path, gzip, encoding, newline=None) as text:
        for i, line in enumerate(text, start=1):
            if i == number:
                return line.rstrip("\r\n")
    return ""


def open_text(path: Path, gzip: bool, encoding: str, newline: str | None) -> io.TextIOWrapper:
    """The file as text (undecodable bytes replaced); closing it closes the file. UTF-16
    without a byte order mark is read as little-endian, as DuckDB reads it."""
    raw = gz.open(path, "rb") if gzip else path.open("rb")  # noqa: SIM115
    if encoding == "utf-16":
        if raw.read(2) not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            encoding = "utf-16-le"
        raw.seek(0)
    return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=newline)


def guess_delimiter(first_line: str) -> str:
    """The most frequent of the usual delimiters in a header line (',' if none occurs)."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def count_fields(line: str, *, delimiter: str, quote: str, escape: str) -> int:
    """The fields of one physical line, a quoted value (opened at the start of a field, and
    closed or not) counting as one whole."""
    if quote not in line:
        return line.count(delimiter) + 1
    d, q, e = (re.escape(c) for c in (delimiter, quote, escape))
    body = f"(?:[^{q}]|{q}{q})*" if escape == quote else f"(?:[^{q}{e}]|{e}.)*"
    quoted = re.compile(f"(?:^|(?<={d})){q}{body}(?:{q}|$)", re.DOTALL)
    return quoted.sub("", line).count(delimiter) + 1


def mixed_line_ends(path: Path, *, gzip: bool, encoding: str) -> bool:
    """Whether lines end in more than one way (``\\r\\n``, ``\\n``, ``\\r``) in the file.

    A quick count over the bytes, quoted values included: a ``\\r\\n`` file whose quoted
    values hold ``\\n`` passes too; :func:`fix_line_ends` tells them apart.
    """
    kinds: set[bytes] = set()
    for chunk in _whole_line_ends(byte_chunks(path, gzip, encoding)):
        kinds |= _line_end_kinds(chunk)
        if len(kinds) > 1:
            return True
    return False


def fix_line_ends(
    path: Path, out: Path, *, gzip: bool, delimiter: str, quote: str, escape: str
) -> bool:
    """Copy the file (UTF-8 or latin-1) to ``out`` with every record ending in ``\\n``.

    Line ends inside quoted values are copied as they are, so values keep their line
    breaks and the copy has the same physical lines. Returns whether the record ends were
    mixed (when not, the copy is not needed).
    """
    fixer = _LineEndFixer(delimiter, quote, escape)
    with out.open("wb") as sink:
        for chunk in _whole_line_ends(byte_chunks(path, gzip, "utf-8")):
            sink.write(fixer.convert(chunk))
    return len(fixer.kinds) > 1


class _LineEndFixer:
    """Rewrites ``\\r\\n`` and ``\\r`` outside quoted values to ``\\n``, chunk by chunk.

    With the quote as its own escape (the usual case), quotes alternate opening and closing
    (an escaped quote ``""`` closes and opens at once), so a chunk is split at its quotes and
    the parts outside quoted values are rewritten whole; a chunk where a quote opens inside a
    field (``Bo"b``), or a file with another escape, is walked quote by quote instead.
    """

    def __init__(self, delimiter: str, quote: str, escape: str) -> None:
        self.delimiter, self.quote, self.escape = (c.encode() for c in (delimiter, quote, escape))
        self.starts = (self.delimiter, b"\r", b"\n")  # what a quote that opens a value follows
        specials = sorted({self.quote, self.escape})
        self.pattern = re.compile(b"[" + b"".join(re.escape(c) for c in specials) + b"]")
        self.in_quote = False
        self.skip_first = False  # the chunk starts with the byte after an escape
        self.closed = False  # the last byte was a closing quote
        self.before = b"\n"  # the byte before the chunk (the file starts a line)
        self.kinds: set[bytes] = set()  # record ends seen outside quoted values

    def convert(self, chunk: bytes) -> bytes:
        if self.escape == self.quote:
            split = self._convert_split(chunk)
            if split is not None:
                return split
        return self._convert_walk(chunk)

    def _convert_split(self, chunk: bytes) -> bytes | None:
        """The chunk rewritten, or None if a quote opens inside a field."""
        parts = chunk.split(self.quote)
        first = 1 if self.in_quote else 0  # the first part outside quoted values
        last = len(parts) - 1
        outside = parts[first::2]
        opening = outside if (last - first) % 2 else outside[:-1]  # each before an opening quote
        if opening:
            if first == 0 and not opening[0] and not (self.before in self.starts or self.closed):
                return None
            if b"".join(map(_LAST_BYTE, opening)).translate(None, b"".join(self.starts)):
                return None  # a part ends in another byte: its quote is inside a field
        if len(self.kinds) < 2:  # "\0": no \r\n across parts
            self.kinds |= _line_end_kinds(b"\0".join(outside))
        if chunk:
            self.in_quote = (last - first) % 2 == 1
            self.closed = last > 0 and not self.in_quote and not parts[-1]
            self.before = chunk[-1:]
        if b"\r" not in chunk:
            return chunk
        if b"\r" not in b"".join(parts[1 - first :: 2]):  # no \r in quoted values
            return chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        for j in range(first, len(parts), 2):
            if b"\r" in parts[j]:
                parts[j] = parts[j].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return self.quote.join(parts)

    def _convert_walk(self, chunk: bytes) -> bytes:
        parts: list[bytes] = []
        start = 0  # the first byte not yet copied
        literal = 0 if self.skip_first else -1  # a byte taken as it is, after an escape
        self.skip_first = False
        for match in self.pattern.finditer(chunk):
            i = match.start()
            if i == literal:
                continue
            if i > start:
                stretch = chunk[start:i]
                parts.append(stretch if self.in_quote else self._outside(stretch))
                self.before, self.closed = chunk[i - 1 : i], False
            char = chunk[i : i + 1]
            if self.in_quote:
                if char == self.escape and self.escape != self.quote:
                    literal = i + 1
                    self.skip_first = literal == len(chunk)
                elif char == self.quote:
                    self.in_quote, self.closed = False, True
                    self.before = char
                    parts.append(char)
                    start = i + 1
                    continue
            elif char == self.quote and (
                self.before in self.starts or (self.closed and self.escape == self.quote)
            ):
                self.in_quote = True
            parts.append(char)
            start = i + 1
            self.before, self.closed = char, False
        if start < len(chunk):
            stretch = chunk[start:]
            parts.append(stretch if self.in_quote else self._outside(stretch))
            self.before, self.closed = chunk[-1:], False
        return b"".join(parts)

    def _outside(self, stretch: bytes) -> bytes:
        if len(self.kinds) < 2:
            self.kinds |= _line_end_kinds(stretch)
        if b"\r" not in stretch:
            return stretch
        return stretch.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _line_end_kinds(data: bytes) -> set[bytes]:
    """The kinds of line end in ``data`` (which does not end between ``\\r`` and ``\\n``)."""
    if b"\r" not in data:
        return {b"\n"} if b"\n" in data else set()
    pairs = data.count(b"\r\n")
    kinds = {b"\r\n"} if pairs else set()
    if data.count(b"\r") > pairs:
        kinds.add(b"\r")
    if data.count(b"\n") > pairs:
        kinds.add(b"\n")
    return kinds


def _whole_line_ends(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks, a trailing ``\\r`` moved to the next one so no ``\\r\\n`` is split."""
    carry = b""
    for chunk in chunks:
        chunk = carry + chunk
        carry = b"\r" if chunk.endswith(b"\r") else b""
        yield chunk[:-1] if carry else chunk
    if carry:
        yield carry


def byte_chunks(path: Path, gzip: bool, encoding: str) -> Iterator[bytes]:
    """The file's bytes, decompressed; UTF-16 as UTF-8 (undecodable bytes replaced)."""
    if encoding == "utf-16":
        with open_text(path, gzip, encoding, newline="") as text:
            for piece in iter(lambda: text.read(CHUNK_CHARS), ""):
                yield piece.encode("utf-8", "surrogatepass")
        return
    with gz.open(path, "rb") if gzip else path.open("rb") as raw:
        yield from iter(lambda: raw.read(CHUNK_BYTES), b"")
