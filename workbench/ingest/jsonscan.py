"""Bounds on JSON records, checked before DuckDB or Python's JSON parser see a file.

Two kinds of record are beyond what Workbench reads:

* **Records larger than** :data:`MAX_RECORD_BYTES` (32 MiB): an NDJSON line that long is
  read in bounded chunks and set aside without ever being held whole; a JSON array file
  with an element that long is refused (DuckDB's ``maximum_object_size`` is set just above
  the bound as a second line). Real CRM records are kilobytes; a line of hundreds of
  megabytes is a broken or hostile export, and holding it costs several times its size.
* **Records nested deeper than** :data:`MAX_DEPTH` (64 levels of objects and arrays):
  DuckDB crashes the process (a stack overflow) on JSON nested about 100,000 levels deep
  and Python's parser raises RecursionError from about 1,000; no export nests more than a
  handful of levels.

The scan is a streaming count of brackets outside strings, on chunks of
:data:`CHUNK_BYTES` with numpy, so it costs one quick pass over the file (about 150 MB/s)
and bounded memory whatever the file holds. A record that opens and closes inside one
chunk is shorter than the bound, so only records spanning chunks are measured. For NDJSON
the scan also flags lines that do not close what they open (the careful line-by-line
reader in :mod:`.ndjson` then sorts them out). DuckDB accepts only strict JSON (no
comments, no raw newlines in strings), so a file it reads is one whose brackets and
strings this scan reads the same way.
"""

from __future__ import annotations

import gzip as gz
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MAX_RECORD_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 64
CHUNK_BYTES = 1 << 20
PREVIEW_CHARS = 1000  # of a record set aside for its size, kept as its raw_record
MAX_COLUMNS = 4096  # columns of one export, nested keys included: as for CSV (files.py)
MAX_KEYS = 4096  # keys of one object read as columns; an object with more is one MAP
# DuckDB's own bound on one record, a little above ours (the scan sets longer lines aside).
# Objects with up to MAX_KEYS keys read as columns however few records share them (DuckDB
# would make objects of more than 200 keys, or of rarely shared keys, one MAP).
DUCKDB_OBJECT_BYTES = MAX_RECORD_BYTES + 64 * 1024
DUCKDB_JSON_OPTIONS = (
    f"maximum_object_size = {DUCKDB_OBJECT_BYTES}, map_inference_threshold = {MAX_KEYS}, "
    "field_appearance_threshold = 0"
)

_KEEP = b'"[]{}\n'
_DROP = bytes(b for b in range(256) if b not in _KEEP)


@dataclass(frozen=True)
class Problem:
    """Why a record is beyond the bounds, and the (1-based) line where it shows."""

    line: int
    kind: str  # RECORD TOO LARGE | NESTED TOO DEEP | UNBALANCED
    reason: str


def size_reason(length: int, *, at_least: bool = False) -> str:
    """The reject message of a record of ``length`` bytes (or more)."""
    return (
        f"the record is {'more than ' if at_least else ''}{length:,} bytes long; Workbench "
        "reads records of up to "
        f"{MAX_RECORD_BYTES // (1024 * 1024)} MiB ({MAX_RECORD_BYTES:,} bytes)"
    )


def depth_reason() -> str:
    """The reject message of a record nested deeper than :data:`MAX_DEPTH`."""
    return (
        f"the record is nested more than {MAX_DEPTH} levels deep (objects and arrays); "
        f"Workbench reads records nested up to {MAX_DEPTH} levels"
    )


