"""Measuring a CSV export's records as its bytes stream past, before any reader holds one.

DuckDB keeps a whole record in memory while it reads it, however long, and does not apply
its ``max_line_size`` to a record that spans lines inside a quoted value (a 1 GB quoted value
took 12 GB); Python's line readers hold a whole line too. :class:`RecordMeter` finds the
first record longer than a limit in constant memory, fed the file's (decompressed) bytes by
the pass that computes its checksum, so that such a file is refused before a reader sees it.

Records end at a line end (``\\n``, ``\\r\\n``, ``\\r``) outside quoted values, with the rules
of :mod:`.csvscan` and DuckDB: a quote opens a value only at the start of a field, and with
the quote as its own escape ``""`` inside a value is a quote. A chunk without quotes costs a
few byte searches; one with quotes is read with numpy; only a chunk where a quote opens
inside a field (``Bo"b``), or a file whose escape is not the quote, is walked quote by quote.
Chunks must be shorter than the limit (the checksum pass reads 1 MiB at a time).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.errors import IngestError, where_file
from workbench.ingest.csvscan import byte_chunks, guess_delimiter

_LINE_ENDS = re.compile(rb"\r\n|\n|\r")


@dataclass(frozen=True)
class LongRecord:
    """The first record over the limit: where it starts and how long it is, in bytes."""

    start: int  # offset of its first byte in the (decompressed) file
    length: int  # its bytes, line ends inside it included
    ended: bool  # False: it runs to the end of the file
    open_quote: bool  # it runs to the end inside a quoted value that is never closed
    line_breaks: bool  # it has line ends inside quoted values (else it is one line)


class RecordMeter:
    """Feed it the file's bytes in order (:meth:`feed`), then read :meth:`finish`.

    ``delimiter`` None: guessed from the header line (after ``skip_rows`` lines) of the first
    chunk, as :func:`.csvscan.guess_delimiter` does; ``quote`` None (or a UTF-16 byte order
    mark): physical lines only.
    """

    def __init__(
        self,
        limit: int,
        *,
        delimiter: str | None,
        quote: str | None,
        escape: str | None,
        skip_rows: int = 0,
    ) -> None:
        self.limit, self.skip_rows = limit, skip_rows
        self.delimiter = delimiter
        self.quote = quote.encode() if quote else None
        self.escape = (escape or quote or "").encode() or None
        self.quoted = False  # whether any quote was seen
        self.offset = 0  # bytes fed so far
        self.length = 0  # bytes of the current record so far
        self.line_breaks = False  # the current record has had line ends inside quotes
        self.in_quote = False
        self.before = b"\n"  # the byte before the chunk (the file starts a line)
        self.closed = False  # that byte was a closing quote
        self.literal_first = False  # the chunk starts with the byte after an escape
        self.found: LongRecord | None = None
        self._longest = 0  # bytes of the longest record ended so far (an upper bound)
        self._pattern: re.Pattern[bytes] | None = None

    def feed(self, chunk: bytes) -> None:
        """Measure the next bytes of the file."""
        if not chunk or (self.found is not None and self.found.ended):
            return
        if self.offset == 0 and chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
            self.quote = None  # UTF-16: its quotes are two bytes; lines are measured only
        if self.delimiter is None:
            self.delimiter = _guess(chunk, self.skip_rows)
        q = self.quote
        if q is None or (not self.in_quote and not self.literal_first and q not in chunk):
            first, last = _first_last_end(chunk, 0, len(chunk))
            inner_first = inner_last = -1
            self.before, self.closed = chunk[-1:], False
        else:
            self.quoted = True
            found = self._vector(chunk) if self.escape == q else None
            first, last, inner_first, inner_last = found or self._walk(chunk)
        if first < 0:
            self.length += len(chunk)
            self.line_breaks = self.line_breaks or inner_first >= 0
        else:
            ended = self.length + first
            if ended > self.limit:
                breaks = self.line_breaks or 0 <= inner_first < first
                self.found = LongRecord(self.offset - self.length, ended, True, False, breaks)
                return
            # records that start and end inside the chunk lie between its first and last end
            self._longest = max(self._longest, ended, last - first)
            self.length = len(chunk) - last - 1
            self.line_breaks = inner_last > last
        self.offset += len(chunk)
        if self.length > self.limit:
            start, breaks = self.offset - self.length, self.line_breaks
            self.found = LongRecord(start, self.length, False, False, breaks)

    def finish(self) -> LongRecord | None:
        """The first record longer than the limit, if any (once every byte was fed)."""
        found = self.found
        if found is not None and not found.ended and self.in_quote:
            return LongRecord(found.start, found.length, False, True, found.line_breaks)
        return found

    def longest(self) -> int:
        """At least the bytes of the longest record fed (line ends inside it included, its
        own line end not); exact for records that span chunks, and never less than any other."""
        return max(self._longest, self.length)

    def _vector(self, chunk: bytes) -> tuple[int, int, int, int] | None:
        """The first and last record end in the chunk and its first and last line end inside
        a quoted value (-1: none); None if a quote opens inside a field (then the chunk is
        walked)."""
        assert self.quote is not None and self.delimiter is not None
        data = np.frombuffer(chunk, dtype=np.uint8)
        quote = self.quote[0]
        quotes = np.flatnonzero(data == quote)
        k0 = 1 if self.in_quote else 0  # quotes[i] opens a value iff i % 2 == k0
        opening = quotes[k0::2]
        if opening.size:  # each must follow a delimiter, a line end or a closing quote ("")
            starts = np.zeros(256, dtype=bool)
            starts[[ord(self.delimiter), 10, 13, quote]] = True
            inside = opening[opening > 0]
            if not starts[data[inside - 1]].all():
                return None
            first_ok = self.closed or self.before in (b"\n", b"\r", self.delimiter.encode())
            if opening[0] == 0 and not first_ok:
                return None
        ends = np.flatnonzero((data == 10) | (data == 13) if b"\r" in chunk else data == 10)
        out = (np.searchsorted(quotes, ends) + k0) % 2 == 0
        outside, inside = ends[out], ends[~out]
        self.in_quote = (quotes.size + k0) % 2 == 1
        self.closed = not self.in_quote and quotes.size > 0 and quotes[-1] == len(chunk) - 1
        self.before = chunk[-1:]
        return (*_ends(outside), *_ends(inside))

    def _walk(self, chunk: bytes) -> tuple[int, int, int, int]:
        """As :meth:`_vector` says, quote by quote."""
        assert self.quote is not None and self.escape is not None
        quote, escape = self.quote, self.escape
        starts = (self.delimiter or ",").encode(), b"\r", b"\n"
        if self._pattern is None:
            specials = sorted({quote, escape})
            self._pattern = re.compile(b"[" + b"".join(re.escape(c) for c in specials) + b"]")
        spots = [-1, -1, -1, -1]  # first and last line end: outside, inside quoted values
        start = 0  # the first byte not yet looked at
        literal = 0 if self.literal_first else -1  # a byte taken as it is, after an escape
        self.literal_first = False
        for match in self._pattern.finditer(chunk):
            i = match.start()
            if i == literal:
                continue
            if i > start:
                _extend(spots, 2 if self.in_quote else 0, _first_last_end(chunk, start, i))
                self.before, self.closed = chunk[i - 1 : i], False
            char = chunk[i : i + 1]
            start = i + 1
            if self.in_quote:
                if char == escape and escape != quote:
                    literal = i + 1
                    self.literal_first = literal == len(chunk)
                elif char == quote:
                    self.in_quote, self.closed, self.before = False, True, char
                    continue
            elif char == quote and (self.before in starts or (self.closed and escape == quote)):
                self.in_quote = True
            self.before, self.closed = char, False
        if start < len(chunk):
            _extend(spots, 2 if self.in_quote else 0, _first_last_end(chunk, start, len(chunk)))
            self.before, self.closed = chunk[-1:], False
        return spots[0], spots[1], spots[2], spots[3]


def _extend(spots: list[int], at: int, found: tuple[int, int]) -> None:
    """Widen the (first, last) pair at ``spots[at:at + 2]`` by a later stretch's."""
    if found[0] >= 0:
        spots[at] = spots[at] if spots[at] >= 0 else found[0]
        spots[at + 1] = found[1]


