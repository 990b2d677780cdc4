"""Finding a source's files and telling what they are (format, compression, checksum).

:func:`describe_file` reads a file once, whole: its checksum, a gzip file's completeness
and, for a CSV/TSV export, the length of its longest record (one over
:data:`MAX_LINE_BYTES` is refused before any reader holds it in memory; see
:mod:`.csvmeter`). It also notes the file's identity (device, inode, size, modification
and change times), which :func:`check_unchanged` compares after the load, so that the
checksum the ledger records describes the data that was loaded.
"""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from workbench.config import FORMATS, Project, Source
from workbench.errors import IngestError
from workbench.ingest.content import SAMPLE_BYTES, check_sample
from workbench.ingest.csvmeter import RecordMeter, too_long
from workbench.ingest.csvscan import byte_chunks
from workbench.ingest.globwalk import expand

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
}
GZIP_MAGIC = b"\x1f\x8b"
MAX_LINE_BYTES = 16 * 1024 * 1024
"""The longest line (record) a CSV/TSV export may have: 16 MiB, in bytes as stored
(decompressed), a quoted value's line breaks included.

DuckDB's own default ``max_line_size`` is 2 MB; exports do hold the odd cell of several
megabytes (a pasted document, an embedded image), so Workbench allows eight times that
(DuckDB reads a file whose records fit its default with the default, see
:func:`.csv_reader.line_size`). A longer record is a damaged export (line ends or a closing
quote lost) or not CSV at all; it is refused before any reader sees it, because DuckDB and
Python's line readers hold a whole record in memory however long (a 3 GB line took over
5 GB).
"""
MAX_COLUMNS = 4096
"""The most columns an export may have. DuckDB writes a table a column at a time and holds a
256 KiB block per column while it does, so the cost of a load grows with its width whatever
its rows: 2,000 columns took 6 s and 0.8 GB here, 10,000 took 28 s and 2.7 GB, 100,000 ran
out of memory. CRM and ERP objects stay far below the limit (Salesforce allows some 800
custom fields, SQL Server tables 1,024 columns); a wider export is a pivot or a transposed
table, refused at once with its count.
"""
_READ_BYTES = 1 << 20  # the hashing read and gzip's output: each far below the limit


@dataclass(frozen=True)
class ExportFile:
    """One file about to be loaded.

    ``encoding`` is the one its byte order mark declares (UTF-16), if it has one; it wins
    over the source's configured encoding.
    """

    path: Path
    source: str
    format: str
    gzip: bool
    sha256: str
    size: int
    encoding: str | None = None
    identity: tuple[int, ...] | None = None  # see check_unchanged
    measured_with: str | None = None  # the delimiter records were measured with (if quoted)
    longest_record: int | None = None  # bytes (decompressed) of its longest record, if measured


def source_files(project: Project, name: str) -> list[Path]:
    """The files a configured source's path or glob matches, oldest first by name.

    Names sort naturally: ``export_9`` comes before ``export_10``.
    """
    source = project.source(name)
    pattern = str(project.resolve(source.path))
    matches = sorted((p for p in expand(pattern) if p.is_file()), key=_natural_key)
    if not matches:
        raise IngestError(
            f"Source '{name}' matches no file: {pattern}",
            where=f"{project.root / 'workbench.yaml'}, key sources.{name}.path",
            fix="Put the export there, or correct the path (relative to the project folder).",
        )
    return matches


def _natural_key(path: Path) -> tuple[list[object], list[object]]:
    return _natural(path.name), _natural(str(path))  # the folder decides between equal names


def _natural(text: str) -> list[object]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def describe_file(path: Path, source: Source, source_name: str) -> ExportFile:
    """Check that ``path`` is a readable file and work out its format and checksum."""
    if not path.exists():
        raise IngestError(
            f"The file {path} does not exist.", where=str(path), fix="Check the path."
        )
    if not path.is_file():
        raise IngestError(
            f"{path} is not a file (it is a folder or a device).",
            where=str(path),
            fix="Give the path of one export file; use a glob in the source's path for many.",
        )
    meter = _record_meter(path, source, source_name)
    try:
        seen = _read_through(path, meter)
    except OSError as exc:
        raise IngestError(
            f"{path.name} cannot be read: {exc.strerror or exc}.",
            where=str(path),
            fix="Check the file's permissions and that it is not being written; nothing was "
            "loaded.",
        ) from exc
    checker, size = seen.checker, seen.size
    gzipped = checker is not None
    if checker and not checker.complete():
        raise IngestError(
            f"{path.name} is a truncated or damaged gzip file: {checker.problem}.",
            where=str(path),
            fix="Copy or export the file again; a partial file is not loaded.",
        )
    if size == 0 or (checker and not checker.sample):
        raise IngestError(
            f"The file {path.name} is empty ({'0 bytes' if size == 0 else 'no data inside'}).",
            where=str(path),
            fix="Export it again from the source system; nothing was loaded.",
        )
    if checker.blank if checker else seen.blank:
        raise IngestError(
            f"The file {path.name} holds only blank lines and spaces: no header, no rows.",
            where=str(path),
            fix="Export it again from the source system; nothing was loaded.",
        )
    fmt = file_format(path, source, source_name)
    use_gzip = (
        gzipped if source.options.compression == "auto" else source.options.compression == "gzip"
    )
    measured = meter if meter and use_gzip == gzipped else None
    found = measured.finish() if measured else None
    if found is not None:
        raise too_long(path, found, MAX_LINE_BYTES, lambda: byte_chunks(path, gzipped, "utf-8"))
    sample = checker.sample if checker and use_gzip else seen.head
    return ExportFile(
        path=path,
        source=source_name,
        format=fmt,
        gzip=use_gzip,
        sha256=seen.digest,
        size=size,
        encoding=check_sample(path, sample, fmt, source_name, source.options.encoding),
        identity=seen.identity,
        measured_with=meter.delimiter if meter and meter.quoted else None,
        longest_record=measured.longest() if measured else None,
    )


