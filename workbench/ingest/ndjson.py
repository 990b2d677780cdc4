"""NDJSON with unreadable lines: keep the good lines, set the others aside with the reason.

DuckDB fails a whole NDJSON file on one malformed line (and reports the wrong line), so
when a strict read fails the loader comes here: every line is checked with Python's JSON
parser (a record must be one JSON object, with no duplicate keys and no NaN), the good
lines are copied to a temporary file for DuckDB to read, and the bad ones become
:class:`~workbench.ingest.rejects.Reject` values with their line and record position.
Blank lines are not records.

Lines are read in bounded pieces (:func:`~workbench.ingest.jsonscan.read_lines`): a line
longer than :data:`~workbench.ingest.jsonscan.MAX_RECORD_BYTES` is set aside as
``RECORD TOO LARGE`` (with its first characters) without being held whole, and a record
nested deeper than :data:`~workbench.ingest.jsonscan.MAX_DEPTH` as ``NESTED TOO DEEP``
before Python's parser (which would raise RecursionError) sees it.
"""

from __future__ import annotations

import gzip as gz
import json
import tempfile
from pathlib import Path
from typing import Any

from workbench.ingest.jsonscan import PREVIEW_CHARS, depth_reason, read_lines, size_reason, too_deep
from workbench.ingest.rejects import Reject


class _LineError(ValueError):
    pass


class _TooDeep(ValueError):
    pass


def split_lines(path: Path, *, gzip: bool) -> tuple[Path, list[Reject], int]:
    """Copy the readable lines of ``path`` to a temporary file (the caller deletes it).

    Returns the temporary file, the rejects and the number of records (non-blank lines).
    """
    handle, name = tempfile.mkstemp(suffix=".ndjson", prefix="workbench-")
    out = Path(name)
    rejects: list[Reject] = []
    records = 0
    opener = gz.open if gzip else open
    try:
        with opener(path, "rb") as src, open(handle, "wb") as dst:
            for line in read_lines(src):
                body = line.body
                if body is None:  # longer than MAX_RECORD_BYTES: its first characters only
                    records += 1
                    preview = (
                        line.preview.decode("utf-8", errors="replace")[:PREVIEW_CHARS] + " ..."
                    )
                    reason = size_reason(line.length)
                    rejects.append(
                        _reject(records, line.number, "RECORD TOO LARGE", preview, reason)
                    )
                    continue
                if not body.strip():
                    continue
                records += 1
                try:
                    _check(body)
                except (_LineError, UnicodeDecodeError, ValueError, RecursionError) as exc:
                    raw = body.decode("utf-8", errors="replace")
                    why = depth_reason() if isinstance(exc, RecursionError) else str(exc)
                    rejects.append(_reject(records, line.number, _kind(exc), raw, why))
                    continue
                dst.write(body + b"\n")
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out, rejects, records


def _reject(record: int, line: int, kind: str, raw: str, message: str) -> Reject:
    return Reject(
        row_number=record,
        line=line,
        column_name=None,
        error_type=kind,
        raw_record=raw,
        message=message,
    )


def _kind(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "INVALID ENCODING"
    if isinstance(exc, (_TooDeep, RecursionError)):
        return "NESTED TOO DEEP"
    return "NOT AN OBJECT" if isinstance(exc, _LineError) else "MALFORMED JSON"


def _check(body: bytes) -> None:
    if too_deep(body):
        raise _TooDeep(depth_reason())
    value = json.loads(
        body.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant
    )
    if not isinstance(value, dict):
        kind = _JSON_KINDS.get(type(value), "value")
        raise _LineError(f"the line holds a JSON {kind}, not an object")


_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen.add(key)
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