class DepthScan:
    """Bracket depth outside JSON strings, fed chunk by chunk.

    ``lines``: NDJSON, where every line must close what it opens (a line that does not is
    reported as ``UNBALANCED``) and is at most :data:`MAX_RECORD_BYTES` long. Strings end
    at a line end either way (a raw newline is not allowed in a JSON string), so one broken
    line cannot hide the next ones. ``limit`` is the deepest nesting allowed (the array
    around a JSON file's records counts one). ``record_depth``: measure the records that
    open at this depth (2 for the elements of a JSON array) against
    :data:`MAX_RECORD_BYTES`.
    """

    def __init__(
        self, *, lines: bool, limit: int = MAX_DEPTH, record_depth: int | None = None
    ) -> None:
        self.lines, self.limit, self.record_depth = lines, limit, record_depth
        self.depth = 0  # open brackets at the end of what was fed
        self.in_string = False
        self.backslash = False  # what was fed ends in an odd run of backslashes
        self.line = 1
        self.since_newline = 0  # bytes of the current line so far
        self.offset = 0  # of the next chunk in the data
        self.record: tuple[int, int] | None = None  # (offset, line) of the open record
        self.problem: Problem | None = None

    def feed(self, chunk: bytes) -> Problem | None:
        """Scan the next bytes; returns the first problem found (and keeps it)."""
        if self.problem is not None or not chunk:
            return self.problem
        if len(chunk) > CHUNK_BYTES:  # a record inside one piece is shorter than the bound
            for begin in range(0, len(chunk), CHUNK_BYTES):
                self.feed(chunk[begin : begin + CHUNK_BYTES])
            return self.problem
        if self.lines:
            self._lengths(chunk)
            if self.problem is not None:
                return self.problem
        start = self.offset - int(self.backslash)  # of ``data``, in the whole
        self.offset += len(chunk)
        data = b"\\" + chunk if self.backslash else chunk
        kept = data.rstrip(b"\\")
        self.backslash = (len(data) - len(kept)) % 2 == 1
        # escaped backslashes, then escaped quotes, are not structure (same length kept)
        if b"\\\\" in kept:
            kept = kept.replace(b"\\\\", b"__")
        if b'\\"' in kept:
            kept = kept.replace(b'\\"', b"__")
        marks = kept.translate(None, _DROP)
        if marks:
            self._brackets(np.frombuffer(marks, dtype=np.uint8), kept, start)
        if self.problem is None and self.record and self.offset - self.record[0] > MAX_RECORD_BYTES:
            why = size_reason(self.offset - self.record[0], at_least=True)
            self.problem = Problem(self.record[1], "RECORD TOO LARGE", why)
        return self.problem

    def finish(self) -> Problem | None:
        """The end of the data: an NDJSON last line without its line end must be closed."""
        if self.problem is None and self.lines and (self.depth or self.in_string):
            self.problem = Problem(self.line, "UNBALANCED", "the line does not close its record")
        return self.problem

    def _lengths(self, chunk: bytes) -> None:
        first = chunk.find(b"\n")
        if first < 0:
            self.since_newline += len(chunk)
        else:  # lines inside one chunk are shorter than the chunk, hence than the limit
            self.since_newline += first
        if self.since_newline > MAX_RECORD_BYTES:
            self.problem = Problem(self.line, "RECORD TOO LARGE", size_reason(self.since_newline))
        elif first >= 0:
            self.since_newline = len(chunk) - chunk.rfind(b"\n") - 1

    def _brackets(self, marks: np.ndarray, data: bytes, start: int) -> None:
        quotes = np.cumsum(marks == 34, dtype=np.int32) + int(self.in_string)
        inside = (quotes & 1).astype(bool)  # in a string after each mark
        newlines = np.flatnonzero(marks == 10)
        strays = newlines[inside[newlines]]  # a line end inside a string: not JSON
        if len(strays) and not self.lines:
            inside = _strings_end_at_line_ends(marks, quotes, int(self.in_string))
            strays = strays[:0]
        step = np.where(inside, 0, _STEP[marks])
        depth = np.cumsum(step, dtype=np.int32) + self.depth
        found: list[tuple[int, Problem]] = []  # (mark, problem): the first mark's wins

        def line_of(mark: int) -> int:
            return self.line + int(np.searchsorted(newlines, mark))

        deep = np.flatnonzero(depth > self.limit)
        if len(deep):
            found.append(
                (int(deep[0]), Problem(line_of(int(deep[0])), "NESTED TOO DEEP", depth_reason()))
            )
        if self.lines:
            strays = np.union1d(strays, newlines[depth[newlines] != 0])
        if len(strays):
            why = "the line does not close its record"
            found.append((int(strays[0]), Problem(line_of(int(strays[0])), "UNBALANCED", why)))
        if self.record_depth is not None:
            found.extend(self._sizes(step, depth, data, start, line_of))
        if found:
            self.problem = min(found, key=lambda f: f[0])[1]
            return
        self.line += len(newlines)
        self.depth = int(depth[-1])
        self.in_string = bool(inside[-1])

    def _sizes(
        self, step: np.ndarray, depth: np.ndarray, data: bytes, start: int, line_of: Any
    ) -> list[tuple[int, Problem]]:
        """A record (opened at ``record_depth``) longer than the bound; tracks the open one.

        A record that opens and closes in one chunk is shorter than the bound, so only the
        one carried in from earlier chunks and the one left open are measured.
        """
        assert self.record_depth is not None
        opens = np.flatnonzero((step == 1) & (depth == self.record_depth))
        closes = np.flatnonzero((step == -1) & (depth == self.record_depth - 1))
        if self.record is not None and len(closes) and (not len(opens) or closes[0] < opens[0]):
            size = start + _mark_position(data, int(closes[0])) - self.record[0] + 1
            if size > MAX_RECORD_BYTES:
                too_big = Problem(self.record[1], "RECORD TOO LARGE", size_reason(size))
                return [(int(closes[0]), too_big)]
        if len(opens) and (not len(closes) or opens[-1] > closes[-1]):
            at = start + _mark_position(data, int(opens[-1]))
            self.record = (at, line_of(int(opens[-1])))
        elif len(closes):
            self.record = None
        return []