def _ends(positions: np.ndarray) -> tuple[int, int]:
    return (int(positions[0]), int(positions[-1])) if positions.size else (-1, -1)


def _first_last_end(chunk: bytes, start: int, stop: int) -> tuple[int, int]:
    """Positions of the first and last line end byte in ``chunk[start:stop]`` (-1: none)."""
    last = max(chunk.rfind(b"\n", start, stop), chunk.rfind(b"\r", start, stop))
    if last < 0:
        return -1, -1
    found = [i for i in (chunk.find(b"\n", start, stop), chunk.find(b"\r", start, stop)) if i >= 0]
    return min(found), last


def measure_file(path: Path, gzip: bool, meter: RecordMeter) -> None:
    """Feed ``meter`` the whole file (decompressed) and refuse it (:func:`too_long`) if it
    holds a record over the meter's limit."""
    for chunk in byte_chunks(path, gzip, "utf-8"):
        meter.feed(chunk)
    found = meter.finish()
    if found is not None:
        raise too_long(path, found, meter.limit, lambda: byte_chunks(path, gzip, "utf-8"))


def too_long(
    path: Path, found: LongRecord, limit: int, chunks: Callable[[], Iterator[bytes]]
) -> IngestError:
    """The refusal of a file with a record over ``limit`` bytes; ``chunks`` reads it again
    (decompressed) as far as the record's start, to count the lines before it."""
    (first,) = line_numbers(chunks(), [found.start])
    over = f"over the limit of {limit // (1 << 20)} MiB ({limit:,} bytes) for one record"
    if found.open_quote:
        what = (
            f"the record that starts on line {first} has a quoted value that is never "
            f"closed, so the rest of the file ({found.length:,} bytes) would be read as one "
            f"value, {over}"
        )
    elif not found.line_breaks:
        rest = "" if found.ended else ", to the end of the file"
        what = f"line {first} is {found.length:,} bytes long{rest}, {over}"
    else:
        what = (
            f"the record that starts on line {first} is {found.length:,} bytes long (a "
            f"quoted value holding line breaks), {over}"
        )
    return IngestError(
        f"{path.name}: {what}. A record this long is a damaged export (line ends or a "
        "closing quote lost) or not CSV; nothing was loaded.",
        where=where_file(path, first),
        fix="Check the file at that line and export it again; a value over the limit "
        "cannot be loaded (shorten it, or leave it out of the export).",
    )


