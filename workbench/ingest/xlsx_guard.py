"""Excel workbooks checked before a reader inflates them: zip bombs are refused.

An .xlsx file is a ZIP archive of XML parts, and the Excel reader (calamine, through
fastexcel and polars) inflates the shared strings and the sheet whole into memory. A few
megabytes of deflated XML can inflate to gigabytes, so :func:`check_workbook` first reads
the archive's directory and refuses a workbook

* with more than :data:`MAX_PARTS` parts (a workbook has tens),
* whose parts declare more than :data:`MAX_INFLATED_BYTES` (512 MiB) in all: the XML of a
  sheet of about two million cells (a million rows of four columns, as Workbench writes
  them, is 260 MB); the reader needs about twice that in memory,
* with a part above :data:`RATIO_GRACE_BYTES` that inflates more than :data:`MAX_RATIO`
  times its compressed size (spreadsheet XML inflates about 10 times; a zip bomb about
  1,000 times),

and then inflates every part once, in bounded pieces and discarding the output, to prove
that none holds more than its declared size (a part that does is damaged or hostile, and
readers do not all stop at the declared size). Such workbooks are better exported as CSV.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from workbench.errors import IngestError

MAX_PARTS = 10_000
MAX_INFLATED_BYTES = 512 * 1024 * 1024
MAX_RATIO = 100
RATIO_GRACE_BYTES = 1024 * 1024
CHUNK_BYTES = 1 << 20

_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_LOCAL_HEADER = b"PK\x03\x04"
_FIX = "Export the data as CSV instead (File > Save As > CSV UTF-8); nothing was loaded."


def check_workbook(path: Path) -> None:
    """Refuse ``path`` if its ZIP directory or its parts go beyond the stated bounds.

    Raises :class:`~workbench.errors.IngestError` naming the file, the part and the bound.
    """
    try:
        with path.open("rb") as handle:
            parts = _part_count(handle)
            if parts is None:
                raise _unreadable(path, "it is not a ZIP archive (an .xlsx workbook is one)")
            if parts > MAX_PARTS:
                raise _too_big(path, f"its archive lists {parts:,} parts (at most {MAX_PARTS:,})")
            with zipfile.ZipFile(handle) as archive:
                infos = archive.infolist()
            _check_directory(path, infos)
            for info in infos:
                _check_inflation(path, handle, info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, struct.error, EOFError) as exc:
        raise _unreadable(path, f"its ZIP archive is damaged ({exc})") from exc
    except OSError as exc:
        raise _unreadable(path, f"it cannot be read ({exc.strerror or exc})") from exc


def _part_count(handle: BinaryIO) -> int | None:
    """The number of parts the archive's end record declares; None if there is none."""
    size = handle.seek(0, 2)
    tail_start = max(0, size - (65535 + 22))
    handle.seek(tail_start)
    tail = handle.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return None
    (count,) = struct.unpack("<H", tail[at + 10 : at + 12])
    locator = at - 20
    if locator >= 0 and tail[locator : locator + 4] == _ZIP64_LOCATOR:
        (record,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
        handle.seek(record)
        head = handle.read(40)
        if head[:4] == b"PK\x06\x06" and len(head) == 40:
            (count,) = struct.unpack("<Q", head[32:40])
    return int(count)


def _check_directory(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Declared sizes and ratios, before anything is inflated."""
    total = 0
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _unreadable(
                path,
                f"its part {info.filename} is compressed with method {info.compress_type}; "
                "Excel workbooks use deflate",
            )
        inflated = max(info.file_size, info.compress_size)
        total += inflated
        if total > MAX_INFLATED_BYTES:
            raise _too_big(
                path,
                f"its parts inflate to more than {_mib(MAX_INFLATED_BYTES)} "
                f"({info.filename} alone declares {inflated:,} bytes)",
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_GRACE_BYTES and ratio > MAX_RATIO:
            raise _too_big(
                path,
                f"its part {info.filename} inflates {ratio:,.0f} times (from "
                f"{info.compress_size:,} to {info.file_size:,} bytes; spreadsheet XML "
                f"inflates about 10 times, at most {MAX_RATIO} are read), as a zip bomb does",
            )


def _check_inflation(path: Path, handle: BinaryIO, info: zipfile.ZipInfo) -> None:
    """Inflate one part in bounded pieces: it must hold no more than it declares."""
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) < 30 or header[:4] != _LOCAL_HEADER:
        raise _unreadable(path, f"its part {info.filename} is missing from the archive")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    handle.seek(info.header_offset + 30 + name_len + extra_len)
    left = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        if left != info.file_size:
            raise _unreadable(path, f"its part {info.filename} is damaged (sizes disagree)")
        return
    inflate = zlib.decompressobj(-15)
    out = 0
    try:
        while left > 0 and not inflate.eof:
            data = handle.read(min(CHUNK_BYTES, left))
            if not data:
                break
            left -= len(data)
            while data and not inflate.eof:
                out += len(inflate.decompress(data, CHUNK_BYTES))
                if out > info.file_size:
                    raise _too_big(
                        path,
                        f"its part {info.filename} inflates to more than the {info.file_size:,} "
                        "bytes it declares (a damaged or hostile archive)",
                    )
                data = inflate.unconsumed_tail
    except zlib.error as exc:
        raise _unreadable(path, f"its part {info.filename} is damaged ({exc})") from exc


def _mib(n: int) -> str:
    return f"{n // (1024 * 1024):,} MiB"


def _too_big(path: Path, why: str) -> IngestError:
    return IngestError(
        f"{path.name} is refused as an Excel workbook: {why}.",
        where=str(path),
        fix=_FIX,
    )


def _unreadable(path: Path, why: str) -> IngestError:
    return IngestError(
        f"{path.name} cannot be read as an Excel workbook: {why}.",
        where=str(path),
        fix="Check that it is a valid .xlsx file (a password-protected workbook is not one); "
        + _FIX,
    )