def _mark_position(data: bytes, k: int) -> int:
    """Where the ``k``-th (0-based) structural byte of ``data`` is."""
    block = 1 << 16
    seen = 0
    for begin in range(0, len(data), block):
        piece = data[begin : begin + block]
        count = len(piece.translate(None, _DROP))
        if seen + count > k:
            at = np.flatnonzero(np.frombuffer(piece.translate(_IS_MARK), dtype=np.uint8))
            return begin + int(at[k - seen])
        seen += count
    raise ValueError(f"no structural byte {k} in {len(data)} bytes")


_STEP = np.zeros(256, dtype=np.int32)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1
_IS_MARK = bytes(int(b in _KEEP) for b in range(256))  # a translate() table: 1 for marks


def _strings_end_at_line_ends(marks: np.ndarray, quotes: np.ndarray, carry: int) -> np.ndarray:
    """In a string after each mark, when a line end closes any string left open."""
    newline = marks == 10
    last = np.maximum.accumulate(np.where(newline, np.arange(len(marks)), -1))
    base = np.where(last >= 0, quotes[np.maximum(last, 0)], carry)
    return ((quotes - base + carry * (last < 0)) & 1).astype(bool) & ~newline


def scan_file(path: Path, *, gzip: bool, lines: bool) -> Problem | None:
    """The first record of a JSON (``lines=False``) or NDJSON file beyond the bounds.

    For a JSON file the array around the records is one level more than :data:`MAX_DEPTH`.
    """
    if lines:
        scan = DepthScan(lines=True)
    else:
        scan = DepthScan(lines=False, limit=MAX_DEPTH + 1, record_depth=2)
    opener = gz.open if gzip else open
    with opener(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            if scan.feed(chunk):
                return scan.problem
    return scan.finish()


def too_deep(body: bytes) -> bool:
    """Whether one NDJSON line nests deeper than :data:`MAX_DEPTH` (quick when it cannot)."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False
    scan = DepthScan(lines=False)
    for start in range(0, len(body), CHUNK_BYTES):
        problem = scan.feed(body[start : start + CHUNK_BYTES])
        if problem is not None and problem.kind == "NESTED TOO DEEP":
            return True
    return False


class LineSource(Protocol):
    """A binary file (plain or gzip) read line by line."""

    def readline(self, size: int, /) -> bytes: ...


@dataclass(frozen=True)
class Line:
    """One physical line: its body (None when longer than the bound) and its length."""

    number: int
    body: bytes | None
    length: int
    preview: bytes


def read_lines(handle: LineSource) -> Iterator[Line]:
    """The lines of a binary file, none held longer than :data:`MAX_RECORD_BYTES`.

    A longer line is read on in bounded chunks to its end and yielded without its body,
    with its length (line end excluded) and its first bytes.
    """
    number = 0
    while True:
        line = handle.readline(MAX_RECORD_BYTES + 2)  # room for "\r\n"
        if not line:
            return
        number += 1
        if line.endswith(b"\n") or len(line) <= MAX_RECORD_BYTES:
            body = line.rstrip(b"\r\n")
            if len(body) <= MAX_RECORD_BYTES:
                yield Line(number, body, len(body), b"")
                continue
        preview = line[: PREVIEW_CHARS * 4]
        length = len(line)
        while not line.endswith(b"\n"):
            line = handle.readline(CHUNK_BYTES)
            if not line:
                break
            length += len(line)
        length -= len(line) - len(line.rstrip(b"\r\n")) if line else 0
        yield Line(number, None, length, preview)