def _record_meter(path: Path, source: Source, source_name: str) -> RecordMeter | None:
    """A meter of the records of a CSV/TSV export (None for other formats)."""
    try:
        fmt = file_format(path, source, source_name)
    except IngestError:
        return None  # refused later, once the file is known to be readable
    if fmt not in ("csv", "tsv"):
        return None
    options = source.options
    return RecordMeter(
        MAX_LINE_BYTES,
        delimiter=options.delimiter or ("\t" if fmt == "tsv" else None),
        quote=None if options.encoding == "utf-16" else options.quote,
        escape=options.escape,
        skip_rows=options.skip_rows,
    )


def check_unchanged(export: ExportFile) -> None:
    """Refuse a file that changed since :func:`describe_file` took its checksum.

    Readers open the file again by its path; if it was replaced or rewritten in between,
    the rows read are not the ones the checksum describes. The loader calls this after
    reading, before it commits, so such a load leaves nothing behind. A rewrite that keeps
    the inode and size within one tick of the file system's clock (a few milliseconds) is
    not seen; anything slower, or that changes the size or replaces the file, is.
    """
    if export.identity is None:
        return
    try:
        now: tuple[int, ...] | None = _identity(os.stat(export.path))
    except OSError:
        now = None  # deleted or moved away
    if now != export.identity:
        raise _changed(export.path, "after its checksum was taken")


@dataclass(frozen=True)
class _Reading:
    """What one read through a file found."""

    size: int
    digest: str
    head: bytes  # the first block, as stored
    checker: _GzipCheck | None  # for a gzip file
    blank: bool  # only whitespace (as stored)
    identity: tuple[int, ...]


def _read_through(path: Path, meter: RecordMeter | None) -> _Reading:
    """Read the whole file once: size, checksum, first block, gzip check, only whitespace;
    ``meter`` measures its (decompressed) records."""
    digest = hashlib.sha256()
    lines = meter or _NoMeter()
    with path.open("rb") as handle:
        before = _identity(os.fstat(handle.fileno()))
        head = handle.read(SAMPLE_BYTES)
        digest.update(head)
        size = len(head)
        checker = _GzipCheck(head, lines) if head[:2] == GZIP_MAGIC else None
        blank = head.isspace() or not head
        if checker is None:
            lines.feed(head)
        for chunk in iter(lambda: handle.read(_READ_BYTES), b""):
            digest.update(chunk)
            size += len(chunk)
            if checker:
                checker.feed(chunk)
            else:
                lines.feed(chunk)
                if blank:
                    blank = chunk.isspace()
        after = _identity(os.fstat(handle.fileno()))
    if after != before or size != before[2]:
        raise _changed(path, "while its checksum was taken")
    return _Reading(size, digest.hexdigest(), head, checker, blank, before)


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _changed(path: Path, when: str) -> IngestError:
    return IngestError(
        f"{path.name} changed while it was read ({when}), so the rows read would not be the "
        "ones its checksum describes; nothing was loaded from it.",
        where=str(path),
        fix="Load it again when the export is complete (write exports under another name and "
        "rename them when done).",
    )


class _NoMeter:
    def feed(self, data: bytes) -> None:
        pass


class _GzipCheck:
    """Decompresses a gzip stream (discarding the output) to prove it is complete."""

    def __init__(self, head: bytes, lines: RecordMeter | _NoMeter) -> None:
        self._inflate = zlib.decompressobj(wbits=31)
        self._lines = lines  # measures the decompressed text
        self.problem = "it ends before its end-of-stream marker"
        self._broken = False
        self.sample = b""  # the first decompressed bytes
        self.blank = True  # nothing but whitespace so far
        self.feed(head)

    def feed(self, data: bytes) -> None:
        while data and not self._broken:
            try:
                out = self._inflate.decompress(data, _READ_BYTES)
                if len(self.sample) < SAMPLE_BYTES:
                    self.sample += out[: SAMPLE_BYTES - len(self.sample)]
                if self.blank and out:
                    self.blank = out.isspace()
                self._lines.feed(out)
                data = self._inflate.unconsumed_tail
                if self._inflate.eof:  # a gzip file may hold several members
                    data = self._inflate.unused_data + data
                    if data:
                        self._inflate = zlib.decompressobj(wbits=31)
            except zlib.error as exc:
                self._broken = True
                self.problem = f"it cannot be decompressed ({exc})"

    def complete(self) -> bool:
        return not self._broken and self._inflate.eof


def file_format(path: Path, source: Source, source_name: str) -> str:
    """The configured format, else the one the extension (under any .gz) says."""
    if source.format:
        return source.format
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    fmt = _EXTENSIONS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise IngestError(
            f"Cannot tell the format of {path.name} from its extension.",
            where=f"sources.{source_name}.format",
            fix=f"Set 'format:' on the source to one of: {', '.join(FORMATS)}.",
        )
    return fmt
