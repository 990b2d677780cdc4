"""Telling what a file holds from its first bytes, before a reader is let loose on it.

Readers give poor messages for files that are not what their name says (random bytes, a
Parquet file named ``.csv``, UTF-16 text read as UTF-8). :func:`check_sample` looks at the
first block of a text export and either refuses it with a message that names the problem or
returns the encoding its byte order mark declares.
"""

from __future__ import annotations

from pathlib import Path

from workbench.errors import IngestError

SAMPLE_BYTES = 64 * 1024
TEXT_FORMATS = ("csv", "tsv", "json", "ndjson")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_MAGIC = {
    b"PAR1": ("a Parquet file", "Set 'format: parquet' on the source, or give it a .parquet name."),
    b"PK\x03\x04": (
        "a ZIP archive (an .xlsx workbook is one)",
        "Set 'format: xlsx' on the source if it is a workbook; unzip it if it is an archive.",
    ),
    b"%PDF": ("a PDF document", "Export the data itself (CSV, JSON, Parquet or XLSX)."),
    b"SQLite format 3\x00": ("an SQLite database", "Export the table as CSV or Parquet."),
}
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\f\v\x1a\x1b") + b"\x7f"
_BINARY_SHARE = 0.05  # text has almost no control characters; random bytes about 12%


def check_sample(
    path: Path, sample: bytes, fmt: str, source_name: str, declared: str
) -> str | None:
    """Refuse a text export that is not text; return "utf-16" if a UTF-16 BOM says so.

    ``sample`` is the file's first block (decompressed, for gzip files); ``declared`` the
    source's configured encoding.
    """
    if fmt not in TEXT_FORMATS or not sample:
        return None
    key = f"sources.{source_name}.options.encoding"
    if declared == "utf-16":
        if fmt in ("csv", "tsv"):
            _check_declared_utf16(path, sample, key)
        return None
    if sample.startswith(UTF16_BOMS):
        if fmt in ("json", "ndjson"):
            raise IngestError(
                f"{path.name} is UTF-16 text; JSON exports must be UTF-8.",
                where=str(path),
                fix="Export it again as UTF-8 (or convert it, e.g. with iconv -f UTF-16 -t UTF-8).",
            )
        return "utf-16"
    for magic, (what, fix) in _MAGIC.items():
        if sample.startswith(magic):
            raise IngestError(
                f"{path.name} is {what}, not {fmt.upper()} text.", where=str(path), fix=fix
            )
    nuls = sample.count(0)
    if nuls > len(sample) * 0.2 and _alternating(sample):
        raise IngestError(
            f"{path.name} looks like UTF-16 text without a byte order mark: every other byte "
            "is NUL.",
            where=str(path),
            fix=f"Set {key} to utf-16, or export the file again as UTF-8.",
        )
    control = len(sample) - len(sample.translate(None, _CONTROL))
    if control > len(sample) * _BINARY_SHARE:
        raise IngestError(
            f"{path.name} is not a text file: {control / len(sample):.0%} of its first "
            f"{len(sample):,} bytes are control characters or NUL bytes.",
            where=str(path),
            fix=f"Check that this is the {fmt.upper()} export (not an archive, image or "
            "database file) and copy it again; nothing was loaded.",
        )
    return None


def _check_declared_utf16(path: Path, sample: bytes, key: str) -> None:
    """Refuse a CSV declared UTF-16 that cannot be read so: DuckDB reads one without a byte
    order mark little-endian, and any other bytes would come out as a header of mojibake."""
    if sample.startswith(UTF16_BOMS):
        return
    nuls = sample.count(0)
    if nuls == 0:  # UTF-16 writes its delimiters and line ends with a NUL byte each
        raise IngestError(
            f"{path.name} is declared UTF-16 ({key}) but has no NUL bytes, which UTF-16 writes "
            "in every line end and delimiter: it is 8-bit text (UTF-8 or a single-byte encoding).",
            where=str(path),
            fix=f"Set {key} to the file's encoding (utf-8, cp1252, latin-1) or leave it out; "
            "nothing was loaded.",
        )
    if nuls > len(sample) * 0.2 and _alternating(sample) and sample[0::2].count(0) > nuls // 2:
        raise IngestError(
            f"{path.name} is declared UTF-16 ({key}) but is big-endian UTF-16 without a byte "
            "order mark (its NUL bytes come first in each pair); it would be read "
            "little-endian.",
            where=str(path),
            fix="Export it again as UTF-8, or as UTF-16 with a byte order mark (or convert it, "
            "e.g. with iconv -f UTF-16BE -t UTF-8); nothing was loaded.",
        )


def _alternating(sample: bytes) -> bool:
    """NUL bytes sit mostly at even or mostly at odd offsets (ASCII text as UTF-16)."""
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    return max(even, odd) > 4 * max(min(even, odd), 1)
