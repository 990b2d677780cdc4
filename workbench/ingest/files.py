"""Finding a source's files and telling what they are (format, compression, checksum)."""

from __future__ import annotations

import glob
import hashlib
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from workbench.config import FORMATS, Project, Source
from workbench.errors import IngestError
from workbench.ingest.content import SAMPLE_BYTES, check_sample

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


def source_files(project: Project, name: str) -> list[Path]:
    """The files a configured source's path or glob matches, oldest first by name.

    Names sort naturally: ``export_9`` comes before ``export_10``.
    """
    source = project.source(name)
    pattern = str(project.resolve(source.path))
    matches = sorted(
        (Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file()),
        key=_natural_key,
    )
    if not matches:
        raise IngestError(
            f"Source '{name}' matches no file: {pattern}",
            where=f"{project.root / 'workbench.yaml'}, key sources.{name}.path",
            fix="Put the export there, or correct the path (relative to the project folder).",
        )
    return matches


def _natural_key(path: Path) -> list[object]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


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
    try:
        size, digest, head, checker, blank = _read_through(path)
    except OSError as exc:
        raise IngestError(
            f"{path.name} cannot be read: {exc.strerror or exc}.",
            where=str(path),
            fix="Check the file's permissions and that it is not being written; nothing was "
            "loaded.",
        ) from exc
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
    if checker.blank if checker else blank:
        raise IngestError(
            f"The file {path.name} holds only blank lines and spaces: no header, no rows.",
            where=str(path),
            fix="Export it again from the source system; nothing was loaded.",
        )
    fmt = file_format(path, source, source_name)
    use_gzip = (
        gzipped if source.options.compression == "auto" else source.options.compression == "gzip"
    )
    sample = checker.sample if checker and use_gzip else head
    return ExportFile(
        path=path,
        source=source_name,
        format=fmt,
        gzip=use_gzip,
        sha256=digest,
        size=size,
        encoding=check_sample(path, sample, fmt, source_name, source.options.encoding),
    )


def _read_through(path: Path) -> tuple[int, str, bytes, _GzipCheck | None, bool]:
    """Read the whole file once: size, checksum, first block, gzip check, only whitespace."""
    size = path.stat().st_size
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
        digest.update(head)
        checker = _GzipCheck(head) if head[:2] == GZIP_MAGIC else None
        blank = head.isspace() or not head
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            if checker:
                checker.feed(chunk)
            elif blank:
                blank = chunk.isspace()
    return size, digest.hexdigest(), head, checker, blank


class _GzipCheck:
    """Decompresses a gzip stream (discarding the output) to prove it is complete."""

    def __init__(self, head: bytes) -> None:
        self._inflate = zlib.decompressobj(wbits=31)
        self.problem = "it ends before its end-of-stream marker"
        self._broken = False
        self.sample = b""  # the first decompressed bytes
        self.blank = True  # nothing but whitespace so far
        self.feed(head)

    def feed(self, data: bytes) -> None:
        while data and not self._broken:
            try:
                out = self._inflate.decompress(data, 1 << 16)
                if len(self.sample) < SAMPLE_BYTES:
                    self.sample += out[: SAMPLE_BYTES - len(self.sample)]
                if self.blank and out:
                    self.blank = out.isspace()
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
