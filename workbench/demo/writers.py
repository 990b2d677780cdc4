"""Writing export files byte-for-byte reproducibly (no timestamps in gzip headers) and
atomically (a temporary file renamed into place), so a refresh never leaves half a file."""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import polars as pl


def write_bytes(path: Path, payload: bytes) -> None:
    """Replace ``path`` with ``payload`` atomically, creating its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_csv(
    frame: pl.DataFrame,
    path: Path,
    *,
    delimiter: str = ",",
    encoding: Literal["utf-8", "latin-1"] = "utf-8",
    line_end: str = "\n",
) -> None:
    """A CSV with a header; nulls as empty fields; fields quoted only when needed."""
    buffer = io.BytesIO()
    frame.write_csv(buffer, separator=delimiter, line_terminator=line_end, null_value="")
    payload = buffer.getvalue()
    if encoding != "utf-8":
        payload = payload.decode("utf-8").encode(encoding)
    write_bytes(path, payload)


def write_json_array(frame: pl.DataFrame, path: Path) -> None:
    """A JSON array of objects, one per row; nulls as ``null``."""
    buffer = io.BytesIO()
    frame.write_json(buffer)
    write_bytes(path, buffer.getvalue())


def write_ndjson(frame: pl.DataFrame, path: Path, *, compress: bool = False) -> None:
    """Newline-delimited JSON, gzip-compressed (with a zero mtime) when ``compress``."""
    buffer = io.BytesIO()
    frame.write_ndjson(buffer)
    payload = buffer.getvalue()
    if compress:
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
    write_bytes(path, payload)


def write_json(document: Any, path: Path) -> None:
    """A readable JSON document (sorted keys are not used: the order is meaningful)."""
    write_bytes(path, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode())