def line_numbers(chunks: Iterator[bytes], offsets: list[int]) -> list[int]:
    """The physical line (1-based) of each byte offset (ascending) in the stream ``chunks``."""
    found: list[int] = []
    ends, at, after_cr = 0, 0, False
    for chunk in chunks:
        while len(found) < len(offsets) and offsets[len(found)] < at + len(chunk):
            found.append(ends + _count_ends(chunk, offsets[len(found)] - at, after_cr) + 1)
        if len(found) == len(offsets):
            break
        ends += _count_ends(chunk, len(chunk), after_cr)
        at, after_cr = at + len(chunk), chunk[-1:] == b"\r"
    return found + [ends + 1] * (len(offsets) - len(found))


def _count_ends(chunk: bytes, stop: int, after_cr: bool) -> int:
    """Line ends in ``chunk[:stop]``; a ``\\r\\n`` counts once, also split by chunks."""
    lf, cr = chunk.count(b"\n", 0, stop), chunk.count(b"\r", 0, stop)
    pairs = chunk.count(b"\r\n", 0, stop) if cr else 0
    return lf + cr - pairs - (1 if after_cr and stop and chunk[:1] == b"\n" else 0)


def _guess(chunk: bytes, skip_rows: int) -> str:
    """The delimiter the header line (after ``skip_rows`` lines) suggests."""
    lines = _LINE_ENDS.split(chunk, maxsplit=skip_rows + 1)
    header = lines[skip_rows] if len(lines) > skip_rows else b""
    return guess_delimiter(header.decode("latin-1"))
